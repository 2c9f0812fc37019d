import type { LogStore } from '@grpcforge/runtime';
import type { ExplorerCommandsJson, ExplorerTarget } from '@grpcforge/runtime/vocabulary';
import { DashboardRequestError } from './api.js';
import type { DashboardWorkspace, ExplorerCallRequest } from './workspace.js';

/**
 * The API explorer's rules, without HTTP: which targets it may call (the workspace's own servers, never anywhere
 * else), what a call request must look like, and the equivalent commands. The call itself is the CLI's
 * (`DashboardExplorer.call`): the dashboard layer speaks no gRPC.
 */

/** The deadline of a call when the request names none, and the longest one allowed, in ms. */
export const EXPLORER_DEFAULT_DEADLINE_MS = 10_000;
export const EXPLORER_MAX_DEADLINE_MS = 60_000;
/** At most this many responses are kept, and this many bytes of their JSON; past either the call is cancelled. */
export const EXPLORER_MAX_RESPONSES = 1000;
export const EXPLORER_MAX_RESPONSE_BYTES = 1024 * 1024;

/** The placeholders the commands show instead of the credentials (environment variables the reader sets). */
export const API_KEY_PLACEHOLDER = '$GRPCFORGE_API_KEY';
export const BEARER_TOKEN_PLACEHOLDER = '$GRPCFORGE_BEARER_TOKEN';

/**
 * The targets: every serving instance in the store (newest first), then every `listen:` address of the workspace
 * that no instance has (port 0, which is no address, left out).
 */
export async function explorerTargets(store: LogStore, workspace: DashboardWorkspace): Promise<ExplorerTarget[]> {
  const targets: ExplorerTarget[] = [];
  const seen = new Set<string>();
  for (const instance of await store.instances.list()) {
    if (instance.state !== 'serving' || seen.has(instance.address)) continue;
    seen.add(instance.address);
    targets.push({
      target: instance.address,
      from: 'instance',
      service: instance.service,
      services: instance.services,
      instanceId: instance.id,
    });
  }
  for (const service of workspace.services) {
    if (!service.listen || service.listen.endsWith(':0') || seen.has(service.listen)) continue;
    seen.add(service.listen);
    targets.push({ target: service.listen, from: 'listen', service: service.name, services: service.serves });
  }
  return targets;
}

const bad = (message: string) => new DashboardRequestError(400, message);

const KEYS = new Set(['target', 'method', 'requests', 'metadata', 'apiKey', 'bearerToken', 'deadlineMs']);

/** Request messages from `requests`: an array of messages, or text (one JSON value, a JSON array, or JSON lines). */
function requestsOf(value: unknown): unknown[] {
  if (value === undefined) return [{}];
  if (Array.isArray(value)) return value.length === 0 ? [{}] : value;
  if (typeof value !== 'string') throw bad('requests: expected an array of messages or a string of JSON lines');
  const text = value.trim();
  if (text === '') return [{}];
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? (parsed.length === 0 ? [{}] : parsed) : [parsed];
  } catch {
    return text
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line, index) => {
        try {
          return JSON.parse(line) as unknown;
        } catch (error) {
          throw bad(`requests: line ${String(index + 1)} is not JSON: ${(error as Error).message}`);
        }
      });
  }
}

/** Metadata names the explorer refuses: credentials have their own fields, the rest belong to gRPC itself. */
const RESERVED = new Set(['authorization', 'x-api-key', 'content-type', 'te', 'user-agent', 'host']);

function metadataOf(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad('metadata: expected an object of names and string values');
  const metadata: Record<string, string> = {};
  for (const [rawName, entry] of Object.entries(value)) {
    const name = rawName.trim().toLowerCase();
    if (!/^[0-9a-z_.-]+$/.test(name)) throw bad(`metadata: "${rawName}" is not a metadata name (0-9 a-z _ . -)`);
    if (name === 'authorization' || name === 'x-api-key')
      throw bad(`metadata: send ${name} as ${name === 'x-api-key' ? 'apiKey' : 'bearerToken'}, which is never shown again`);
    if (RESERVED.has(name) || name.startsWith('grpc-')) throw bad(`metadata: "${name}" is reserved by gRPC`);
    if (name.endsWith('-bin')) throw bad(`metadata: binary metadata ("${name}") is not supported`);
    if (typeof entry !== 'string' || !/^[\x20-\x7e]*$/.test(entry))
      throw bad(`metadata: the value of "${name}" must be a string of printable ASCII`);
    metadata[name] = entry;
  }
  return metadata;
}

