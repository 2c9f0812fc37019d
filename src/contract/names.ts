import type { ContractMethod, ContractService } from './model.js';

/**
 * Names that generated code and ts-proto agree on. ts-proto's nice-grpc output names a service's members
 * `<Service>Definition`, `<Service>ServiceImplementation` and `<Service>Client`, and its methods in lowerCamelCase.
 */

/** `ValidateToken` → `validateToken`: the key of the method in ts-proto's definition and implementation. */
export function methodLocalName(method: Pick<ContractMethod, 'name'>): string {
  return method.name.charAt(0).toLowerCase() + method.name.slice(1);
}

/** `ValidateToken` → `validate-token`, `GetHTTPStatus` → `get-http-status`: handler file names. */
export function kebabCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .replace(/_/g, '-')
    .toLowerCase();
}

/** The names ts-proto's nice-grpc output exports for a service. */
export interface TsProtoServiceNames {
  /** `<Service>Definition`: the generic definition nice-grpc serves and calls. */
  readonly definition: string;
  /** `<Service>ServiceImplementation`, or `<Service>Implementation` when the name already ends in "Service". */
  readonly implementation: string;
  /** `<Service>Client`. */
  readonly client: string;
}

/** ts-proto's exported names for a service (ts-proto `generate-nice-grpc.ts`, `maybeSuffix`). */
export function tsProtoServiceNames(service: Pick<ContractService, 'name'>): TsProtoServiceNames {
  const suffix = service.name.endsWith('Service') ? '' : 'Service';
  return {
    definition: `${service.name}Definition`,
    implementation: `${service.name}${suffix}Implementation`,
    client: `${service.name}Client`,
  };
}

/** `auth.v1` → `AuthV1`: used to tell apart two services with the same short name. */
export function pascalCase(value: string): string {
  return value
    .split(/[._-]/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** Handler file of a method, relative to the service folder: `src/handlers/auth.v1.AuthService/validate-token.ts`. */
export function handlerFilePath(service: Pick<ContractService, 'fullName'>, method: Pick<ContractMethod, 'name'>): string {
  return `src/handlers/${service.fullName}/${kebabCase(method.name)}.ts`;
}

/** ts-proto's output path for a proto file, relative to its `out`: `auth/v1/auth.proto` → `auth/v1/auth.ts`. */
export function tsProtoModulePath(protoFile: string): string {
  return protoFile.replace(/\.proto$/, '.ts');
}

const RESERVED = new Set(
  ('break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'yield let static implements interface package private protected public await arguments eval').split(' '),
);

/**
 * The identifier a handler file exports for a method: its ts-proto key, or `<key>Handler` when the key is a reserved
 * word (an RPC named `Delete` has the key `delete`).
 */
export function handlerExportName(method: Pick<ContractMethod, 'name'>): string {
  const key = methodLocalName(method);
  return RESERVED.has(key) ? `${key}Handler` : key;
}

/** A lookup of the RPC names each service declares, for checking names written in grpcforge.yaml. */
export function rpcNamesOf(contract: { readonly services: readonly ContractService[] }): (service: string) => readonly string[] {
  const byService = new Map(contract.services.map((service) => [service.fullName, service.methods.map((method) => method.name)]));
  return (service) => byService.get(service) ?? [];
}
