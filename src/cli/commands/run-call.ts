import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { relative } from 'node:path';
import type { Command } from 'commander';
import type { FileRegistry, JsonValue } from '@bufbuild/protobuf';
import { ChannelCredentials, ClientError, Metadata, Status } from 'nice-grpc';
import type { ReflectionClient } from '../../call/reflection-client.js';
import { UserError, errorMessage } from '../../util/errors.js';
import { shellQuote } from '../../util/shell.js';
import { loadConfigFor } from '../context.js';
import { parseWholeNumber } from '../flags.js';
import { escapeText } from '../output/escape.js';
import { err, errLabelled, out, printJson } from '../output/print.js';
import type * as DynamicCallModule from '../../call/dynamic-call.js';

/** The flags of `grpcforge call` (commander's camelCase names). */
export interface CallFlags {
  readonly data?: string;
  readonly header?: string[];
  readonly tls?: boolean;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly servername?: string;
  readonly list?: boolean;
  readonly json?: boolean;
  readonly printCurl?: boolean;
  readonly deadline?: string;
}

/**
 * A call that ends with a gRPC status other than OK exits with this plus the status code: 64 + 5 = 69 for NOT_FOUND,
 * 64 + 14 = 78 for UNAVAILABLE (connection and TLS failures included), as grpcurl does. Usage errors exit 2.
 */
export const CALL_EXIT_STATUS_BASE = 64;

/** Version of the `--json` document of `grpcforge call`. */
export const CALL_JSON_VERSION = 1;

