import { posix } from 'node:path';
import type { ContractMethod, ContractService, MethodKind } from '../../../contract/model.js';
import { handlerExportName, handlerFilePath, methodLocalName, tsProtoServiceNames } from '../../../contract/names.js';
import {
  GENERATED_SERVER_MODULE_EXPORTS,
  GENERATED_SERVER_MODULE_PATH,
  SERVICE_MIDDLEWARE_PATH,
} from '@grpcforge/runtime/vocabulary';
import { runtimeImport } from '../../runtime-symbols.js';
import { commentLines, importSpecifier, lowerFirst, type HeaderView } from './common.js';

/** Names of a served service's generated symbols; shared by the wiring, the index and the handler views. */
export interface ServedNames {
  readonly definition: string;
  readonly implementation: string;
  readonly handlersType: string;
  readonly registration: string;
}

/**
 * Names of ts-proto's and grpcforge's symbols for a served service.
 * @param uniqueName the service's name made unique among what the workspace service serves (see `uniqueShortNames`).
 */
export function servedNames(service: ContractService, uniqueName: string): ServedNames {
  const tsProto = tsProtoServiceNames(service);
  return {
    definition: tsProto.definition,
    implementation: tsProto.implementation,
    handlersType: `${service.name}Handlers`,
    registration: `${lowerFirst(uniqueName)}Registration`,
  };
}

/** Path of a served service's wiring, relative to the service folder. */
export function wiringPath(service: ContractService): string {
  return `src/gen/server/${service.fullName}.ts`;
}

/** Path of a serving service's user-owned context module, relative to the service folder. */
export const CONTEXT_PATH = 'src/context.ts';

/** Path of a serving service's user-owned auth hooks, relative to the service folder. */
export const AUTH_HOOKS_PATH = 'src/middleware/auth.ts';

/** Path of a serving service's user-owned request-log hooks, relative to the service folder. */
export const LOGGING_HOOKS_PATH = 'src/middleware/logging.ts';

/** The user-owned module each re-exported name of the server module comes from. */
const REEXPORTED_FROM = [
  [GENERATED_SERVER_MODULE_EXPORTS.createServiceContext, CONTEXT_PATH],
  [GENERATED_SERVER_MODULE_EXPORTS.authHooks, AUTH_HOOKS_PATH],
  [GENERATED_SERVER_MODULE_EXPORTS.loggingHooks, LOGGING_HOOKS_PATH],
  [GENERATED_SERVER_MODULE_EXPORTS.middleware, SERVICE_MIDDLEWARE_PATH],
] as const;

/** View of `templates/gen/server-wiring.ts.hbs`. */
export function buildWiringView(service: ContractService, names: ServedNames, pbFile: string, header: HeaderView) {
  const self = wiringPath(service);
  return {
    ...header,
    ...names,
    runtimeImport: runtimeImport(['defineService'], ['HandlerContextExtension', 'ServiceRegistration']),
    contextImport: importSpecifier(self, CONTEXT_PATH),
    middlewareImport: importSpecifier(self, SERVICE_MIDDLEWARE_PATH),
    fullName: service.fullName,
    pbImport: importSpecifier(self, pbFile),
    commentLines: commentLines(service.comment),
    handlers: service.methods.map((method) => {
      const key = methodLocalName(method);
      const exportName = handlerExportName(service, method);
      return {
        exportName,
        entry: key === exportName ? key : `${key}: ${exportName}`,
        importPath: importSpecifier(self, handlerFilePath(service, method)),
      };
    }),
  };
}

/** View of `templates/gen/server-index.ts.hbs`. */
export function buildServerIndexView(
  serviceName: string,
  served: readonly { service: ContractService; names: ServedNames }[],
  descriptorBase64: string,
  header: HeaderView,
) {
  const self = GENERATED_SERVER_MODULE_PATH;
  const chunks: string[] = [];
  for (let offset = 0; offset < descriptorBase64.length; offset += 100) chunks.push(descriptorBase64.slice(offset, offset + 100));
  return {
    ...header,
    runtimeImport: runtimeImport(['decodeBase64'], ['CheckedServerModule', 'ServiceRegistration']),
    serviceName,
    reexports: REEXPORTED_FROM.map(([name, path]) => ({ name, importPath: importSpecifier(self, path) })),
    services: served.map(({ service, names }) => ({
      registration: names.registration,
      importPath: importSpecifier(self, wiringPath(service)),
    })),
    descriptorChunks: chunks.length > 0 ? chunks : [''],
  };
}

const KIND_LABELS: Record<MethodKind, string> = {
  unary: 'Unary',
  serverStreaming: 'Server-streaming',
  clientStreaming: 'Client-streaming',
  bidiStreaming: 'Bidi-streaming',
};

// Parameters start with `_` so the skeleton compiles under noUnusedParameters; rename them as you use them.
const SIGNATURES: Record<MethodKind, string> = {
  unary: 'async (_request, _context) =>',
  serverStreaming: 'async function* (_request, _context)',
  clientStreaming: 'async (_requests, _context) =>',
  bidiStreaming: 'async function* (_requests, _context)',
};

/** View of `templates/scaffold/handler.ts.hbs`. */
export function buildHandlerView(service: ContractService, method: ContractMethod, names: ServedNames) {
  const self = handlerFilePath(service, method);
  const comment = method.comment || `${method.name} of ${service.fullName}.`;
  return {
    handlersType: names.handlersType,
    wiringImport: importSpecifier(self, wiringPath(service)),
    commentLines: commentLines(comment),
    kindLabel: KIND_LABELS[method.kind],
    path: method.path,
    localName: methodLocalName(method),
    exportName: handlerExportName(service, method),
    signature: SIGNATURES[method.kind],
  };
}

/** Workspace-relative path from a service folder and a path inside it. */
export function inService(serviceDir: string, path: string): string {
  return serviceDir === '' || serviceDir === '.' ? path : posix.join(serviceDir, path);
}
