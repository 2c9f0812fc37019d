import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import type { FileRegistry, JsonValue } from '@bufbuild/protobuf';
import { ChannelCredentials, ClientError, Metadata, Status } from 'nice-grpc';
import { describeErrorDetails } from '@grpcforge/runtime/vocabulary';
import { resolveMethodName, splitMethodName } from '../call/method-names.js';
import { createReflectionClient, type ReflectionClient } from '../call/reflection-client.js';
import { errorDetailsJson, statusDetailsOf } from '../call/status-details.js';
import { callTlsCredentials } from '../call/tls.js';
import {
  invokeDynamic,
  registryFromFiles,
  registryFromSet,
  resolveDynamicMethod,
  type ResolvedDynamicMethod,
} from '../call/dynamic-call.js';
import type { ResolvedConfig } from '../config/resolved.js';
import type { DashboardExplorer, ExplorerCallAnswer, ExplorerCallRequest } from '../dashboard/workspace.js';
import { UserError, errorMessage } from '../util/errors.js';
import { toPosix } from '../util/fs.js';

/** A request the explorer refuses, with the message `grpcforge call` would print. */
class Rejected extends Error {}

/** Metadata as `{ name: [values] }`, binary values in base64. */
function metadataJson(metadata: Metadata): Record<string, string[]> {
  const json: Record<string, string[]> = {};
  for (const [name, values] of metadata) {
    json[name] = values.map((value) => (typeof value === 'string' ? value : Buffer.from(value).toString('base64')));
  }
  return json;
}

/** A UserError's message and its detail lines, as the CLI prints them. */
const userMessage = (error: UserError) => [error.message, ...error.details].join('\n');

/**
 * The explorer's calls, over `grpcforge call`'s machinery: server reflection (the workspace contracts when the
 * server has none), {@link invokeDynamic}, with headers and trailers. TLS: when `grpcforge.yaml` has `tls` switched
 * on, every call dials TLS with its `ca` (the system roots without one); no client certificate is sent.
 * @param descriptorSet the workspace contracts (a FileDescriptorSet), for servers without reflection; `undefined`
 * when they could not be built.
 */
