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
  return `src/gen/stubs/${service.fullName}.ts`;
}

/** Workspace TLS paths (workspace-relative, `${SERVICE}` not yet replaced), when the consumer dials with TLS. */
export interface ClientTlsPaths {
  readonly ca: string | undefined;
  readonly cert: string;
  readonly key: string;
}

/**
 * The client's defaults as TypeScript object-literal lines: target and secrets stay `${VAR}` templates that the
 * runtime expands when the client is created; TLS paths are relative to the workspace (where `serve` runs).
 */
function defaultsLines(
  serviceName: string,
  service: ContractService,
  consume: ResolvedConsume,
  tls: ClientTlsPaths | undefined,
): string[] {
  const target = envExpression(consume.target);
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
    const path = (value: string) => stringLiteral(value.replaceAll('${SERVICE}', serviceName));
    const parts = [...(tls.ca ? [`ca: ${path(tls.ca)}`] : []), `cert: ${path(tls.cert)}`, `key: ${path(tls.key)}`];
    lines.push(`tls: { ${parts.join(', ')} },`);
  }
  if (consume.retry === false) lines.push('retry: false,');
  else if (consume.retry) {
    const parts = Object.entries(consume.retry).flatMap(([key, value]) => (value === undefined ? [] : [`${key}: ${value}`]));
    lines.push(`retry: { ${parts.join(', ')} },`);
  }
  return lines;
}

/** A grpcforge.yaml value with `${VAR:-default}` as generated TypeScript: a literal, `fromEnv(...)` or `fromEnvTemplate(...)`. */
function envExpression(value: string): { code: string; helper?: CodegenRuntimeValue; comment?: string } {
  const whole = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/.exec(value);
  if (whole) {
    const [, name = '', fallback] = whole;
    const code =
      fallback === undefined ? `fromEnv(${stringLiteral(name)})` : `fromEnv(${stringLiteral(name)}, ${stringLiteral(fallback)})`;
    const comment =
      fallback === undefined
        ? `$${name} (read when a client is created)`
        : `$${name} when set, else ${fallback} (read when a client is created)`;
    return { code, helper: 'fromEnv', comment };
  }
  if (value.includes('${'))
    return {
      code: `fromEnvTemplate(${stringLiteral(value)})`,
      helper: 'fromEnvTemplate',
      comment: 'expanded from the environment when a client is created',
    };
  return { code: stringLiteral(value) };
}

/** The factory's TSDoc after the service comment: only what holds for this client's settings. */
function factoryDocLines(service: ContractService, consume: ResolvedConsume): string[] {
  const lines: string[] = [];
  const target = envExpression(consume.target);
  const usesEnv = target.helper !== undefined || consume.credentials?.apiKeyEnv || consume.credentials?.bearerTokenEnv;
  if (usesEnv) lines.push('Settings given with `fromEnv` are read from the environment now, when the client is created.');
  lines.push('Each call takes `{ deadline, signal, metadata }`.');
  const retried = service.methods
    .filter((method) => method.kind === 'unary' && method.idempotency !== 'unknown')
    .map((method) => method.name);
  if (consume.retry !== false && retried.length > 0) {
    lines.push(
      retried.length === 1
        ? `${retried[0]!} is retried with backoff (the contract marks it ${idempotencyLabel(service, retried[0]!)}).`
        : `${retried.join(', ')} are retried with backoff (the contract marks them IDEMPOTENT or NO_SIDE_EFFECTS).`,
    );
  }
  const throws = target.helper === 'fromEnvTemplate' || (target.helper === 'fromEnv' && !/^\$\{[^}]*:-/.test(consume.target));
  if (throws) lines.push("@throws Error when the target's environment variable is not set.");
  return lines;
}

/** `IDEMPOTENT` or `NO_SIDE_EFFECTS`, as the contract writes a method's idempotency level. */
function idempotencyLabel(service: ContractService, rpc: string): string {
  return service.methods.find((method) => method.name === rpc)?.idempotency === 'idempotent' ? 'IDEMPOTENT' : 'NO_SIDE_EFFECTS';
}

/** Which runtime helpers a client's defaults use. */
function defaultsHelpers(consume: ResolvedConsume): CodegenRuntimeValue[] {
  const helpers: CodegenRuntimeValue[] = ['createServiceClient'];
  const target = envExpression(consume.target).helper;
  if (target) helpers.push(target);
  if (consume.credentials?.apiKeyEnv || consume.credentials?.bearerTokenEnv) helpers.push('fromEnv');
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
  return {
    defaultsLines: defaultsLines(serviceName, service, consume, tls),
    ...header,
    runtimeImport: runtimeImport(defaultsHelpers(consume), ['ClientCallOptions', 'ServiceClientOptions']),
    serviceName,
    fullName: service.fullName,
    definition: tsProtoServiceNames(service).definition,
    clientType: tsProtoServiceNames(service).client,
    pbImport: importSpecifier(clientPath(service), pbFile),
    defaultsName: names.defaultsName,
    factoryName: names.factoryName,
    commentLines: commentLines(service.comment),
    docLines: factoryDocLines(service, consume).flatMap((line) => wrapText(line)),
  };
}

/** View of `templates/gen/stub.ts.hbs`. */
export function buildStubView(service: ContractService, names: ConsumedNames, pbFile: string, header: HeaderView) {
  const firstMethod = service.methods[0];
  return {
    ...header,
    runtimeImport: runtimeImport(['startStub'], ['RunningStub', 'StubOptions']),
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

/** View of `templates/scaffold/context.ts.hbs`: one member per consumed service, its generated client. */
export function buildContextView(serviceName: string, consumed: readonly { service: ContractService; names: ConsumedNames }[]) {
  const members = consumed.map(({ service, names }) => ({
    key: names.contextKey,
    factoryName: names.factoryName,
    fullName: service.fullName,
  }));
  return {
    serviceName,
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
