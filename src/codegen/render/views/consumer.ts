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

/** View of `templates/gen/client.ts.hbs`. */
export function buildClientView(
  serviceName: string,
  service: ContractService,
  consume: ResolvedConsume,
  pbFile: string,
  header: HeaderView,
) {
  return {
    ...header,
    serviceName,
    fullName: service.fullName,
    definition: tsProtoServiceNames(service).definition,
    clientType: tsProtoServiceNames(service).client,
    pbImport: importSpecifier(clientPath(service), pbFile),
    defaultsName: `${lowerFirst(service.name)}ClientDefaults`,
    factoryName: `create${service.name}Client`,
    targetLiteral: stringLiteral(consume.target),
    deadlineMs: consume.deadlineMs ?? false,
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
