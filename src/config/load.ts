import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isScalar, type Document } from 'yaml';
import type { z } from 'zod';
import { DAY_MS, substituteService } from '@grpcforge/runtime/vocabulary';
import { UserError } from '../util/errors.js';
import { toPosix } from '../util/fs.js';
import { closestMatch } from '../util/suggest.js';
import { configSchema, type WrittenConfig } from './schema.js';
import type {
  ConfigLoadResult,
  ConfigProblem,
  ListenAddress,
  ResolvedConfig,
  ResolvedService,
  ResolvedTelemetrySettings,
  ResolvedTlsSettings,
} from './resolved.js';
import { checkConfigRules } from './rules.js';
import { formatKeyPath } from './key-path.js';

// Finding the file needs neither yaml nor the schema: its own module, which `generate` loads before deciding whether
// the config must be loaded at all.
import { CONFIG_FILE_NAME } from './find.js';
export { CONFIG_FILE_NAME, findConfigFile } from './find.js';

/**
 * Reads, validates and normalises a `grpcforge.yaml`: schema → normalise → rules.
 * Never throws for problems in the file: they come back in `errors` (then `config` is `undefined`) and `warnings`,
 * each with its key path, line and column.
 * @throws UserError `config-unreadable` when the file cannot be read.
 */
export async function loadConfig(configPath: string): Promise<ConfigLoadResult> {
  const absolutePath = resolve(configPath);
  let text: string;
  try {
    text = await readFile(absolutePath, 'utf8');
  } catch (error) {
    throw new UserError('config-unreadable', `cannot read ${absolutePath}: ${(error as Error).message}`);
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    // The first syntax error is the one to fix; the parser's later ones are usually its consequences.
    const errors = document.errors.slice(0, 1).map((error): ConfigProblem => {
      const position = lineCounter.linePos(error.pos[0]);
      return {
        path: '',
        segments: [],
        message: `invalid YAML: ${error.message.split('\n')[0] ?? ''}`,
        line: position.line,
        column: position.col,
      };
    });
    return { config: undefined, errors, warnings: [] };
  }
  const locate = createLocator(document, lineCounter);
  const parsed = configSchema.safeParse(document.toJS() ?? {}, { reportInput: true });
  if (!parsed.success) {
    const errors = parsed.error.issues.flatMap((issue) => describeIssue(issue, [])).map(locate);
    return { config: undefined, errors: sortProblems(errors), warnings: [] };
  }
  const config = normaliseConfig(parsed.data, absolutePath);
  const { errors, warnings } = checkConfigRules(config, parsed.data);
  return {
    config: errors.length === 0 ? config : undefined,
    unchecked: config,
    errors: sortProblems(errors.map(locate)),
    warnings: sortProblems(warnings.map(locate)),
  };
}

/**
 * Adds line and column to problems found after loading (for example by the contract-aware rules).
 * @param configPath the `grpcforge.yaml` the problems refer to.
 */
export async function locateConfigProblems(configPath: string, problems: readonly ConfigProblem[]): Promise<ConfigProblem[]> {
  const lineCounter = new LineCounter();
  const document = parseDocument(await readFile(configPath, 'utf8'), { lineCounter });
  return problems.map(createLocator(document, lineCounter));
}

/** Formats one problem as `grpcforge.yaml:LINE:COL: key.path: message`, the path relative to `cwd`. */
export function formatConfigProblem(configPath: string, problem: ConfigProblem, cwd = process.cwd()): string {
  const file = toPosix(relative(cwd, configPath)) || CONFIG_FILE_NAME;
  const where = problem.line !== undefined ? `${file}:${problem.line}:${problem.column ?? 1}` : file;
  return problem.path ? `${where}: ${problem.path}: ${problem.message}` : `${where}: ${problem.message}`;
}

/**
 * Loads a config and throws when it has errors: the convenience every command uses.
 * @throws UserError `config-invalid` with one detail line per problem.
 */
export async function loadConfigOrThrow(configPath: string): Promise<ResolvedConfig> {
  const result = await loadConfig(configPath);
  if (!result.config) {
    const count = result.errors.length;
    throw new UserError(
      'config-invalid',
      `${CONFIG_FILE_NAME} has ${count} error${count === 1 ? '' : 's'}`,
      result.errors.map((problem) => formatConfigProblem(configPath, problem)),
    );
  }
  return result.config;
}

