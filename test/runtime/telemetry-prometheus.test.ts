import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { createConnection } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { createChannel, createClient } from 'nice-grpc';
import { defineService, startServer, type RunningServer } from '../../packages/runtime/src/index.ts';
import { EchoDefinition, type EchoMessage } from '../helpers/json-definition.ts';
import { countOf, scrape, type Sample } from '../helpers/prometheus.ts';
import { zeroDefenceCounts } from '../../packages/runtime/src/vocabulary.ts';

// The Prometheus endpoint: its own port, the text format, rpc.server.call.duration as a histogram in seconds, and
// label values bounded by what the server serves: no client can add a label value by calling made-up paths.

describe('Prometheus endpoint', () => {
  let server: RunningServer;
  let raw: grpc.Client;
  let metricsUrl: string;

  before(async () => {
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      health: true,
      reflection: false,
      // No OTLP: Prometheus scrapes the metrics (spans are made, around streams too, and go nowhere).
      telemetry: { serviceName: 'echo', prometheus: { host: '127.0.0.1', port: 0 } },
      services: [echoService()],
    });
    const address = server.telemetry?.prometheusAddress;
    assert.match(address ?? '', /^127\.0\.0\.1:\d+$/);
    assert.notEqual(address, server.address, 'its own port');
    metricsUrl = `http://${address ?? ''}/metrics`;
    const channel = createChannel(server.address);
    const client = createClient(EchoDefinition, channel);
    await client.echo({ text: 'a' });
    await client.echo({ text: 'b' });
    const streamed: EchoMessage[] = [];
    for await (const message of client.repeat({ text: 'c' })) streamed.push(message);
    assert.equal(streamed.length, 2);
    channel.close();
    raw = new grpc.Client(server.address, grpc.credentials.createInsecure());
    // Made-up paths: an unknown service (3 methods, 4 calls) and an unknown method of a served service.
    for (const path of ['/nope.Service/Missing', '/nope.Service/Missing', '/nope.Service/Other', '/other.v9.Thing/Gone']) {
      assert.equal(await rawCall(raw, path), grpc.status.UNIMPLEMENTED);
    }
    // ... and a served method's path with an extra segment: not Echo's.
    for (const path of ['/test.v1.EchoService/Missing', '/test.v1.EchoService/Echo/zzz']) {
      assert.equal(await rawCall(raw, path), grpc.status.UNIMPLEMENTED);
    }
    // Health is served outside the pipeline: not counted.
    assert.equal(await rawCall(raw, '/grpc.health.v1.Health/Check'), grpc.status.OK);
  });

  after(async () => {
    raw.close();
    await server.shutdown(0);
  });

  test('GET /metrics: the server duration histogram in seconds with the RPC labels; unknown methods collapse', async () => {
    // Unknown paths are recorded when their stream closes, a moment after the client got its answer.
    let samples = await scrape(metricsUrl);
    for (let i = 0; i < 20 && countOf(samples, { rpc_method: '_OTHER' }) < 6; i++) {
      await sleep(50);
      samples = await scrape(metricsUrl);
    }
    // The exporter (0.223) keeps the OTel name and states the unit in a UNIT line instead of a `_seconds` suffix.
    const name = 'rpc_server_call_duration';
    assert.equal(samples.units.get(name), 's');
    assert.equal(
      countOf(samples, {
        rpc_method: 'test.v1.EchoService/Echo',
        rpc_service: 'test.v1.EchoService',
        rpc_system: 'grpc',
        rpc_system_name: 'grpc',
        rpc_grpc_status_code: '0',
        rpc_status_code: 'OK',
      }),
      2,
    );
    const buckets = samples.filter((s) => s.name === `${name}_bucket` && s.labels.rpc_method === 'test.v1.EchoService/Echo');
    assert.ok(
      buckets.some((s) => s.labels.le === '0.005'),
      'the seconds buckets of the conventions',
    );
    assert.equal(buckets.find((s) => s.labels.le === '+Inf')?.value, 2);
    // A response stream is one call, timed to its end.
    assert.equal(countOf(samples, { rpc_method: 'test.v1.EchoService/Repeat', rpc_status_code: 'OK' }), 1);
    // Four calls of three made-up paths: one series, not three; rpc.method `_OTHER` (the conventions' value for a method
    // not recognised), rpc.service the store's bucket `_unknown`, as `grpcforge stats` shows `_unknown/_unknown`.
    assert.equal(countOf(samples, { rpc_method: '_OTHER', rpc_service: '_unknown', rpc_status_code: 'UNIMPLEMENTED' }), 4);
    // An unknown method of a served service keeps its (bounded) service: stats' `test.v1.EchoService/_unknown`.
    assert.equal(countOf(samples, { rpc_method: '_OTHER', rpc_service: 'test.v1.EchoService' }), 2);
    assert.equal(countOf(samples, { rpc_method: 'test.v1.EchoService/Echo', rpc_status_code: 'UNIMPLEMENTED' }), 0);
    const values = samples.flatMap((s) => Object.values(s.labels));
    for (const made of ['nope', 'Missing', 'Gone', 'other.v9', 'Health']) {
      assert.ok(!values.some((value) => value.includes(made)), `no label value mentions ${made}`);
    }
    const series = new Set(
      samples.filter((s) => s.name === `${name}_count`).map((s) => `${s.labels.rpc_service ?? ''} ${s.labels.rpc_method ?? ''}`),
    );
    assert.deepEqual([...series].sort(), [
      '_unknown _OTHER',
      'test.v1.EchoService _OTHER',
      'test.v1.EchoService test.v1.EchoService/Echo',
      'test.v1.EchoService test.v1.EchoService/Repeat',
    ]);
    const info = samples.find((s) => s.name === 'target_info');
    assert.equal(info?.labels.service_name, 'echo');
  });

  test('the defence counters: one counter each, `grpcforge_server_defence_<name>_total`, zero while no defence acted', async () => {
    const samples = await scrape(metricsUrl);
    const defences = samples.filter((s) => s.name.startsWith('grpcforge_server_defence_'));
    assert.deepEqual(
      defences.map((s) => [s.name, s.value]),
      [
        ['grpcforge_server_defence_connections_refused_total', 0],
        ['grpcforge_server_defence_handshake_timeouts_total', 0],
        ['grpcforge_server_defence_header_timeouts_total', 0],
        ['grpcforge_server_defence_tls_handshake_failures_total', 0],
        ['grpcforge_server_defence_rapid_reset_goaways_total', 0],
        ['grpcforge_server_defence_streams_reset_total', 0],
        ['grpcforge_server_defence_auth_throttled_total', 0],
      ],
    );
    assert.deepEqual(server.defenceCounts(), zeroDefenceCounts());
    assert.equal(samples.units.get('grpcforge_server_defence_streams_reset_total'), '{stream}');
  });

  test('other paths are 404', async () => {
    const response = await fetch(metricsUrl.replace('/metrics', '/'));
    assert.equal(response.status, 404);
    await response.body?.cancel();
  });
});

