import { stringify } from 'yaml';
import type { DeployModel, DeployOptions, DeployService } from './deploy-model.js';
import { healthProbeCommand } from './dockerfile.js';

/** Name of the Secret every Deployment reads its secret variables from. */
export const KUBERNETES_SECRET = 'grpcforge-secrets';

/** Resources of every container unless edited: enough for a Node gRPC service at rest, with room for bursts. */
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

/**
 * The Kubernetes manifests: per service a ConfigMap (non-secret environment), a headless Service and a Deployment
 * with gRPC probes; and one Secret listing every secret variable with empty values.
 */
export function planKubernetesFiles(model: DeployModel, options: DeployOptions): KubernetesFile[] {
  const files: KubernetesFile[] = model.services.map((service) => ({
    name: `${service.name}.yaml`,
    service: service.name,
    comments: [`The ${service.name} service: ConfigMap (environment), headless Service, Deployment.`],
    documents: [configMap(model, service, options), headlessService(service, options), deployment(model, service, options)],
  }));
  const secrets = [...new Set(model.services.flatMap((service) => service.secrets))].sort();
  if (secrets.length > 0) {
    files.push({
      name: 'secret.yaml',
      service: '',
      comments: [
        'The secret variables the services read, with empty values: fill them in before you apply this file (and do',
        'not commit the values), or create the Secret yourself and leave this file out:',
        `  kubectl create secret generic ${KUBERNETES_SECRET} ${secrets.map((name) => `--from-literal=${name}=...`).join(' ')}`,
        'Applying this file again resets the values to empty.',
      ],
      documents: [
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: metadata(KUBERNETES_SECRET, options),
          type: 'Opaque',
          stringData: Object.fromEntries(secrets.map((name) => [name, ''])),
        },
      ],
    });
  }
  return files;
}

function metadata(name: string, options: DeployOptions, labels?: Record<string, string>): Record<string, unknown> {
  return { name, ...(options.namespace ? { namespace: options.namespace } : {}), ...(labels ? { labels } : {}) };
}

function labels(service: DeployService): Record<string, string> {
  return { 'app.kubernetes.io/name': service.name, 'app.kubernetes.io/part-of': 'grpcforge' };
}

function configMap(model: DeployModel, service: DeployService, options: DeployOptions): Record<string, unknown> {
  const data: Record<string, string> = { GRPCFORGE_LISTEN: `0.0.0.0:${service.port}` };
  for (const target of service.targets) {
    const provider = model.services.find((entry) => entry.name === target.provider);
    data[target.variable] = `dns:///${dnsName(target.provider, options)}:${provider?.port ?? 0}`;
  }
  if (model.otlp) {
    data.OTEL_EXPORTER_OTLP_ENDPOINT = model.otlp.endpoint;
    data.OTEL_SERVICE_NAME = model.otlp.serviceName ?? service.name;
  }
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
  if (model.tls) return { exec: { command: healthProbeCommand(model, service) }, ...timing };
  return { grpc: { port: service.port, service: '' }, ...timing };
}

function deployment(model: DeployModel, service: DeployService, options: DeployOptions): Record<string, unknown> {
  const env = service.secrets.map((name) => ({ name, valueFrom: { secretKeyRef: { name: KUBERNETES_SECRET, key: name } } }));
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
            },
          ],
        },
      },
    },
  };
}

/** A file's documents as multi-document YAML (without the header). */
export function renderKubernetesFile(file: KubernetesFile): string {
  const comments = file.comments.map((line) => `${`# ${line}`.trimEnd()}\n`);
  return [...comments, ...file.documents.map((document) => `---\n${stringify(document, { lineWidth: 0 })}`)].join('');
}