/** A credential field: absent or blank is none; never echoed in a message. */
function credentialOf(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw bad(`${field}: expected a string`);
  const text = value.trim();
  if (text === '') return undefined;
  if (!/^[\x21-\x7e]+$/.test(text)) throw bad(`${field}: expected printable ASCII without spaces`);
  return text;
}

/**
 * Checks the body of `POST /api/v1/explorer/call` against the allowed targets.
 * @throws DashboardRequestError 400 naming the field (a target not allowed names the allowed ones).
 */
export function explorerCallRequest(body: unknown, allowed: readonly string[]): ExplorerCallRequest & { deadlineGiven: boolean } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('body: expected a JSON object');
  const fields = body as Record<string, unknown>;
  for (const key of Object.keys(fields)) if (!KEYS.has(key)) throw bad(`body: unknown field "${key}"`);
  const { target, method, deadlineMs } = fields;
  if (typeof target !== 'string' || target === '') throw bad('target: expected HOST:PORT of a service of the workspace');
  if (!allowed.includes(target)) {
    throw bad(
      `target: "${target}" is not a server of this workspace; the explorer calls only ${
        allowed.length > 0 ? allowed.join(', ') : 'the listen addresses of grpcforge.yaml and serving instances (none now)'
      }`,
    );
  }
  if (typeof method !== 'string' || method.trim() === '') throw bad('method: expected pkg.Service/Method');
  if (
    deadlineMs !== undefined &&
    (typeof deadlineMs !== 'number' || !Number.isInteger(deadlineMs) || deadlineMs < 1 || deadlineMs > EXPLORER_MAX_DEADLINE_MS)
  ) {
    throw bad(`deadlineMs: expected a whole number of ms from 1 to ${String(EXPLORER_MAX_DEADLINE_MS)}`);
  }
  return {
    target,
    method: method.trim(),
    requests: requestsOf(fields.requests),
    metadata: metadataOf(fields.metadata),
    apiKey: credentialOf(fields.apiKey, 'apiKey'),
    bearerToken: credentialOf(fields.bearerToken, 'bearerToken'),
    deadlineMs: deadlineMs ?? EXPLORER_DEFAULT_DEADLINE_MS,
    deadlineGiven: deadlineMs !== undefined,
    maxResponses: EXPLORER_MAX_RESPONSES,
    maxResponseBytes: EXPLORER_MAX_RESPONSE_BYTES,
  };
}

/** Single-quoted for a POSIX shell. */
const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * The same call as `grpcforge call` and `buf curl` commands. Credentials appear as {@link API_KEY_PLACEHOLDER} and
 * {@link BEARER_TOKEN_PLACEHOLDER} (double-quoted, for the shell to expand), never as their values.
 * @param tls the workspace's TLS (its CA path as written, relative to the workspace folder); `undefined`: plaintext.
 */
export function explorerCommands(
  request: ExplorerCallRequest & { deadlineGiven: boolean },
  tls: { readonly caFile: string | undefined } | undefined,
): ExplorerCommandsJson {
  const method = request.method.replace(/^\//, '');
  const headers: string[] = Object.entries(request.metadata).map(([name, value]) => `-H ${quote(`${name}: ${value}`)}`);
  if (request.apiKey !== undefined) headers.push(`-H "x-api-key: ${API_KEY_PLACEHOLDER}"`);
  if (request.bearerToken !== undefined) headers.push(`-H "authorization: Bearer ${BEARER_TOKEN_PLACEHOLDER}"`);
  const single = request.requests.length === 1;
  const grpcforge = ['grpcforge', 'call', request.target, method];
  grpcforge.push('-d', quote(JSON.stringify(single ? request.requests[0] : request.requests)), ...headers);
  if (request.deadlineGiven) grpcforge.push('--deadline', String(request.deadlineMs));
  if (tls) grpcforge.push(...(tls.caFile === undefined ? ['--tls'] : ['--ca', quote(tls.caFile)]));
  const curl = ['buf', 'curl', '--protocol', 'grpc'];
  if (!tls) curl.push('--http2-prior-knowledge');
  else if (tls.caFile !== undefined) curl.push('--cacert', quote(tls.caFile));
  curl.push(...headers, '-d', quote(request.requests.map((entry) => JSON.stringify(entry)).join('\n')));
  curl.push(`${tls ? 'https' : 'http'}://${request.target}/${method}`);
  return { grpcforge: grpcforge.join(' '), bufCurl: curl.join(' ') };
}