function normaliseConfig(written: WrittenConfig, configPath: string): ResolvedConfig {
  const workspaceDir = dirname(configPath);
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(workspaceDir, path));
  const providers = new Map<string, string>();
  for (const [name, service] of Object.entries(written.services)) {
    for (const fullName of service.serves) if (!providers.has(fullName)) providers.set(fullName, name);
  }
  const tlsFiles = written.tls ? resolveTls(written.tls, absolute) : undefined;
  const services = Object.entries(written.services)
    .map(([name, service]): ResolvedService => {
      const dir = absolute(service.dir ?? `services/${name}`);
      const ownTlsFiles = tlsFiles && tlsOfService(tlsFiles, name);
      return {
        name,
        dir,
        tls: written.tls?.enabled ? ownTlsFiles : undefined,
        tlsFiles: ownTlsFiles,
        dirRelative: toPosix(relative(workspaceDir, dir)),
        serves: [...new Set(service.serves)],
        listen: service.listen === undefined ? undefined : parseListen(service.listen),
        consumes: service.consumes
          .map(
            (entry) =>
              (typeof entry === 'string' ? { service: entry } : entry) as Exclude<typeof entry, string> & { service: string },
          )
          .map((entry, index) => {
            const provider = providers.get(entry.service);
            const providerListen = provider ? written.services[provider]?.listen : undefined;
            return {
              service: entry.service,
              target: entry.target ?? providerListen ?? '',
              deadlineMs: entry.deadlineMs,
              methodDeadlinesMs: Object.fromEntries(
                Object.entries(entry.methods ?? {}).map(([rpc, settings]) => [rpc, settings.deadlineMs]),
              ),
              credentials: entry.credentials,
              tls: entry.tls ?? false,
              retry: entry.retry,
              provider,
              index,
            };
          }),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  return {
    configPath,
    workspaceDir,
    contract: { root: absolute(written.contract.root), template: absolute(written.contract.template) },
    services,
    server: { ...written.server },
    codegen: { annotateVersion: written.codegen.annotateVersion },
    auth: {
      default: written.auth.default,
      methods: written.auth.methods,
      apiKeys: written.auth.apiKeys,
      mtls: written.auth.mtls
        ? { roles: written.auth.mtls.roles, allowCommonName: written.auth.mtls.allowCommonName }
        : undefined,
      jwt: written.auth.jwt
        ? {
            ...written.auth.jwt,
            ...(written.auth.jwt.publicKey !== undefined ? { publicKey: absolute(written.auth.jwt.publicKey) } : {}),
          }
        : undefined,
      throttle: written.auth.throttle,
    },
    tls: written.tls?.enabled ? tlsFiles : undefined,
    tlsFiles,
    telemetry: written.telemetry?.enabled ? resolveTelemetry(written.telemetry) : undefined,
    logStore: {
      enabled: written.logStore.enabled,
      url: resolveStoreUrl(written.logStore.url, absolute),
      retentionMs: written.logStore.retentionDays === undefined ? undefined : written.logStore.retentionDays * DAY_MS,
      postgres: written.logStore.postgres ?? { poolSize: 4, statementTimeoutMs: 30_000 },
    },
  };
}

function resolveTls(tls: NonNullable<WrittenConfig['tls']>, absolute: (path: string) => string): ResolvedTlsSettings {
  return {
    ca: tls.ca === undefined ? undefined : absolute(tls.ca),
    cert: absolute(tls.cert),
    key: absolute(tls.key),
    requireClientCert: tls.requireClientCert,
  };
}

/** One service's TLS files: `${SERVICE}` replaced by its name, once, here. */
function tlsOfService(tls: ResolvedTlsSettings, serviceName: string): ResolvedTlsSettings {
  return {
    ...tls,
    ca: tls.ca === undefined ? undefined : substituteService(tls.ca, serviceName),
    cert: substituteService(tls.cert, serviceName),
    key: substituteService(tls.key, serviceName),
  };
}

function resolveTelemetry(telemetry: NonNullable<WrittenConfig['telemetry']>): ResolvedTelemetrySettings {
  return {
    serviceName: telemetry.serviceName,
    otlp: telemetry.otlp ? { ...telemetry.otlp, endpoint: telemetry.otlp.endpoint.replace(/\/+$/, '') } : undefined,
    traces: telemetry.traces,
    metrics: telemetry.metrics,
    prometheus: telemetry.prometheus
      ? {
          listen: parseListen(telemetry.prometheus.listen),
          services: Object.fromEntries(
            Object.entries(telemetry.prometheus.services).map(([name, listen]) => [name, parseListen(listen)]),
          ),
        }
      : undefined,
  };
}

function resolveStoreUrl(url: string, absolute: (path: string) => string): string {
  if (!url.startsWith('sqlite:') || url === 'sqlite::memory:') return url;
  return `sqlite:${absolute(url.slice('sqlite:'.length))}`;
}

function parseListen(listen: string): ListenAddress {
  const separator = listen.lastIndexOf(':');
  const host = listen.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(listen.slice(separator + 1)) };
}

type Issue = z.core.$ZodIssue;

/** Turns one zod issue into problems that say where, what, and what was expected. */
function describeIssue(issue: Issue, prefix: readonly PropertyKey[]): ConfigProblem[] {
  const segments = [...prefix, ...issue.path] as (string | number)[];
  const problem = (message: string, at = segments): ConfigProblem => ({ path: formatKeyPath(at), segments: at, message });
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type':
      return [
        input === undefined
          ? problem(`is required (expected ${issue.expected})`)
          : problem(`expected ${issue.expected}, got ${describeValue(input)}`),
      ];
    case 'invalid_format':
      return [problem(`${describeValue(input)} is not valid: ${issue.message}`)];
    case 'invalid_value':
      if (input === undefined)
        return [problem(`is required (expected ${issue.values.map((value) => JSON.stringify(value)).join(' or ')})`)];
      return [
        problem(`expected ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}, got ${describeValue(input)}`),
      ];
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const known = knownKeysAt(segments);
        const hint = closestMatch(key, known);
        return problem(`unknown key "${key}" (expected one of: ${known.join(', ')})${hint ? `; did you mean "${hint}"?` : ''}`, [
          ...segments,
          key,
        ]);
      });
    case 'invalid_key': {
      const key = segments[segments.length - 1];
      const inner = issue.issues[0];
      return [problem(`${JSON.stringify(String(key))} is not valid: ${inner?.message ?? issue.message}`)];
    }
    case 'invalid_union': {
      // When the value is an object, the object branch's errors say more than "expected one of".
      if (input !== null && typeof input === 'object') {
        const objectBranch = issue.errors.find((branch) => !branch.some((inner) => inner.path.length === 0));
        if (objectBranch) return objectBranch.flatMap((inner) => describeIssue(inner, segments));
      }
      return [problem(`${issue.message}, got ${describeValue(input)}`)];
    }
    default:
      return [problem(`${issue.message}${input === undefined ? '' : `, got ${describeValue(input)}`}`)];
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return JSON.stringify(value);
}