export function createExplorer(config: ResolvedConfig, descriptorSet: Uint8Array | undefined): DashboardExplorer {
  const tls = config.tls;
  let credentials: Promise<ChannelCredentials> | undefined;
  const credentialsOf = () =>
    (credentials ??= !tls
      ? Promise.resolve(ChannelCredentials.createInsecure())
      : (tls.ca === undefined ? Promise.resolve(null) : readFile(tls.ca)).then(
          // No SNI for an IP address (the explorer dials 127.0.0.1): no DEP0123 in the dashboard's stderr.
          (ca) => callTlsCredentials({ ca, cert: null, key: null }),
          (error: unknown) => {
            credentials = undefined; // read again next time: the file may be created meanwhile
            throw new Rejected(`tls.ca: cannot read ${tls.ca ?? ''}: ${errorMessage(error)}`);
          },
        ));
  const contracts = descriptorSet && registryFromSet(descriptorSet);

  async function resolve(
    reflection: ReflectionClient,
    method: string,
  ): Promise<[ResolvedDynamicMethod, 'reflection' | 'contracts']> {
    let services: string[];
    try {
      services = await reflection.listServices();
    } catch (error) {
      if (!(error instanceof ClientError && error.code === Status.UNIMPLEMENTED) || !contracts) throw error;
      return [resolveDynamicMethod(contracts, method, 'in the workspace contracts'), 'contracts'];
    }
    const registryFor = async (service: string): Promise<FileRegistry> =>
      registryFromFiles(await reflection.filesForSymbol(service));
    const split = splitMethodName(method);
    if (split && services.includes(split.service)) {
      return [resolveDynamicMethod(await registryFor(split.service), method), 'reflection'];
    }
    // Not a listed service: describe them all for the did-you-mean, as grpcforge call does.
    const catalog = [];
    for (const service of services) {
      const registry = await registryFor(service).catch(() => undefined);
      catalog.push({ service, methods: registry?.getService(service)?.methods.map((entry) => entry.name) ?? [] });
    }
    const name = resolveMethodName(method, catalog);
    return [resolveDynamicMethod(await registryFor(name.service), name.path), 'reflection'];
  }

  return {
    tls: tls && { caFile: tls.ca === undefined ? undefined : toPosix(relative(config.workspaceDir, tls.ca)) },
    async call(request: ExplorerCallRequest) {
      const metadata = Metadata();
      for (const [name, value] of Object.entries(request.metadata)) metadata.append(name, value);
      if (request.apiKey !== undefined) metadata.set('x-api-key', request.apiKey);
      if (request.bearerToken !== undefined) metadata.set('authorization', `Bearer ${request.bearerToken}`);
      let reflection: ReflectionClient | undefined;
      let descriptors: 'reflection' | 'contracts' = 'reflection';
      const headers: Record<string, string[]> = {};
      let trailers: Record<string, string[]> = {};
      let trailer: Metadata | undefined;
      const responses: JsonValue[] = [];
      let bytes = 0;
      let truncated = false;
      let started: number | undefined;
      const stop = new AbortController();
      const answer = (status: Status, message: string): ExplorerCallAnswer => ({
        status: Status[status],
        statusCode: status,
        message,
        headers,
        trailers,
        durationMs: started === undefined ? 0 : Math.round((performance.now() - started) * 100) / 100,
        responses,
        truncated,
        descriptors,
      });
      try {
        reflection = createReflectionClient(request.target, {
          credentials: await credentialsOf(),
          metadata,
          timeoutMs: request.deadlineMs,
        });
        const [resolved, source] = await resolve(reflection, request.method);
        descriptors = source;
        const streamingRequest = resolved.kind === 'clientStreaming' || resolved.kind === 'bidiStreaming';
        if (!streamingRequest && request.requests.length > 1) {
          throw new Rejected(
            `${request.method} takes one request message (it is ${resolved.kind}), got ${String(request.requests.length)}`,
          );
        }
        started = performance.now();
        await invokeDynamic(resolved, {
          address: request.target,
          credentials: await credentialsOf(),
          metadata,
          requests: request.requests as JsonValue[],
          deadlineMs: request.deadlineMs,
          signal: stop.signal,
          onHeader: (header) => Object.assign(headers, metadataJson(header)),
          onTrailer: (received) => {
            trailer = received;
            trailers = metadataJson(received);
          },
          onResponse: (response) => {
            if (truncated) return;
            const size = Buffer.byteLength(JSON.stringify(response));
            if (responses.length >= request.maxResponses || bytes + size > request.maxResponseBytes) {
              truncated = true;
              stop.abort();
              return;
            }
            bytes += size;
            responses.push(response);
          },
        });
        return answer(Status.OK, '');
      } catch (error) {
        if (error instanceof Rejected) return { rejected: error.message };
        if (error instanceof UserError) return { rejected: userMessage(error) };
        // Aborted by onResponse, past a limit.
        if (stop.signal.aborted) {
          return answer(
            Status.CANCELLED,
            `the dashboard stopped reading after ${String(responses.length)} responses (at most ${String(request.maxResponses)}, ${String(request.maxResponseBytes)} bytes of JSON)`,
          );
        }
        if (error instanceof ClientError) {
          const read = statusDetailsOf(trailer);
          return {
            ...answer(error.code, error.details),
            ...(read?.details
              ? { details: errorDetailsJson(read.details), detailsText: describeErrorDetails(read.details) }
              : {}),
            ...(read?.problem ? { detailsProblem: read.problem } : {}),
          };
        }
        throw error;
      } finally {
        reflection?.close();
      }
    },
  };
}