/** `grpcforge call ADDRESS [METHOD]`, loaded when the command runs (src/cli/commands/call.ts registers it). */
export async function runCall(address: string, target: string | undefined, flags: CallFlags, command: Command): Promise<void> {
  const useTls = usesTls(flags);
  if ((flags.cert === undefined) !== (flags.key === undefined)) throw new UserError('bad-flag', '--cert and --key go together');
  // SNI carries DNS names only (RFC 6066 §3): an IP address is verified from the address itself.
  if (flags.servername !== undefined && (!/^[A-Za-z0-9.-]+$/.test(flags.servername) || isIP(flags.servername) !== 0)) {
    throw new UserError('bad-flag', `--servername: expected a DNS name, got "${flags.servername}"`);
  }
  const readPem = async (path: string | undefined, flag: string) =>
    path === undefined
      ? null
      : readFile(path).catch((error: unknown) => {
          throw new UserError('bad-flag', `${flag}: cannot read ${path}: ${errorMessage(error)}`);
        });
  const { callChannelOptions, callTlsCredentials, explainConnectionFailure } = await import('../../call/tls.js');
  const credentials = useTls
    ? callTlsCredentials({
        ca: await readPem(flags.ca, '--ca'),
        key: await readPem(flags.key, '--key'),
        cert: await readPem(flags.cert, '--cert'),
      })
    : ChannelCredentials.createInsecure();
  const channelOptions = callChannelOptions({ servername: flags.servername });
  const metadata = Metadata();
  const deadlineMs = parseWholeNumber(flags.deadline, '--deadline', undefined, 1);
  const { readCallHeaders, shellQuoteHeader } = await import('../../call/call-headers.js');
  for (const header of await readCallHeaders(flags.header ?? [], process.env)) metadata.append(header.name, header.value);
  const { createReflectionClient } = await import('../../call/reflection-client.js');
  const dynamic = await import('../../call/dynamic-call.js');
  const reflection = createReflectionClient(address, { credentials, metadata, channelOptions });
  const responses: JsonValue[] = [];
  let trailer: Metadata | undefined;
  try {
    const source = await descriptorSource(reflection, command, dynamic);
    if (flags.list) {
      if (flags.printCurl) err(`$ ${curlCommand(address, undefined, flags, [], source.schema, shellQuoteHeader)}`);
      const listed = [];
      for (const service of source.services) {
        const registry = await source.registryFor(service);
        const methods = (registry.getService(service)?.methods ?? []).map((method) => ({
          name: method.name,
          kind: method.methodKind.replace('_', '-'),
          input: method.input.typeName,
          output: method.output.typeName,
        }));
        listed.push({ service, methods });
        if (!flags.json) {
          for (const method of methods) out(`${service}/${method.name}  (${method.kind}: ${method.input} -> ${method.output})`);
        }
      }
      if (flags.json) printJson({ version: CALL_JSON_VERSION, services: listed });
      return;
    }
    if (!target) throw new UserError('bad-flag', 'name a method (pkg.Service/Method), or pass --list');
    const resolved = await resolveTarget(source, target, dynamic);
    const requests = await readRequests(flags.data, resolved.kind === 'clientStreaming' || resolved.kind === 'bidiStreaming');
    if (flags.printCurl) {
      const sent = Array.isArray(requests) ? requests : undefined;
      err(`$ ${curlCommand(address, resolved.path, flags, sent, source.schema, shellQuoteHeader)}`);
    }
    await dynamic.invokeDynamic(resolved, {
      address,
      credentials,
      metadata,
      requests,
      channelOptions,
      onResponse: (response) => (flags.json ? responses.push(response) : out(JSON.stringify(response, null, 2))),
      onTrailer: (received) => (trailer = received),
      ...(deadlineMs !== undefined ? { deadlineMs } : {}),
    });
    if (flags.json) printJson({ version: CALL_JSON_VERSION, status: { code: 0, name: 'OK', message: '' }, responses });
  } catch (error) {
    if (error instanceof ClientError) {
      // grpc-js puts the transport's error (OpenSSL, socket) into UNAVAILABLE: say what it most likely means instead.
      const message =
        (error.code === Status.UNAVAILABLE
          ? explainConnectionFailure(error.details, address, { tls: useTls, clientCert: flags.cert !== undefined })
          : undefined) ?? error.details;
      const name = Status[error.code];
      const { statusDetailsOf, errorDetailsJson } = await import('../../call/status-details.js');
      const read = statusDetailsOf(trailer);
      if (flags.json) {
        const status = { code: error.code, name, message };
        const details = read?.details && { details: errorDetailsJson(read.details) };
        printJson({ version: CALL_JSON_VERSION, status, ...details, responses });
      } else {
        errLabelled('red', `ERROR: ${name}: ${escapeText(message)}`);
        if (read?.details) {
          const { describeErrorDetails } = await import('@grpcforge/runtime/vocabulary');
          for (const line of describeErrorDetails(read.details)) err(`  ${escapeText(line)}`);
        }
      }
      // Details that do not decode are the server's bug: say so in one line, and still report the status.
      if (read?.problem) errLabelled('yellow', `note: ${read.problem}`);
      process.exitCode = CALL_EXIT_STATUS_BASE + error.code;
      return;
    }
    throw error;
  } finally {
    reflection.close();
    // A streaming call the server ended first (a refusal, an early answer) leaves a read of stdin pending, which would
    // keep the process waiting for input nobody needs: stop reading.
    if (flags.data === '-') process.stdin.destroy();
  }
}

/** --ca, --cert and --servername imply --tls. */
const usesTls = (flags: CallFlags) =>
  flags.tls === true || flags.ca !== undefined || flags.cert !== undefined || flags.servername !== undefined;

type DynamicCall = typeof DynamicCallModule;

