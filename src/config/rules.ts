import { EnvReferenceError, parseEnvReferences } from '@grpcforge/runtime/vocabulary';
import { closestMatch } from '../util/suggest.js';
import { checkAuthMethodKeys } from './auth-methods.js';
import { formatKeyPath } from './key-path.js';
import type { ConfigProblem, ResolvedConfig } from './resolved.js';
import type { WrittenConfig } from './schema.js';

/** Problems found by the rules, split by severity. */
export interface RuleResult {
  readonly errors: ConfigProblem[];
  readonly warnings: ConfigProblem[];
}

function problem(segments: (string | number)[], message: string, rule?: string): ConfigProblem {
  return { path: formatKeyPath(segments), segments, message, ...(rule ? { rule } : {}) };
}

/**
 * Cross-field rules that need only the file itself:
 * - `one-provider`: a service is served by at most one workspace service;
 * - `listen-required`: a service that serves something has a `listen` address;
 * - `distinct-listen`: two services do not bind the same fixed address;
 * - `distinct-dirs`: two services do not share a folder;
 * - `consumed-has-target`: a consumed service served outside the workspace has a `target`;
 * - `telemetry-service`, `telemetry-port`: `telemetry.prometheus.services` names workspace services and no Prometheus
 *   address is a gRPC one or another service's;
 * - `env-reference`: every `${` in a value read from the environment (targets, `logStore.url`, OTLP header values)
 *   starts a well-formed `${VAR}` or `${VAR:-default}`.
 */
export function checkConfigRules(config: ResolvedConfig, written: WrittenConfig): RuleResult {
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const servedBy = new Map<string, string>();
  const listens = new Map<string, string>();
  const dirs = new Map<string, string>();
  for (const service of config.services) {
    service.serves.forEach((fullName, index) => {
      const other = servedBy.get(fullName);
      if (other) {
        errors.push(
          problem(
            ['services', service.name, 'serves', index],
            `"${fullName}" is already served by service "${other}"`,
            'one-provider',
          ),
        );
      } else servedBy.set(fullName, service.name);
    });
    if (service.serves.length > 0 && service.listen === undefined) {
      errors.push(problem(['services', service.name], 'serves a service but has no "listen" address (expected HOST:PORT)'));
    }
    if (service.listen && service.listen.port !== 0) {
      const key = `${service.listen.host}:${service.listen.port}`;
      const other = listens.get(key);
      if (other) errors.push(problem(['services', service.name, 'listen'], `"${key}" is also the address of "${other}"`));
      else listens.set(key, service.name);
    }
    const otherDir = dirs.get(service.dir);
    if (otherDir) {
      errors.push(problem(['services', service.name, 'dir'], `"${service.dirRelative}" is also the folder of "${otherDir}"`));
    } else dirs.set(service.dir, service.name);
    if (service.serves.length === 0 && (written.services[service.name]?.consumes.length ?? 0) === 0) {
      warnings.push(problem(['services', service.name], 'neither serves nor consumes anything'));
    }
  }
  for (const service of config.services) {
    for (const consume of service.consumes) {
      const at = ['services', service.name, 'consumes', consume.index];
      if (consume.tls && !written.tls) {
        errors.push(problem([...at, 'tls'], "needs the workspace tls section (its ca, and this service's cert and key)"));
      }
      if (consume.provider === service.name) {
        warnings.push(problem(at, `"${consume.service}" is served by "${service.name}" itself`));
      }
      if (!consume.provider && consume.target === '') {
        const close = closestMatch(consume.service, [...servedBy.keys()]);
        if (close) {
          errors.push(
            problem(
              at,
              `"${consume.service}" is not served in the workspace (did you mean "${close}", served by "${servedBy.get(close) ?? ''}"?)`,
              'consumed-has-provider',
            ),
          );
          continue;
        }
        errors.push(
          problem(
            [...at, 'target'],
            `is required because no service in the workspace serves "${consume.service}" (expected a gRPC target such as "dns:///billing:50051")`,
            'consumed-has-provider',
          ),
        );
      }
    }
  }
  if (written.tls?.enabled && written.tls.requireClientCert && written.tls.ca === undefined) {
    errors.push(problem(['tls', 'requireClientCert'], 'needs tls.ca, the CA that signs client certificates'));
  }
  if (written.auth.mtls && written.tls?.enabled && !written.tls.requireClientCert) {
    warnings.push(
      problem(['auth', 'mtls'], 'has no effect without tls.requireClientCert: true (clients are not asked for certificates)'),
    );
  }
  const jwt = written.auth.jwt;
  if (jwt) {
    const sources = [jwt.secretEnv, jwt.publicKey, jwt.jwksUrl].filter((source) => source !== undefined);
    if (sources.length !== 1) {
      errors.push(problem(['auth', 'jwt'], `expected exactly one of secretEnv, publicKey, jwksUrl (got ${sources.length})`));
    }
    if (jwt.algorithms?.some((alg) => alg.toLowerCase() === 'none')) {
      errors.push(problem(['auth', 'jwt', 'algorithms'], '"none" is never allowed'));
    }
  }
  checkTelemetry(config, listens, errors, warnings);
  checkEnvReferences(config, errors);
  return { errors, warnings };
}

