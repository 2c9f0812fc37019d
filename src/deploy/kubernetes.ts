import { stringify } from 'yaml';
import { filesOf, type DeployFile, type DeployModel, type DeployOptions, type DeployService } from './deploy-model.js';
import { healthProbeCommand } from './dockerfile.js';
import { LISTEN_ENV, OTLP_ENDPOINT_ENV } from './runtime-env.js';

/** Name of the Secret every Deployment reads its secret variables from (created with kubectl, never written). */
export const KUBERNETES_SECRET = 'grpcforge-secrets';

/** Name of the Secret that holds the key files (TLS, JWT public key), one key per file (created with kubectl). */
export const FILES_SECRET = 'grpcforge-files';

/** Mode of the mounted key files: read by owner and group (fsGroup, user node's group), nobody else. */
const FILE_MODE = 0o440;

/** Resources of every container (a kustomize overlay changes them): a Node gRPC service at rest, room for bursts. */
export const DEFAULT_RESOURCES = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { cpu: '1', memory: '512Mi' },
} as const;

/** The `uid`/`gid` of user `node` in the official Node images. */
const NODE_UID = 1000;

/** One Kubernetes file: a name below `kubernetes/` and its documents. */
export interface KubernetesFile {
  readonly name: string;
  /** The service it belongs to; `''` for shared files. */
  readonly service: string;
  /** Comment lines above the documents (without `#`). */
  readonly comments: readonly string[];
  readonly documents: readonly Record<string, unknown>[];
}

/** The DNS name other pods dial: the short name, or `<svc>.<namespace>` when a namespace is given. */
function dnsName(service: string, options: DeployOptions): string {
  return options.namespace ? `${service}.${options.namespace}` : service;
}

/** ` -n <namespace>` when a namespace is given. */
function namespaceFlag(options: DeployOptions): string {
  return options.namespace ? ` -n ${options.namespace}` : '';
}

/** Every secret variable of the services, sorted. */
function secretVariables(model: DeployModel): string[] {
  return [...new Set(model.services.flatMap((service) => service.secrets))].sort();
}

/** The `kubectl create secret generic` line of {@link KUBERNETES_SECRET}, with placeholder values. */
export function secretsCommand(model: DeployModel, options: DeployOptions): string {
  const literals = secretVariables(model).map((name) => `--from-literal=${name}=...`);
  return `kubectl create secret generic ${KUBERNETES_SECRET}${namespaceFlag(options)} ${literals.join(' ')}`;
}

/** The `kubectl create secret generic` line of {@link FILES_SECRET}, run from the workspace root. */
export function filesSecretCommand(model: DeployModel, options: DeployOptions): string {
  const files = [...new Map(model.files.map((file) => [file.key, file])).values()];
  return `kubectl create secret generic ${FILES_SECRET}${namespaceFlag(options)} ${files.map((file) => `--from-file=${file.key}=${file.source}`).join(' ')}`;
}

/**
 * What must exist before the manifests apply, one line each for the warnings: the Secrets of the secret variables and
 * of the key files, with the commands that create them (their values are never written to a file).
 */
export function kubernetesNotes(model: DeployModel, options: DeployOptions): string[] {
  const secrets = secretVariables(model);
  const uses = [...new Set(model.files.map((file) => file.use))].join(' and ');
  return [
    ...(secrets.length > 0
      ? [
          `the Deployments read ${secrets.join(', ')} from the Secret "${KUBERNETES_SECRET}": create it before applying: ${secretsCommand(model, options)}`,
        ]
      : []),
    ...(model.files.length > 0
      ? [
          `${uses}: the Deployments mount the key files from the Secret "${FILES_SECRET}" (the images hold none); ` +
            `create it from the workspace root: ${filesSecretCommand(model, options)}`,
        ]
      : []),
  ];
}

/**
 * The Kubernetes manifests: per service a ConfigMap (non-secret environment), a headless Service and a Deployment
 * with gRPC probes, reading the Secrets {@link KUBERNETES_SECRET} and {@link FILES_SECRET} that `kubectl create
 * secret` makes (the header comment gives the commands): no file holds a secret value.
 */
export function planKubernetesFiles(model: DeployModel, options: DeployOptions): KubernetesFile[] {
  return model.services.map((service) => ({
    name: `${service.name}.yaml`,
    service: service.name,
    comments: [
      `The ${service.name} service: ConfigMap (environment), headless Service, Deployment.`,
      ...(service.secrets.length > 0
        ? [
            `Reads its secret variables from the Secret ${KUBERNETES_SECRET}; create it first:`,
            `  ${secretsCommand(model, options)}`,
          ]
        : []),
      ...(filesOf(model, service.name).length > 0
        ? [
            `Mounts its key files from the Secret ${FILES_SECRET}; create it first, from the workspace root:`,
            `  ${filesSecretCommand(model, options)}`,
          ]
        : []),
      'Change resources, replicas or the ConfigMap with a kustomize overlay (a patch), not here: deploy rewrites this file.',
    ],
    documents: [configMap(model, service, options), headlessService(service, options), deployment(model, service, options)],
  }));
}