/** The keys the schema allows at a path, for "unknown key" hints. */
function knownKeysAt(segments: readonly PropertyKey[]): string[] {
  let schema = unwrap(configSchema as unknown as ZodNode);
  for (const segment of segments) {
    const def = schema._zod.def;
    if (def.type === 'object' && def.shape) schema = unwrap(def.shape[String(segment)] ?? schema);
    else if (def.type === 'record' && def.valueType) schema = unwrap(def.valueType);
    else if (def.type === 'array' && def.element) schema = unwrap(def.element);
  }
  const shape = schema._zod.def.shape ?? schema._zod.def.options?.find((option) => option._zod.def.shape)?._zod.def.shape;
  return shape ? Object.keys(shape) : [];
}

interface ZodNode {
  _zod: {
    def: {
      type: string;
      shape?: Record<string, ZodNode>;
      innerType?: ZodNode;
      valueType?: ZodNode;
      element?: ZodNode;
      options?: ZodNode[];
      /** The output side of a pipe (a preprocess step). */
      out?: ZodNode;
    };
  };
}

function unwrap(node: ZodNode): ZodNode {
  let current = node;
  // Defaults and optionals wrap their inner type; a preprocess step (services:) is a pipe into the real schema.
  for (;;) {
    const def = current._zod.def;
    const next = def.innerType ?? (def.type === 'pipe' ? def.out : undefined);
    if (!next) break;
    current = next;
  }
  if (current._zod.def.type === 'union') {
    const objectOption = current._zod.def.options?.find((option) => option._zod.def.type === 'object');
    if (objectOption) return objectOption;
  }
  return current;
}

/** Finds the YAML node of a key path (the deepest one that exists) and returns its position. */
function createLocator(document: Document, lineCounter: LineCounter) {
  return (problem: ConfigProblem): ConfigProblem => {
    for (let length = problem.segments.length; length >= 0; length--) {
      const path = problem.segments.slice(0, length);
      const parentPath = path.slice(0, -1);
      const parent = length === 0 ? document.contents : document.getIn(parentPath, true);
      let offset: number | undefined;
      if (length === 0) {
        offset = (document.contents as { range?: [number] } | null)?.range?.[0];
      } else if (isMap(parent)) {
        // Point at the key, which is where people look for "services.user.listn".
        const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === path[length - 1]);
        offset = (pair?.key as { range?: [number] } | undefined)?.range?.[0];
      } else {
        offset = (document.getIn(path, true) as { range?: [number] } | undefined)?.range?.[0];
      }
      if (offset !== undefined) {
        const position = lineCounter.linePos(offset);
        return { ...problem, line: position.line, column: position.col };
      }
    }
    return problem;
  };
}

function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}