/** Where a call's descriptors come from: the server's reflection, or the workspace contracts when it has none. */
interface DescriptorSource {
  /** Completes `no service "x" …`: `on the server`, `in the workspace contracts`. */
  readonly where: string;
  /** Fully-qualified services, sorted. */
  readonly services: readonly string[];
  /** The buf module of the workspace contracts, relative to the current folder, when they are the source. */
  readonly schema?: string;
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
    const workspace = await workspaceDescriptors(command);
    const registry = dynamic.registryFromSet(workspace.descriptorSet);
    const services = dynamic.servicesOfRegistry(registry).map((entry) => entry.service);
    return {
      where: 'in the workspace contracts',
      services,
      schema: relative(process.cwd(), workspace.bufDir) || '.',
      registryFor: () => Promise.resolve(registry),
    };
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

/**
 * Request messages from -d: JSON values one after another (whitespace or newlines between them, as grpcurl reads
 * them); for a streaming request a JSON array stands for its elements. `-d -` reads stdin: for client and bidi
 * streaming as a stream, each message parsed and sent as soon as it is complete and the request stream half-closed
 * at the end of stdin (so a bidi call can be driven by hand); otherwise the whole of stdin, before the call.
 * @throws UserError `bad-request` for a value that is not JSON (for stdin streams, when that value is reached).
 */
async function readRequests(data: string | undefined, streaming: boolean): Promise<JsonValue[] | AsyncIterable<JsonValue>> {
  if (data === undefined) return [{}];
  const { jsonValuesOf } = await import('../../call/json-values.js');
  const { parseRequestJson } = await import('../../call/request-json.js');
  // Not JSON.parse: it would turn 1152921504606846977 into 1152921504606846976.
  async function* messages(texts: AsyncIterable<string>): AsyncGenerator<JsonValue> {
    let index = 0;
    for await (const text of texts) {
      index++;
      let value: JsonValue;
      try {
        value = parseRequestJson(text);
      } catch (error) {
        throw new UserError('bad-request', `-d: message ${index} is not JSON: ${errorMessage(error)}`);
      }
      if (streaming && Array.isArray(value)) yield* value;
      else yield value;
    }
  }
  if (data === '-') {
    process.stdin.setEncoding('utf8');
    const stdin = messages(jsonValuesOf(process.stdin as AsyncIterable<string>));
    return streaming ? stdin : collect(stdin);
  }
  let text = data;
  if (data.startsWith('@')) {
    text = await readFile(data.slice(1), 'utf8').catch((error: unknown) => {
      throw new UserError('bad-flag', `-d: cannot read ${data.slice(1)}: ${errorMessage(error)}`);
    });
  }
  return collect(messages(jsonValuesOf([text])));
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const collected: T[] = [];
  for await (const item of items) collected.push(item);
  return collected;
}

/** The workspace's FileDescriptorSet and its buf module folder, for servers without reflection. */
async function workspaceDescriptors(command: Command): Promise<{ descriptorSet: Uint8Array; bufDir: string }> {
  const config = await loadConfigFor(command);
  const { loadContract } = await import('../../contract/load-contract.js');
  const loaded = await loadContract(config.contract.root, config.workspaceDir);
  return { descriptorSet: loaded.contract.descriptorSet, bufDir: loaded.bufDir };
}

/**
 * The same call with buf curl: its TLS flags, headers, body and deadline, `--schema` when the workspace contracts
 * stand in for reflection, `--list-methods` for `--list` (`path` undefined). `requests` undefined (a request stream
 * read from stdin) is `-d @-`: buf curl reads stdin too. Headers keep their `${VAR}` references for the shell to expand
 * (`quoteHeader`, lazy-loaded with the header reader).
 */
function curlCommand(
  address: string,
  path: string | undefined,
  flags: CallFlags,
  requests: readonly JsonValue[] | undefined,
  schema: string | undefined,
  quoteHeader: (flag: string) => string,
): string {
  const tls = usesTls(flags);
  const parts = ['buf', 'curl', '--protocol', 'grpc'];
  if (!tls) parts.push('--http2-prior-knowledge');
  if (flags.ca) parts.push('--cacert', shellQuote(flags.ca));
  if (flags.cert) parts.push('--cert', shellQuote(flags.cert), '--key', shellQuote(flags.key ?? ''));
  if (flags.servername) parts.push('--servername', shellQuote(flags.servername));
  if (schema) parts.push('--schema', shellQuote(schema));
  for (const header of flags.header ?? []) parts.push('-H', quoteHeader(header));
  if (path === undefined) {
    parts.push('--list-methods', `${tls ? 'https' : 'http'}://${address}`);
    return parts.join(' ');
  }
  if (flags.deadline) parts.push('--timeout', `${Number(flags.deadline)}ms`);
  const body =
    requests === undefined
      ? '@-'
      : requests.length === 1
        ? JSON.stringify(requests[0])
        : requests.map((request) => JSON.stringify(request)).join('\n');
  parts.push('-d', shellQuote(body), `${tls ? 'https' : 'http'}://${address}${path}`);
  return parts.join(' ');
}