/** Rule `env-reference`: the values expanded from the environment hold no malformed reference. */
function checkEnvReferences(config: ResolvedConfig, errors: ConfigProblem[]): void {
  // A store URL or a header value may hold a secret, which the malformed part runs on into: its message does not quote it.
  const check = (segments: (string | number)[], value: string, mayHoldSecret = false) => {
    try {
      parseEnvReferences(value);
    } catch (error) {
      if (!(error instanceof EnvReferenceError)) throw error;
      errors.push(problem(segments, mayHoldSecret ? error.redactedMessage : error.message, 'env-reference'));
    }
  };
  for (const service of config.services) {
    for (const consume of service.consumes) {
      check(['services', service.name, 'consumes', consume.index, 'target'], consume.target);
    }
  }
  check(['logStore', 'url'], config.logStore.url, true);
  for (const [name, value] of Object.entries(config.telemetry?.otlp?.headers ?? {})) {
    check(['telemetry', 'otlp', 'headers', name], value, true);
  }
}

/**
 * Rules of the telemetry section: `prometheus.services` names workspace services, no Prometheus address is a gRPC
 * listen address or another service's, and the section exports something.
 */
function checkTelemetry(
  config: ResolvedConfig,
  listens: ReadonlyMap<string, string>,
  errors: ConfigProblem[],
  warnings: ConfigProblem[],
): void {
  const telemetry = config.telemetry;
  if (!telemetry) return;
  if (!telemetry.otlp && !telemetry.prometheus) {
    warnings.push(problem(['telemetry'], 'exports nothing: add otlp (an OTLP endpoint, over HTTP or gRPC) or prometheus'));
  }
  const prometheus = telemetry.prometheus;
  if (!prometheus) return;
  if (!telemetry.metrics) {
    warnings.push(problem(['telemetry', 'prometheus'], 'has no effect with metrics: false'));
  }
  const names = config.services.map((service) => service.name);
  const used = new Map<string, string>();
  const claim = (segments: (string | number)[], address: { host: string; port: number }, owner: string) => {
    if (address.port === 0) return;
    const key = `${address.host}:${address.port}`;
    const grpc = listens.get(key);
    if (grpc) errors.push(problem(segments, `"${key}" is the gRPC address of "${grpc}"`, 'telemetry-port'));
    const other = used.get(key);
    if (other && other !== owner) {
      errors.push(problem(segments, `"${key}" is also the Prometheus address of "${other}"`, 'telemetry-port'));
    } else used.set(key, owner);
  };
  for (const [name, address] of Object.entries(prometheus.services)) {
    if (!names.includes(name)) {
      const close = closestMatch(name, names);
      errors.push(
        problem(
          ['telemetry', 'prometheus', 'services', name],
          `"${name}" is not a service of the workspace${close ? ` (did you mean "${close}"?)` : ''}`,
          'telemetry-service',
        ),
      );
      continue;
    }
    claim(['telemetry', 'prometheus', 'services', name], address, name);
  }
  // The shared address is that of every serving service without one of its own: like two gRPC addresses, two of
  // them clash on one host (grpcforge dev runs them all).
  const sharing = config.services
    .filter((service) => service.serves.length > 0 && !(service.name in prometheus.services))
    .map((service) => service.name);
  if (sharing.length > 1 && prometheus.listen.port !== 0) {
    errors.push(
      problem(
        ['telemetry', 'prometheus', 'listen'],
        `would be the Prometheus address of ${sharing.map((name) => `"${name}"`).join(', ')}: give each its own under ` +
          'telemetry.prometheus.services, or port 0',
        'telemetry-port',
      ),
    );
  } else if (sharing.length === 1) claim(['telemetry', 'prometheus', 'listen'], prometheus.listen, sharing[0]!);
}

