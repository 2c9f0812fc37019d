import type { ResolvedConsume } from '../../../config/resolved.js';
import type { ContractService } from '../../../contract/model.js';
import { methodLocalName, tsProtoServiceNames } from '../../../contract/names.js';
import { commentLines, importSpecifier, lowerFirst, stringLiteral, type HeaderView } from './common.js';

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
function defaultsLines(serviceName: string, service: ContractService, consume: ResolvedConsume, tls: ClientTlsPaths | undefined): string[] {
  const lines = [`target: ${stringLiteral(consume.target)},`];
  if (consume.deadlineMs !== undefined) lines.push(`deadlineMs: ${consume.deadlineMs},`);
  const perMethod = service.methods
    .filter((method) => consume.methodDeadlinesMs[method.name] !== undefined)
    .map((method) => `${methodLocalName(method)}: ${consume.methodDeadlinesMs[method.name]}`);
  if (perMethod.length > 0) lines.push(`methodDeadlinesMs: { ${perMethod.join(', ')} },`);
  const credentials = [
    ...(consume.credentials?.apiKeyEnv ? [`apiKey: ${stringLiteral(`\${${consume.credentials.apiKeyEnv}:-}`)}`] : []),
    ...(consume.credentials?.bearerTokenEnv ? [`bearerToken: ${stringLiteral(`\${${consume.credentials.bearerTokenEnv}:-}`)}`] : []),
  ];
  if (credentials.length > 0) lines.push(`callCredentials: { ${credentials.join(', ')} },`);
  if (consume.tls && tls) {
    const path = (value: string) => stringLiteral(value.replaceAll('${SERVICE}', serviceName));
    const parts = [...(tls.ca ? [`ca: ${path(tls.ca)}`] : []), `cert: ${path(tls.cert)}`, `key: ${path(tls.key)}`];
    lines.push(`tls: { ${parts.join(', ')} },`);
  }
  if (consume.retry === false) lines.push('retry: false,');
  else if (consume.retry) {
    const parts = Object.entries(consume.retry).filter(([, value]) => value !== undefined).map(([key, value]) => `${key}: ${value}`);
    lines.push(`retry: { ${parts.join(', ')} },`);
  }
  return lines;
}

/** View of `templates/gen/client.ts.hbs`. */
export function buildClientView(
  serviceName: string,
  service: ContractService,
  consume: ResolvedConsume,
  pbFile: string,
  header: HeaderView,
  tls?: ClientTlsPaths,
) {
  return {
    defaultsLines: defaultsLines(serviceName, service, consume, tls),
    ...header,
    serviceName,
    fullName: service.fullName,
    definition: tsProtoServiceNames(service).definition,
    clientType: tsProtoServiceNames(service).client,
    pbImport: importSpecifier(clientPath(service), pbFile),
    defaultsName: `${lowerFirst(service.name)}ClientDefaults`,
    factoryName: `create${service.name}Client`,
    commentLines: commentLines(service.comment),
  };
}

/** View of `templates/gen/stub.ts.hbs`. */
export function buildStubView(service: ContractService, pbFile: string, header: HeaderView) {
  const firstMethod = service.methods[0];
  return {
    ...header,
    fullName: service.fullName,
    definition: tsProtoServiceNames(service).definition,
    implementation: tsProtoServiceNames(service).implementation,
    stubName: `start${service.name}Stub`,
    factoryName: `create${service.name}Client`,
    exampleMethod: firstMethod ? methodLocalName(firstMethod) : 'method',
    pbImport: importSpecifier(stubPath(service), pbFile),
  };
}
