import { generatedStubModulePath, parseEnvReferences, wholeEnvReference } from '@grpcforge/runtime/vocabulary';
import type { ResolvedConsume } from '../../../config/resolved.js';
import type { ContractService } from '../../../contract/model.js';
import { methodLocalName, tsProtoServiceNames } from '../../../contract/names.js';
import { runtimeImport, type CodegenRuntimeValue } from '../../runtime-symbols.js';
import { commentLines, importSpecifier, lowerFirst, stringLiteral, wrapText, type HeaderView } from './common.js';

/** Path of a consumed service's client factory, relative to the service folder. */
export function clientPath(service: ContractService): string {
  return `src/gen/clients/${service.fullName}.ts`;
}

/** Path of a consumed service's test stub, relative to the service folder. */
export function stubPath(service: ContractService): string {
  return generatedStubModulePath(service.fullName);
}

/** The consuming service's TLS paths (workspace-relative, `${SERVICE}` replaced), when it dials with TLS. */
export interface ClientTlsPaths {
  readonly ca: string | undefined;
  readonly cert: string;
  readonly key: string;
}

/** What a consumed service's settings become in its generated client, computed once for its view. */
interface ClientSettings {
  readonly target: EnvExpression;
  /** The credentials are `fromEnv(...)` reads. */
  readonly credentialsFromEnv: boolean;
}

/**
 * The client's defaults as TypeScript object-literal lines: the target and secrets as `fromEnv(...)` reads where
 * grpcforge.yaml names variables (read when the client is created); TLS paths relative to the workspace (where
 * `serve` runs).
 */
function defaultsLines(
  service: ContractService,
  consume: ResolvedConsume,
  settings: ClientSettings,
  tls: ClientTlsPaths | undefined,
): string[] {
  const { target } = settings;
  const lines = [...(target.comment ? [`// ${target.comment}`] : []), `target: ${target.code},`];
  if (consume.deadlineMs !== undefined) lines.push(`deadlineMs: ${consume.deadlineMs},`);
  const perMethod = service.methods.flatMap((method) => {
    const ms = consume.methodDeadlinesMs[method.name];
    return ms === undefined ? [] : [`${methodLocalName(method)}: ${ms}`];
  });
  if (perMethod.length > 0) lines.push(`methodDeadlinesMs: { ${perMethod.join(', ')} },`);
  const credentials = [
    ...(consume.credentials?.apiKeyEnv ? [`apiKey: fromEnv(${stringLiteral(consume.credentials.apiKeyEnv)})`] : []),
    ...(consume.credentials?.bearerTokenEnv
      ? [`bearerToken: fromEnv(${stringLiteral(consume.credentials.bearerTokenEnv)})`]
      : []),
  ];
  if (credentials.length > 0)
    lines.push('// sent on every call when the variable is set', `callCredentials: { ${credentials.join(', ')} },`);
  if (consume.tls && tls) {
    const parts = [
      ...(tls.ca ? [`ca: ${stringLiteral(tls.ca)}`] : []),
      `cert: ${stringLiteral(tls.cert)}`,
      `key: ${stringLiteral(tls.key)}`,
    ];
    lines.push(`tls: { ${parts.join(', ')} },`);
  }
  if (consume.retry === false) lines.push('retry: false,');
  else if (consume.retry) {
    const parts = Object.entries(consume.retry).flatMap(([key, value]) => (value === undefined ? [] : [`${key}: ${value}`]));
    lines.push(`retry: { ${parts.join(', ')} },`);
  }
  return lines;
}

/** A grpcforge.yaml value as generated TypeScript. */
interface EnvExpression {
  /** A literal, `fromEnv(...)` or `fromEnvTemplate(...)`. */
  readonly code: string;
  /** The runtime helper `code` calls, if any. */
  readonly helper?: CodegenRuntimeValue;
  /** What it reads, for a comment above it. */
  readonly comment?: string;
  /** It names a variable without a default, so creating a client can fail. */
  readonly mayBeUnset: boolean;
}

/**
 * A grpcforge.yaml value with `${VAR:-default}` references as an {@link EnvExpression}, read by the vocabulary's
 * parser (the one `expandTarget` expands with at run time).
 * @throws EnvReferenceError for a malformed reference (config resolution reports those first).
 */
function envExpression(value: string): EnvExpression {
  const whole = wholeEnvReference(value);
  if (whole) {
    const { name, fallback } = whole;
    if (fallback === undefined) {
      return {
        code: `fromEnv(${stringLiteral(name)})`,
        helper: 'fromEnv',
        comment: `$${name} (read when a client is created)`,
        mayBeUnset: true,
      };
    }
    const comment = `$${name} when set, else ${fallback} (read when a client is created)`;
    return { code: `fromEnv(${stringLiteral(name)}, ${stringLiteral(fallback)})`, helper: 'fromEnv', comment, mayBeUnset: false };
  }
  const references = parseEnvReferences(value);
  if (references.length === 0) return { code: stringLiteral(value), mayBeUnset: false };
  return {
    code: `fromEnvTemplate(${stringLiteral(value)})`,
    helper: 'fromEnvTemplate',
    comment: 'expanded from the environment when a client is created',
    mayBeUnset: references.some((reference) => reference.fallback === undefined),
  };
}

