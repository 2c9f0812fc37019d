import type { CompatServiceDefinition, TsProtoServiceDefinition } from 'nice-grpc';

/** One method of a service definition, whichever form the definition has. */
export interface DefinitionMethod {
  /** Its key in the definition: ts-proto's lower-camel name (`login`), or a grpc-js definition's key. */
  readonly key: string;
  /** The RPC name as the contract spells it (`Login`). */
  readonly name: string;
  /** The gRPC path, `/auth.v1.AuthService/Login`. */
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

/** What grpcforge reads of a service definition: its names and its methods' paths and stream flags. */
export interface DefinitionShape {
  /** ts-proto's `fullName` (`auth.v1.AuthService`); `undefined` for a grpc-js or nice-grpc definition, which has none. */
  readonly fullName: string | undefined;
  /** {@link DefinitionShape.fullName}, else the service part of the first method's path; `undefined` without methods. */
  readonly serviceName: string | undefined;
  /** Its methods, in the definition's key order. */
  readonly methods: readonly DefinitionMethod[];
}

/** Whether `definition` is ts-proto's (`fullName` and `methods`), the form generated code passes. */
export function isTsProtoDefinition(definition: object): definition is TsProtoServiceDefinition {
  const { fullName, methods } = definition as Partial<Record<keyof TsProtoServiceDefinition, unknown>>;
  return typeof fullName === 'string' && typeof methods === 'object' && methods !== null;
}

/**
 * Reads a service definition in any form nice-grpc accepts ({@link CompatServiceDefinition}: ts-proto's, nice-grpc's
 * or grpc-js's): the one reader of a definition's shape, for the server, clients, stubs and the CLI. A grpc-js entry
 * without a string `path` is not a method and is left out.
 * @param definition a definition, or any object (what a loaded module exports): one of no known form has no methods.
 */
export function readServiceDefinition(definition: CompatServiceDefinition | object): DefinitionShape {
  if (isTsProtoDefinition(definition)) {
    const { fullName } = definition;
    const methods = Object.entries(definition.methods).map(([key, method]) => ({
      key,
      name: method.name,
      path: `/${fullName}/${method.name}`,
      requestStream: method.requestStream,
      responseStream: method.responseStream,
    }));
    return { fullName, serviceName: fullName, methods };
  }
  const methods = Object.entries(definition as Record<string, unknown>).flatMap(([key, value]): DefinitionMethod[] => {
    const { path, requestStream, responseStream } = (value ?? {}) as Partial<Record<keyof DefinitionMethod, unknown>>;
    if (typeof path !== 'string') return [];
    const name = path.slice(path.lastIndexOf('/') + 1);
    return [{ key, name, path, requestStream: requestStream === true, responseStream: responseStream === true }];
  });
  const serviceName = methods.map((method) => /^\/([^/]+)\//.exec(method.path)?.[1]).find((name) => name !== undefined);
  return { fullName: undefined, serviceName, methods };
}
