import { InternalError, UserError } from '../util/errors.js';
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

/**
 * Handler file of a method, relative to the service folder: `src/handlers/auth.v1.AuthService/validate-token.ts`.
 * Two RPCs whose file names would collide (`GetURL` and `Get_Url` are both `get-url`) get distinct ones: see
 * {@link methodNamesOf}.
 * @throws UserError `name-clash` when two RPCs of the service have the same ts-proto key.
 */
export function handlerFilePath(service: ContractService, method: Pick<ContractMethod, 'name'>): string {
  return `src/handlers/${service.fullName}/${namesOf(service, method).fileName}.ts`;
}

/** ts-proto's output path for a proto file, relative to its `out`: `auth/v1/auth.proto` → `auth/v1/auth.ts`. */
export function tsProtoModulePath(protoFile: string): string {
  return protoFile.replace(/\.proto$/, '.ts');
}

const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'yield let static implements interface package private protected public await arguments eval'
  ).split(' '),
);

/**
 * The identifier a handler file exports for a method: its ts-proto key, or `<key>Handler` when the key is a reserved
 * word (an RPC named `Delete` has the key `delete`), with a number added if that name is another RPC's key.
 * @throws UserError `name-clash` when two RPCs of the service have the same ts-proto key.
 */
export function handlerExportName(service: ContractService, method: Pick<ContractMethod, 'name'>): string {
  return namesOf(service, method).exportName;
}

/** The names generated code uses for one RPC. */
export interface MethodNames {
  /** ts-proto's key: `validateToken`. */
  readonly key: string;
  /** What its handler file exports: the key, or `deleteHandler` for the reserved `delete`. */
  readonly exportName: string;
  /** Its handler file's name without `.ts`: `validate-token`, or `get-url-2` for the second of two that collide. */
  readonly fileName: string;
  /** When {@link MethodNames.fileName} got a number: the RPC declared first that keeps the plain name. */
  readonly fileNameTakenBy?: string;
}

const namesCache = new WeakMap<ContractService, ReadonlyMap<string, MethodNames>>();

function namesOf(service: ContractService, method: Pick<ContractMethod, 'name'>): MethodNames {
  const names = methodNamesOf(service).get(method.name);
  if (!names) throw new InternalError(`names: "${method.name}" is not an RPC of "${service.fullName}"`);
  return names;
}

/**
 * The generated names of every RPC of a service, by RPC name. Deterministic and collision-free: file names are
 * compared case-insensitively (macOS and Windows file systems), and when RPCs share one, the first declared keeps it
 * and the others get `-2`, `-3`, ... in declaration order. Export names never repeat another RPC's key.
 * @throws UserError `name-clash` when two RPC names differ only in the case of their first letter (`GetUrl` and
 *   `getUrl`): ts-proto gives both the key `getUrl`, so no generated code could tell them apart; or for an RPC named
 *   `New`, which ts-proto's interfaces turn into a construct signature.
 */
export function methodNamesOf(service: ContractService): ReadonlyMap<string, MethodNames> {
  const cached = namesCache.get(service);
  if (cached) return cached;
  const byKey = new Map<string, string>();
  for (const method of service.methods) {
    const key = methodLocalName(method);
    if (key === 'new') {
      // ts-proto declares `new(request, ...)` in the implementation and client interfaces: TypeScript reads that as a
      // construct signature, so no method named `new` exists and nothing generated for the service type-checks.
      throw new UserError(
        'name-clash',
        `RPC "${method.name}" of ${service.fullName}: ts-proto's interfaces cannot declare a method named "new"`,
        [`rename it in ${service.file} (for example "Create" or "New${service.name}")`],
      );
    }
    const other = byKey.get(key);
    if (other !== undefined) {
      throw new UserError(
        'name-clash',
        `RPCs "${other}" and "${method.name}" of ${service.fullName} both have the key "${key}" in ts-proto's code`,
        [`rename one of them in ${service.file} (buf lint's RPC_PASCAL_CASE asks for PascalCase names)`],
      );
    }
    byKey.set(key, method.name);
  }
  const usedExports = new Set(byKey.keys());
  const usedFiles = new Map<string, string>();
  const names = new Map<string, MethodNames>();
  for (const method of service.methods) {
    const key = methodLocalName(method);
    let exportName = key;
    if (RESERVED.has(key)) {
      exportName = `${key}Handler`;
      for (let n = 2; usedExports.has(exportName); n++) exportName = `${key}Handler${n}`;
      usedExports.add(exportName);
    }
    const base = kebabCase(method.name);
    let fileName = base;
    for (let n = 2; usedFiles.has(fileName); n++) fileName = `${base}-${n}`;
    usedFiles.set(fileName, method.name);
    const takenBy = fileName === base ? undefined : usedFiles.get(base);
    names.set(method.name, { key, exportName, fileName, ...(takenBy ? { fileNameTakenBy: takenBy } : {}) });
  }
  namesCache.set(service, names);
  return names;
}

/** A lookup of the RPC names each service declares, for checking names written in grpcforge.yaml. */
export function rpcNamesOf(contract: { readonly services: readonly ContractService[] }): (service: string) => readonly string[] {
  const byService = new Map(contract.services.map((service) => [service.fullName, service.methods.map((method) => method.name)]));
  return (service) => byService.get(service) ?? [];
}

/**
 * Short names for a set of services that are unique within the set: `AuthService`, or `AlphaV1Greeter` and
 * `BetaV1Greeter` when `alpha.v1.Greeter` and `beta.v1.Greeter` meet. Used for exported names that live side by side
 * (registrations in one server index, clients in one service context).
 * @returns fully-qualified name → unique PascalCase name.
 * @throws UserError `name-clash` when two services still get the same name (`a.b.Greeter` and `a_b.Greeter`).
 */
export function uniqueShortNames(
  services: readonly Pick<ContractService, 'name' | 'packageName' | 'fullName'>[],
): Map<string, string> {
  const counts = new Map<string, number>();
  for (const service of services) counts.set(service.name, (counts.get(service.name) ?? 0) + 1);
  const names = new Map<string, string>();
  const owners = new Map<string, string>();
  for (const service of services) {
    const name = (counts.get(service.name) ?? 0) > 1 ? `${pascalCase(service.packageName)}${service.name}` : service.name;
    const other = owners.get(name);
    // `a.b.Greeter` and `a_b.Greeter`, or `x.AlphaV1Greeter` next to `alpha.v1.Greeter`: prefixes cannot tell them apart.
    if (other !== undefined && other !== service.fullName) {
      throw new UserError('name-clash', `services "${other}" and "${service.fullName}" would both export names of "${name}"`, [
        'serve or consume them from different workspace services, or rename one of them',
      ]);
    }
    owners.set(name, service.fullName);
    names.set(service.fullName, name);
  }
  return names;
}