/** The factory's TSDoc after the service comment: only what holds for this client's settings. */
function factoryDocLines(service: ContractService, consume: ResolvedConsume, settings: ClientSettings): string[] {
  const lines: string[] = [];
  if (settings.target.helper !== undefined || settings.credentialsFromEnv) {
    lines.push('Settings given with `fromEnv` are read from the environment now, when the client is created.');
  }
  lines.push('Each call takes `{ deadline, signal, metadata }`.');
  // The runtime's rule (create-client.ts): only unary RPCs the contract marks IDEMPOTENT or NO_SIDE_EFFECTS.
  const retried = service.methods.filter((method) => method.kind === 'unary' && method.idempotency !== 'unknown');
  const [only] = retried;
  if (consume.retry !== false && only) {
    const label = (method: ContractService['methods'][number]) =>
      method.idempotency === 'idempotent' ? 'IDEMPOTENT' : 'NO_SIDE_EFFECTS';
    lines.push(
      retried.length === 1
        ? `${only.name} is retried with backoff (the contract marks it ${label(only)}).`
        : `${retried.map((method) => method.name).join(', ')} are retried with backoff (the contract marks them IDEMPOTENT or NO_SIDE_EFFECTS).`,
    );
  }
  if (settings.target.mayBeUnset) lines.push("@throws Error when the target's environment variable is not set.");
  return lines;
}

/** Which runtime helpers a client's defaults use. */
function defaultsHelpers(settings: ClientSettings): CodegenRuntimeValue[] {
  const helpers: CodegenRuntimeValue[] = ['createServiceClient'];
  if (settings.target.helper) helpers.push(settings.target.helper);
  if (settings.credentialsFromEnv) helpers.push('fromEnv');
  return helpers;
}

/** Exported names of a consumed service's generated client and stub, unique among what the consumer consumes. */
export interface ConsumedNames {
  /** `createAuthServiceClient`. */
  readonly factoryName: string;
  /** `startAuthServiceStub`. */
  readonly stubName: string;
  /** `AuthServiceStub`. */
  readonly stubType: string;
  /** `authServiceClientDefaults`. */
  readonly defaultsName: string;
  /** The client's key in the consumer's service context: `authService`. */
  readonly contextKey: string;
}

/** @param uniqueName the service's short name, prefixed with its package when the consumer consumes two of that name. */
export function consumedNames(uniqueName: string): ConsumedNames {
  return {
    factoryName: `create${uniqueName}Client`,
    stubName: `start${uniqueName}Stub`,
    stubType: `${uniqueName}Stub`,
    defaultsName: `${lowerFirst(uniqueName)}ClientDefaults`,
    contextKey: lowerFirst(uniqueName),
  };
}

/** View of `templates/gen/client.ts.hbs`. */
export function buildClientView(
  serviceName: string,
  service: ContractService,
  consume: ResolvedConsume,
  names: ConsumedNames,
  pbFile: string,
  header: HeaderView,
  tls?: ClientTlsPaths,
) {
  const settings: ClientSettings = {
    target: envExpression(consume.target),
    credentialsFromEnv: Boolean(consume.credentials?.apiKeyEnv || consume.credentials?.bearerTokenEnv),
  };
  return {
    defaultsLines: defaultsLines(service, consume, settings, tls),
    ...header,
    runtimeImport: runtimeImport(defaultsHelpers(settings), ['ClientCallOptions', 'ServiceClientOptions']),
    serviceName,
    fullName: service.fullName,
    definition: tsProtoServiceNames(service).definition,
    clientType: tsProtoServiceNames(service).client,
    pbImport: importSpecifier(clientPath(service), pbFile),
    defaultsName: names.defaultsName,
    factoryName: names.factoryName,
    commentLines: commentLines(service.comment),
    docLines: factoryDocLines(service, consume, settings).flatMap((line) => wrapText(line)),
  };
}

/** View of `templates/gen/stub.ts.hbs`. */
export function buildStubView(
  service: ContractService,
  names: ConsumedNames,
  pbFile: string,
  header: HeaderView,
  /** The service's FileDescriptorSet in base64 when its messages have buf.validate rules: the stub validates. */
  descriptorBase64?: string,
) {
  const firstMethod = service.methods[0];
  const chunks: string[] = [];
  for (let offset = 0; offset < (descriptorBase64?.length ?? 0); offset += 100) {
    chunks.push((descriptorBase64 ?? '').slice(offset, offset + 100));
  }
  return {
    ...header,
    runtimeImport: runtimeImport(descriptorBase64 === undefined ? ['startStub'] : ['decodeBase64', 'startStub'], [
      'GeneratedStubModule',
      'RunningStub',
      'StubOptions',
    ]),
    descriptorChunks: chunks,
    fullName: service.fullName,
    definition: tsProtoServiceNames(service).definition,
    implementation: tsProtoServiceNames(service).implementation,
    stubName: names.stubName,
    stubType: names.stubType,
    contextKey: names.contextKey,
    exampleMethod: firstMethod ? methodLocalName(firstMethod) : 'method',
    pbImport: importSpecifier(stubPath(service), pbFile),
  };
}

/**
 * View of `templates/scaffold/context.ts.hbs`: one member per consumed service, its generated client.
 * @param serves whether the service serves anything: `grpcforge serve` then creates the context for its handlers;
 *   otherwise (a consumer-only service) the service's own code calls `createServiceContext()`.
 */
export function buildContextView(
  serviceName: string,
  consumed: readonly { service: ContractService; names: ConsumedNames }[],
  serves: boolean,
) {
  const members = consumed.map(({ service, names }) => ({
    key: names.contextKey,
    factoryName: names.factoryName,
    fullName: service.fullName,
  }));
  return {
    serviceName,
    serves,
    imports: consumed.map(({ service, names }) => ({
      factoryName: names.factoryName,
      importPath: importSpecifier('src/context.ts', clientPath(service)),
    })),
    members,
    exampleKey: members[0]?.key ?? '',
    // Unused without members (noUnusedParameters): the underscore says so until the team adds one.
    overridesParam: members.length > 0 ? 'overrides' : '_overrides',
  };
}