function metadata(name: string, options: DeployOptions, labels?: Record<string, string>): Record<string, unknown> {
  return { name, ...(options.namespace ? { namespace: options.namespace } : {}), ...(labels ? { labels } : {}) };
}

function labels(service: DeployService): Record<string, string> {
  return { 'app.kubernetes.io/name': service.name, 'app.kubernetes.io/part-of': 'grpcforge' };
}

function configMap(model: DeployModel, service: DeployService, options: DeployOptions): Record<string, unknown> {
  const data: Record<string, string> = { [LISTEN_ENV]: `0.0.0.0:${service.port}` };
  for (const target of service.targets) {
    const provider = model.services.find((entry) => entry.name === target.provider);
    data[target.variable] = `dns:///${dnsName(target.provider, options)}:${provider?.port ?? 0}`;
  }
  if (model.otlp) data[OTLP_ENDPOINT_ENV] = model.otlp.endpoint;
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata(`${service.name}-env`, options, labels(service)), data };
}

function headlessService(service: DeployService, options: DeployOptions): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(service.name, options, labels(service)),
    spec: {
      // Headless: DNS answers every ready pod, so dns:/// clients spread calls over them (a ClusterIP would pin each
      // connection to one pod); the servers' maxConnectionAgeMs makes clients re-resolve.
      clusterIP: 'None',
      selector: { 'app.kubernetes.io/name': service.name },
      ports: [{ name: 'grpc', port: service.port, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' }],
    },
  };
}

function probe(model: DeployModel, service: DeployService, kind: 'readiness' | 'liveness'): Record<string, unknown> {
  const timing =
    kind === 'readiness'
      ? { periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2 }
      : { initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 };
  // Native gRPC probes speak plaintext only: with TLS the runtime's probe command runs in the container.
  if (!model.health) return { tcpSocket: { port: 'grpc' }, ...timing };
  if (model.tls) return { exec: { command: healthProbeCommand(service) }, ...timing };
  return { grpc: { port: service.port, service: '' }, ...timing };
}

function deployment(model: DeployModel, service: DeployService, options: DeployOptions): Record<string, unknown> {
  const env = service.secrets.map((name) => ({ name, valueFrom: { secretKeyRef: { name: KUBERNETES_SECRET, key: name } } }));
  const files = filesOf(model, service.name);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(service.name, options, labels(service)),
    spec: {
      // A SQLite store is a file per pod: one replica.
      replicas: model.store.kind === 'sqlite' ? 1 : 2,
      selector: { matchLabels: { 'app.kubernetes.io/name': service.name } },
      template: {
        metadata: { labels: labels(service) },
        spec: {
          terminationGracePeriodSeconds: model.stopGraceSeconds,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: NODE_UID,
            runAsGroup: NODE_UID,
            fsGroup: NODE_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: service.name,
              image: `${options.imagePrefix}${service.name}:latest`,
              ports: [{ name: 'grpc', containerPort: service.port, protocol: 'TCP' }],
              envFrom: [{ configMapRef: { name: `${service.name}-env` } }],
              ...(env.length > 0 ? { env } : {}),
              readinessProbe: probe(model, service, 'readiness'),
              livenessProbe: probe(model, service, 'liveness'),
              resources: DEFAULT_RESOURCES,
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              ...(files.length > 0 ? { volumeMounts: files.map(fileMount) } : {}),
            },
          ],
          ...(files.length > 0 ? { volumes: [filesVolume(files)] } : {}),
        },
      },
    },
  };
}

/** The Secret volume of a service's key files: only its own keys, each at its path relative to the image's root. */
function filesVolume(files: readonly DeployFile[]): Record<string, unknown> {
  return {
    name: FILES_SECRET,
    secret: {
      secretName: FILES_SECRET,
      defaultMode: FILE_MODE,
      items: files.map((file) => ({ key: file.key, path: file.relativeTarget })),
    },
  };
}

/** One file of the Secret volume at the path the manifest and the probe read (a subPath: the folder keeps the rest). */
function fileMount(file: DeployFile): Record<string, unknown> {
  return { name: FILES_SECRET, mountPath: file.target, subPath: file.relativeTarget, readOnly: true };
}

/** A file's documents as multi-document YAML (without the header). */
export function renderKubernetesFile(file: KubernetesFile): string {
  const comments = file.comments.map((line) => `${`# ${line}`.trimEnd()}\n`);
  return [...comments, ...file.documents.map((document) => `---\n${stringify(document, { lineWidth: 0 })}`)].join('');
}