/** A unary call with an empty message (an empty protobuf or JSON-less request), resolving to the status code. */
function rawCall(client: grpc.Client, path: string): Promise<number> {
  const empty = () => Buffer.alloc(0);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      empty,
      (bytes: Buffer) => bytes,
      {},
      new grpc.Metadata(),
      {},
      (error) => resolve(error?.code ?? 0),
    );
  });
}

describe('defence counters in Prometheus', () => {
  test('a connection closed by the handshake timeout is counted, and each scrape reads the counts anew', async () => {
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      reflection: false,
      limits: { handshakeTimeoutMs: 100 },
      telemetry: { serviceName: 'echo', traces: false, prometheus: { host: '127.0.0.1', port: 0 } },
      services: [echoService()],
    });
    try {
      const url = `http://${server.telemetry?.prometheusAddress ?? ''}/metrics`;
      const valueOf = (samples: Sample[], name: string) => samples.find((sample) => sample.name === name)?.value;
      let samples = await scrape(url);
      assert.equal(valueOf(samples, 'grpcforge_server_defence_handshake_timeouts_total'), 0);
      assert.equal(valueOf(samples, 'grpcforge_server_defence_rapid_reset_goaways_total'), 0);
      // A TCP connection that never sends the HTTP/2 preface: the server closes it.
      const silent = createConnection({ host: '127.0.0.1', port: server.port });
      silent.on('error', () => undefined);
      // Read (and drop) so that the server's close reaches 'close'.
      silent.resume();
      await new Promise((resolve) => silent.once('close', resolve));
      samples = await scrape(url);
      assert.equal(valueOf(samples, 'grpcforge_server_defence_handshake_timeouts_total'), 1);
      assert.equal(server.defenceCounts().handshakeTimeouts, 1);
    } finally {
      await server.shutdown(1000);
    }
  });
});

function echoService() {
  return defineService(EchoDefinition, {
    echo: async (request: EchoMessage) => ({ text: request.text ?? '' }),
    repeat: async function* (request: EchoMessage) {
      yield { text: request.text ?? '' };
      yield { text: request.text ?? '' };
    },
    collect: async () => ({}),
    chat: async function* () {},
  });
}
