import assert from 'node:assert/strict';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import {
  Status,
  closeServiceClient,
  createLogStore,
  createServiceClient,
  defineService,
  startServer,
  type LogStore,
  type RunningServer,
} from '../../packages/runtime/src/index.ts';
import { STORED_TEXT_MAX_BYTES, UNKNOWN_BUCKET } from '../../packages/runtime/src/vocabulary.ts';
import { storeWorkspace } from '../helpers/dashboard.ts';
import { EchoDefinition, type EchoMessage } from '../helpers/json-definition.ts';
import { countOf, scrape } from '../helpers/prometheus.ts';
import { runCli } from '../helpers/workspace.ts';

// A hostile client calling made-up paths cannot grow the store's set of methods: calls to methods the server does not
// serve are stored under `<service>/_unknown` (a served service) or `_unknown/_unknown`, with the path itself, cut to
// 256 bytes, in `raw_path`; `stats`, `logs --json` and Prometheus show the same buckets.

const SERVICE = 'test.v1.EchoService';
const DISTINCT_PATHS = 2000;
/** Streams in flight at once on the flood's connection (under any server's concurrent-stream limit). */
const CONCURRENT = 50;
const LONG_METHOD = 'M'.repeat(16_000);

/** The paths a hostile client sends, and the bucket each must be stored under. */
const ODD_PATHS: readonly (readonly [path: string, service: string])[] = [
  // A served method's path with an extra segment: never Echo's row.
  [`/${SERVICE}/Echo/zzz`, SERVICE],
  [`/${SERVICE}/${LONG_METHOD}`, SERVICE],
  [`/${SERVICE}/`, SERVICE],
  [`/${SERVICE}`, UNKNOWN_BUCKET],
  [`//Echo`, UNKNOWN_BUCKET],
  [`/${SERVICE}x/Echo`, UNKNOWN_BUCKET],
  ['/', UNKNOWN_BUCKET],
  ['/é/x', UNKNOWN_BUCKET],
];
/** Paths the HTTP/2 layer (nghttp2) refuses with RST_STREAM PROTOCOL_ERROR: no call, no row. */
const REFUSED_PATHS = [`${SERVICE}/Echo`, '/a b/c'];

/**
 * Sends one gRPC request with an empty message on `path`; resolves to the grpc-status the server answered, `reset`
 * when the stream was reset instead.
 */
function rawCall(session: ClientHttp2Session, path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let status: string | undefined;
    const read = (headers: IncomingHttpHeaders) => {
      const value = headers['grpc-status'];
      if (value !== undefined) status = String(value);
    };
    stream.on('response', read);
    stream.on('trailers', read);
    stream.on('close', () => resolve(status));
    stream.on('error', () => resolve('reset'));
    stream.resume();
    stream.end(Buffer.alloc(5));
  });
}

