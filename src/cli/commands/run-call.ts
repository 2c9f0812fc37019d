import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { FileRegistry, JsonValue } from '@bufbuild/protobuf';
import { ChannelCredentials, ClientError, Metadata, Status } from 'nice-grpc';
import type { ReflectionClient } from '../../call/reflection-client.js';
import { UserError, errorMessage } from '../../util/errors.js';
import { loadConfigFor } from '../context.js';
import { parseWholeNumber } from '../flags.js';
import { err, errLabelled, out } from '../output/print.js';
import type * as DynamicCallModule from '../../call/dynamic-call.js';

/** The flags of `grpcforge call` (commander's camelCase names). */
export interface CallFlags {
  readonly data?: string;
  readonly header?: string[];
  readonly tls?: boolean;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly list?: boolean;
  readonly printCurl?: boolean;
  readonly deadline?: string;
}

/** `grpcforge call ADDRESS [METHOD]`, loaded when the command runs (src/cli/commands/call.ts registers it). */
export async function runCall(address: string, target: string | undefined, flags: CallFlags, command: Command): Promise<void> {
  const useTls = flags.tls === true || flags.ca !== undefined || flags.cert !== undefined;
  if ((flags.cert === undefined) !== (flags.key === undefined)) throw new UserError('bad-flag', '--cert and --key go together');
  const readPem = async (path: string | undefined, flag: string) =>
    path === undefined
      ? null
      : readFile(path).catch((error: unknown) => {
          throw new UserError('bad-flag', `${flag}: cannot read ${path}: ${errorMessage(error)}`);
        });
  const credentials = useTls
    ? ChannelCredentials.createSsl(
        await readPem(flags.ca, '--ca'),
        await readPem(flags.key, '--key'),
        await readPem(flags.cert, '--cert'),
      )
    : ChannelCredentials.createInsecure();
  const metadata = Metadata();
  const deadlineMs = parseWholeNumber(flags.deadline, '--deadline', undefined, 1);
  for (const header of flags.header ?? []) {
    const separator = header.indexOf(':');
    if (separator <= 0) throw new UserError('bad-flag', `-H: expected key:value, got "${header}"`);
    metadata.append(header.slice(0, separator).trim().toLowerCase(), header.slice(separator + 1).trim());
  }
  const { createReflectionClient } = await import('../../call/reflection-client.js');
  const dynamic = await import('../../call/dynamic-call.js');
  const reflection = createReflectionClient(address, { credentials, metadata });
  try {
    const source = await descriptorSource(reflection, command, dynamic);
    if (flags.list) {
      for (const service of source.services) {
        const registry = await source.registryFor(service);
        for (const method of registry.getService(service)?.methods ?? []) {
          out(
            `${service}/${method.name}  (${method.methodKind.replace('_', '-')}: ${method.input.typeName} -> ${method.output.typeName})`,
          );
        }
      }
      return;
    }
    if (!target) throw new UserError('bad-flag', 'name a method (pkg.Service/Method), or pass --list');
    const resolved = await resolveTarget(source, target, dynamic);
    const requests = await readRequests(flags.data, resolved.kind === 'clientStreaming' || resolved.kind === 'bidiStreaming');
    if (flags.printCurl) err(`$ ${curlCommand(address, resolved.path, flags, requests)}`);
    await dynamic.invokeDynamic(resolved, {
      address,
      credentials,
      metadata,
      requests,
      onResponse: (response) => out(JSON.stringify(response, null, 2)),
      ...(deadlineMs !== undefined ? { deadlineMs } : {}),
    });
  } catch (error) {
    if (error instanceof ClientError) {
      errLabelled('red', `ERROR: ${Status[error.code]}: ${error.details}`);
      process.exitCode = 1;
      return;
    }
    throw error;
  } finally {
    reflection.close();
  }
}

type DynamicCall = typeof DynamicCallModule;

/** Where a call's descriptors come from: the server's reflection, or the workspace contracts when it has none. */
interface DescriptorSource {
  /** Completes `no service "x" …`: `on the server`, `in the workspace contracts`. */
  readonly where: string;
  /** Fully-qualified services, sorted. */
  readonly services: readonly string[];
  registryFor(service: string): Promise<FileRegistry>;
}