/**
 * Rule `names-exist`: every served and consumed service exists in the contracts, and so does every RPC named under
 * `consumes[].methods` and every service and RPC of an `auth.methods` key ({@link checkAuthMethodKeys}).
 * @param knownServices fully-qualified names of every service the contracts declare.
 * @param contractRoot the contract folder as the user wrote it, for the message (for example `proto/`).
 * @param rpcsOf the RPC names of a service, to check `consumes[].methods` and `auth.methods`; skipped when omitted.
 */
export function checkServiceNamesExist(
  config: ResolvedConfig,
  knownServices: readonly string[],
  contractRoot: string,
  rpcsOf?: (service: string) => readonly string[],
): ConfigProblem[] {
  const known = new Set(knownServices);
  const sortedKnown = [...knownServices].sort();
  const hint = (name: string) => {
    const close = closestMatch(name, sortedKnown);
    if (close) return ` (did you mean "${close}"?)`;
    const listed = sortedKnown.slice(0, 8).join(', ');
    return sortedKnown.length === 0
      ? ' (the contracts declare no service)'
      : ` (known: ${listed}${sortedKnown.length > 8 ? ', …' : ''})`;
  };
  const problems: ConfigProblem[] = [];
  for (const service of config.services) {
    service.serves.forEach((name, index) => {
      if (!known.has(name)) {
        problems.push(
          problem(['services', service.name, 'serves', index], `"${name}" is not a service in ${contractRoot}${hint(name)}`),
        );
      }
    });
    for (const consume of service.consumes) {
      if (!known.has(consume.service)) {
        problems.push(
          problem(
            ['services', service.name, 'consumes', consume.index],
            `"${consume.service}" is not a service in ${contractRoot}${hint(consume.service)}`,
          ),
        );
        continue;
      }
      const rpcs = rpcsOf?.(consume.service);
      for (const rpc of rpcs ? Object.keys(consume.methodDeadlinesMs) : []) {
        if (rpcs!.includes(rpc)) continue;
        const close = closestMatch(rpc, rpcs!);
        problems.push(
          problem(
            ['services', service.name, 'consumes', consume.index, 'methods', rpc],
            `"${rpc}" is not an RPC of ${consume.service} (${close ? `did you mean "${close}"?` : `RPCs: ${rpcs!.join(', ')}`})`,
          ),
        );
      }
    }
  }
  const knownWithRpcs = knownServices.map((fullName) => (rpcsOf ? { fullName, methods: rpcsOf(fullName) } : { fullName }));
  problems.push(...checkAuthMethodKeys(config.auth.methods, knownWithRpcs, { source: `in ${contractRoot}` }));
  return problems;
}