describe('calls to methods the server does not serve', { timeout: 120_000 }, () => {
  let ws: string;
  let store: LogStore;
  let server: RunningServer;
  let recorded = 0;

  before(async () => {
    let storeUrl: string;
    ({ ws, storeUrl } = await storeWorkspace());
    store = await createLogStore({ url: storeUrl, flushIntervalMs: 10 });
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      health: true,
      reflection: false,
      recordCall: (call) => {
        recorded++;
        store.logs.record(call);
      },
      telemetry: { serviceName: 'echo', prometheus: { host: '127.0.0.1', port: 0 } },
      services: [
        defineService(EchoDefinition, {
          echo: async (request: EchoMessage) => ({ text: request.text ?? '' }),
          repeat: async function* () {},
          collect: async () => ({}),
          chat: async function* () {},
        }),
      ],
    });
    const client = createServiceClient(EchoDefinition, { target: server.address, retry: false });
    try {
      assert.deepEqual(await client.echo({ text: 'real' }), { text: 'real' });
    } finally {
      closeServiceClient(client);
    }
    const session = connect(`http://${server.address}`);
    try {
      const statuses: (string | undefined)[] = [];
      // 2,000 distinct paths: half of them unknown methods of the served service, half unknown services.
      const flood = Array.from({ length: DISTINCT_PATHS }, (_, index) =>
        index % 2 === 0 ? `/${SERVICE}/Made${index}` : `/made.v${index}.Service/Up`,
      );
      for (let at = 0; at < flood.length; at += CONCURRENT) {
        statuses.push(...(await Promise.all(flood.slice(at, at + CONCURRENT).map((path) => rawCall(session, path)))));
      }
      // grpc-js answers every one UNIMPLEMENTED (a path it cannot route, whatever its shape).
      assert.deepEqual(new Set(statuses), new Set([String(Status.UNIMPLEMENTED)]));
      // ... or RESOURCE_EXHAUSTED (the 16,000-character one: over grpc-js's metadata size); never OK.
      for (const [path] of ODD_PATHS) assert.notEqual(await rawCall(session, path), String(Status.OK), path.slice(0, 40));
      // A health check (served, not logged) adds no row.
      assert.equal(await rawCall(session, '/grpc.health.v1.Health/Check'), String(Status.OK));
      assert.equal(await rawCall(session, '/grpc.health.v1.Health/Nope'), String(Status.UNIMPLEMENTED));
      for (const path of REFUSED_PATHS) assert.equal(await rawCall(session, path), 'reset', path);
    } finally {
      session.close();
    }
    // Unknown paths are recorded when their stream closes, a moment after the client got its answer.
    const expected = 1 + DISTINCT_PATHS + ODD_PATHS.length + 1;
    for (let i = 0; i < 500 && recorded < expected; i++) await sleep(10);
    assert.equal(recorded, expected);
    await store.flush();
  });

  after(async () => {
    await server.shutdown(1000);
    await store.close();
  });

  test('the store holds one method per served service and one for every other, not one per path', async () => {
    const methods = await store.statistics.methods({ since: 0 });
    const calls = new Map(methods.map((entry) => [`${entry.service}/${entry.method}`, entry.calls]));
    assert.deepEqual(
      new Map([...calls].sort(([a], [b]) => a.localeCompare(b))),
      new Map([
        [`${SERVICE}/Echo`, 1],
        [`${SERVICE}/${UNKNOWN_BUCKET}`, DISTINCT_PATHS / 2 + 3],
        [`_unknown/_unknown`, DISTINCT_PATHS / 2 + 5],
        [`grpc.health.v1.Health/${UNKNOWN_BUCKET}`, 1],
      ]),
    );
    // Echo's own row is the one real call, OK: no UNIMPLEMENTED for a method no real call failed.
    const echo = methods.find((entry) => entry.method === 'Echo');
    assert.deepEqual(
      echo?.byStatus.map((entry) => [entry.statusCode, entry.calls]),
      [[Status.OK, 1]],
    );
    const rows = await store.logs.list({ limit: 10_000 });
    assert.equal(rows.length, DISTINCT_PATHS + ODD_PATHS.length + 2);
    assert.equal(new Set(rows.map((row) => `${row.service}/${row.method}`)).size, 4);
    assert.ok(rows.every((row) => (row.kind === 'unknown') === (row.rawPath !== null)));
  });

  test('each row keeps the path it asked for, cut to 256 bytes; the bucket follows the path’s service part', async () => {
    const rows = await store.logs.list({ method: UNKNOWN_BUCKET, limit: 10_000 });
    const byPath = new Map(rows.map((row) => [row.rawPath, row]));
    for (const [path, service] of ODD_PATHS) {
      const stored = path.length > STORED_TEXT_MAX_BYTES.rawPath ? path.slice(0, STORED_TEXT_MAX_BYTES.rawPath) : path;
      const row = byPath.get(stored);
      assert.ok(row, `a row for ${stored.slice(0, 40)}`);
      assert.deepEqual([row.service, row.method, row.kind], [service, UNKNOWN_BUCKET, 'unknown'], path.slice(0, 40));
    }
    assert.equal(byPath.get(`/made.v1.Service/Up`)?.service, UNKNOWN_BUCKET);
    assert.equal(byPath.get(`/${SERVICE}/Made0`)?.service, SERVICE);
    assert.ok(rows.every((row) => Buffer.byteLength(row.rawPath ?? '') <= STORED_TEXT_MAX_BYTES.rawPath));
  });

  test('grpcforge stats and logs --json show the buckets and the raw paths', () => {
    const stats = runCli(['stats', '--json'], ws);
    assert.equal(stats.code, 0, stats.stderr);
    const json = JSON.parse(stats.stdout) as { methods: { service: string; method: string; calls: number }[] };
    assert.deepEqual(
      json.methods.map((entry) => `${entry.service}/${entry.method}`).sort(),
      [`${SERVICE}/Echo`, `${SERVICE}/_unknown`, '_unknown/_unknown', 'grpc.health.v1.Health/_unknown'].sort(),
    );
    const text = runCli(['stats'], ws);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /_unknown: calls to methods the server does not serve/);
    const logs = runCli(['logs', '--json', '--method', 'Echo'], ws);
    assert.equal(logs.code, 0, logs.stderr);
    const echo = JSON.parse(logs.stdout) as { logs: { rawPath: string | null; statusCode: number }[] };
    assert.deepEqual(echo.logs, [{ ...echo.logs[0], rawPath: null, statusCode: 0 }]);
    const unknown = runCli(['logs', '--json', '--service', SERVICE, '--method', '_unknown', '--limit', '2000'], ws);
    assert.equal(unknown.code, 0, unknown.stderr);
    const paths = (JSON.parse(unknown.stdout) as { logs: { rawPath: string | null }[] }).logs.map((log) => log.rawPath);
    assert.ok(paths.includes(`/${SERVICE}/Echo/zzz`));
    assert.equal(paths.length, DISTINCT_PATHS / 2 + 3);
  });

  test('Prometheus counts the same buckets: rpc.service as stored, rpc.method _OTHER (the conventions’ value)', async () => {
    const samples = await scrape(`http://${server.telemetry?.prometheusAddress ?? ''}/metrics`);
    const methods = await store.statistics.methods({ since: 0 });
    for (const { service, method, calls } of methods) {
      const labels = { rpc_service: service, rpc_method: method === UNKNOWN_BUCKET ? '_OTHER' : `${service}/${method}` };
      assert.equal(countOf(samples, labels), calls, `${service}/${method}`);
    }
    const series = new Set(
      samples
        .filter((sample) => sample.name === 'rpc_server_call_duration_count')
        .map((sample) => `${sample.labels.rpc_service ?? ''} ${sample.labels.rpc_method ?? ''}`),
    );
    assert.equal(series.size, methods.length);
  });
});