async function descriptorSource(reflection: ReflectionClient, command: Command, dynamic: DynamicCall): Promise<DescriptorSource> {
  try {
    const services = await reflection.listServices();
    return {
      where: 'on the server',
      services,
      registryFor: async (service) => dynamic.registryFromFiles(await reflection.filesForSymbol(service)),
    };
  } catch (error) {
    if (!(error instanceof ClientError && error.code === Status.UNIMPLEMENTED)) throw error;
    err('the server has no reflection: using the contracts of the workspace here');
    const registry = dynamic.registryFromSet(await workspaceDescriptors(command));
    const services = dynamic.servicesOfRegistry(registry).map((entry) => entry.service);
    return { where: 'in the workspace contracts', services, registryFor: () => Promise.resolve(registry) };
  }
}

/**
 * The method a call names, exactly `pkg.Service/Method` of a listed service. Anything else (a short or misspelt
 * name) is a UserError with a did-you-mean hint, for which every listed service is described.
 */
async function resolveTarget(source: DescriptorSource, target: string, dynamic: DynamicCall) {
  const { resolveMethodName, splitMethodName } = await import('../../call/method-names.js');
  const split = splitMethodName(target);
  if (split && source.services.includes(split.service)) {
    return dynamic.resolveDynamicMethod(await source.registryFor(split.service), target, source.where);
  }
  const catalog = [];
  for (const service of source.services) {
    const registry = await source.registryFor(service).catch(() => undefined);
    catalog.push({ service, methods: registry?.getService(service)?.methods.map((method) => method.name) ?? [] });
  }
  const name = resolveMethodName(target, catalog, source.where);
  return dynamic.resolveDynamicMethod(await source.registryFor(name.service), name.path, source.where);
}

/** Request messages from -d: one JSON value, a JSON array (streams), or JSON lines. */
async function readRequests(data: string | undefined, streaming: boolean): Promise<JsonValue[]> {
  if (data === undefined) return [{}];
  let text = data;
  if (data === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  } else if (data.startsWith('@')) {
    text = await readFile(data.slice(1), 'utf8').catch((error: unknown) => {
      throw new UserError('bad-flag', `-d: cannot read ${data.slice(1)}: ${errorMessage(error)}`);
    });
  }
  try {
    const value = JSON.parse(text) as JsonValue;
    return streaming && Array.isArray(value) ? value : [value];
  } catch {
    const lines = text
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    return lines.map((line, index) => {
      try {
        return JSON.parse(line) as JsonValue;
      } catch (error) {
        throw new UserError('bad-request', `-d: line ${index + 1} is not JSON: ${errorMessage(error)}`);
      }
    });
  }
}

/** The workspace's FileDescriptorSet, for servers without reflection. */
async function workspaceDescriptors(command: Command): Promise<Uint8Array> {
  const config = await loadConfigFor(command);
  const { loadContract } = await import('../../contract/load-contract.js');
  return (await loadContract(config.contract.root, config.workspaceDir)).contract.descriptorSet;
}

/** The same call with buf curl (which speaks reflection itself). */
function curlCommand(address: string, path: string, flags: CallFlags, requests: readonly JsonValue[]): string {
  const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
  const tls = flags.tls === true || flags.ca !== undefined || flags.cert !== undefined;
  const parts = ['buf', 'curl', '--protocol', 'grpc'];
  if (!tls) parts.push('--http2-prior-knowledge');
  if (flags.ca) parts.push('--cacert', quote(flags.ca));
  if (flags.cert) parts.push('--cert', quote(flags.cert), '--key', quote(flags.key ?? ''));
  for (const header of flags.header ?? []) parts.push('-H', quote(header));
  const body =
    requests.length === 1 ? JSON.stringify(requests[0]) : requests.map((request) => JSON.stringify(request)).join('\n');
  parts.push('-d', quote(body), `${tls ? 'https' : 'http'}://${address}${path}`);
  return parts.join(' ');
}
