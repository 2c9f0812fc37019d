import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { createChannel, createClient, type TsProtoServiceDefinition } from 'nice-grpc';
import {
  ClientError,
  ServerError,
  Status,
  closeServiceClient,
  createServiceClient,
  defineService,
  startServer,
  traceIdOfCall,
  type CallRecord,
  type RunningServer,
} from '../../packages/runtime/src/index.ts';

// OpenTelemetry over OTLP/HTTP against a real receiver: a "user" server whose handler calls an "auth" server through
// the runtime's client factory (as generated clients do), both with telemetry, as in the example workspace. What the
// receiver decodes must be one trace: user's server span → user's client span → auth's server span.

interface Message {
  name?: string;
  token?: string;
  traceId?: string;
}

const json = {
  encode: (message: Message) => ({ finish: () => new Uint8Array(Buffer.from(JSON.stringify(message))) }),
  decode: (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString('utf8') || '{}') as Message,
  fromPartial: (message: Message) => message,
};
const unary = (name: string) =>
  ({ name, requestType: json, requestStream: false, responseType: json, responseStream: false, options: {} }) as const;

const AuthDefinition = {
  name: 'AuthService',
  fullName: 'auth.v1.AuthService',
  methods: { login: unary('Login') },
} as const satisfies TsProtoServiceDefinition;

const UserDefinition = {
  name: 'UserService',
  fullName: 'user.v1.UserService',
  methods: { getUser: unary('GetUser') },
} as const satisfies TsProtoServiceDefinition;

/** What the receiver got, by path, decoded from JSON. */
interface Received {
  readonly traces: OtlpTraces[];
  readonly metrics: OtlpMetrics[];
  readonly contentTypes: Set<string>;
  readonly collectorKeys: Set<string>;
}

/** A real OTLP/HTTP receiver on 127.0.0.1: `POST /v1/traces` and `/v1/metrics`, JSON encoding. */
async function startReceiver(): Promise<{ server: Server; endpoint: string; received: Received }> {
  const received: Received = { traces: [], metrics: [], contentTypes: new Set(), collectorKeys: new Set() };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.contentTypes.add(String(request.headers['content-type']));
      received.collectorKeys.add(String(request.headers['x-collector-key']));
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as never;
      if (request.url === '/v1/traces') received.traces.push(body);
      else if (request.url === '/v1/metrics') received.metrics.push(body);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { server, endpoint: `http://127.0.0.1:${address.port}`, received };
}

describe('OpenTelemetry export over OTLP/HTTP', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let auth: RunningServer;
  let user: RunningServer;
  const authRows: CallRecord[] = [];
  const handlerTraceIds: (string | undefined)[] = [];
  let authClient: ReturnType<typeof createServiceClient<typeof AuthDefinition>>;

  before(async () => {
    receiver = await startReceiver();
    const otlp = { endpoint: receiver.endpoint, headers: { 'x-collector-key': 'k1' } };
    auth = await startServer({
      host: '127.0.0.1',
      port: 0,
      health: false,
      reflection: false,
      recordCall: (call) => authRows.push(call),
      telemetry: { serviceName: 'auth', otlp },
      services: [
        defineService(AuthDefinition, {
          login: async (request: Message) => {
            if (request.name === 'broken') throw new ServerError(Status.UNAVAILABLE, 'the user store is down');
            if (request.name === 'nobody') throw new ServerError(Status.NOT_FOUND, 'no such user');
            return { token: `token-${request.name ?? ''}` };
          },
        }),
      ],
    });
    // Created before the user server starts, as createServiceContext does: telemetry applies from its start on.
    authClient = createServiceClient(AuthDefinition, { target: auth.address, retry: false });
    user = await startServer({
      host: '127.0.0.1',
      port: 0,
      health: false,
      reflection: false,
      telemetry: { serviceName: 'user', otlp },
      services: [
        defineService(UserDefinition, {
          getUser: async (request: Message, context) => {
            handlerTraceIds.push(traceIdOfCall(context.signal));
            try {
              const { token } = await authClient.login({ name: request.name ?? '' });
              return token === undefined ? {} : { token };
            } catch (error) {
              if (error instanceof ClientError) throw new ServerError(error.code, error.details);
              throw error;
            }
          },
        }),
      ],
    });
    // The test itself calls with a plain nice-grpc client: no span of its own, user's server span is the root.
    const channel = createChannel(user.address);
    const client = createClient(UserDefinition, channel);
    assert.deepEqual(await client.getUser({ name: 'ada' }), { token: 'token-ada' });
    await assert.rejects(client.getUser({ name: 'broken' }), (error: unknown) => {
      assert.ok(error instanceof ClientError);
      assert.equal(error.code, Status.UNAVAILABLE);
      return true;
    });
    await assert.rejects(client.getUser({ name: 'nobody' }), { code: Status.NOT_FOUND });
    channel.close();
    // Shutdown flushes the exporters: the spans and the last metrics reach the receiver before it resolves.
    await user.shutdown(1000);
    await auth.shutdown(1000);
    closeServiceClient(authClient);
  });

  after(async () => {
    await new Promise((resolve) => receiver.server.close(resolve));
  });

  test('the export is OTLP/HTTP JSON, with the configured headers', () => {
    assert.deepEqual([...receiver.received.contentTypes], ['application/json']);
    assert.deepEqual([...receiver.received.collectorKeys], ['k1']);
    assert.ok(receiver.received.traces.length > 0, 'no trace export arrived');
    assert.ok(receiver.received.metrics.length > 0, 'no metrics export arrived');
  });

  test('user → auth is one trace: server span, client span, auth server span, each the parent of the next', () => {
    const spans = spansOf(receiver.received.traces);
    const ok = (span: Span) => span.attributes['rpc.grpc.status_code'] === 0;
    const userServer = only(spans, (s) => s.service === 'user' && s.kind === SPAN_KIND_SERVER && ok(s));
    const userClient = only(spans, (s) => s.service === 'user' && s.kind === SPAN_KIND_CLIENT && ok(s));
    const authServer = only(spans, (s) => s.service === 'auth' && s.kind === SPAN_KIND_SERVER && ok(s));
    assert.equal(userServer.name, 'user.v1.UserService/GetUser');
    assert.equal(userClient.name, 'auth.v1.AuthService/Login');
    assert.equal(authServer.name, 'auth.v1.AuthService/Login');
    assert.equal(userServer.parentSpanId, undefined, 'the plain client sent no traceparent: user is the root');
    assert.equal(userClient.traceId, userServer.traceId);
    assert.equal(userClient.parentSpanId, userServer.spanId);
    assert.equal(authServer.traceId, userClient.traceId, 'traceparent crossed the wire');
    assert.equal(authServer.parentSpanId, userClient.spanId);
    assert.match(authServer.traceId, /^[0-9a-f]{32}$/);
    // The handler could read its call's trace id, and the request log stores it with the call.
    assert.equal(handlerTraceIds[0], userServer.traceId);
    const authRow = authRows.find((row) => row.method === 'Login' && row.statusCode === 0);
    assert.equal(authRow?.traceId, authServer.traceId);
    for (const span of [userServer, userClient, authServer]) {
      assert.equal(span.status.code ?? 0, 0, `${span.name} has status UNSET`);
    }
    assert.deepEqual(pick(authServer.attributes), {
      'rpc.system': 'grpc',
      'rpc.system.name': 'grpc',
      'rpc.service': 'auth.v1.AuthService',
      'rpc.method': 'auth.v1.AuthService/Login',
      'rpc.grpc.status_code': 0,
      'rpc.status_code': 'OK',
    });
    assert.deepEqual(pick(userClient.attributes), pick(authServer.attributes));
    assert.equal(userServer.attributes['rpc.service'], 'user.v1.UserService');
  });

  test('a failing call: the non-OK code on every span, status ERROR where the conventions say so', () => {
    const spans = spansOf(receiver.received.traces);
    const withCode = (code: number) => (span: Span) => span.attributes['rpc.grpc.status_code'] === code;
    const unavailable = spans.filter(withCode(Status.UNAVAILABLE));
    assert.deepEqual(unavailable.map((span) => `${span.service} ${span.kind}`).sort(), ['auth 2', 'user 2', 'user 3']);
    for (const span of unavailable) {
      assert.equal(span.status.code, STATUS_CODE_ERROR, `${span.service} ${span.name}`);
      assert.equal(span.attributes['rpc.status_code'], 'UNAVAILABLE');
      assert.equal(span.attributes['error.type'], 'UNAVAILABLE');
    }
    assert.equal(new Set(unavailable.map((span) => span.traceId)).size, 1, 'the failing call is one trace too');
    // NOT_FOUND is the caller's problem: an error on the client span, not on the server's (gRPC conventions).
    const notFound = spans.filter(withCode(Status.NOT_FOUND));
    const authNotFound = only(notFound, (span) => span.service === 'auth');
    const clientNotFound = only(notFound, (span) => span.kind === SPAN_KIND_CLIENT);
    assert.equal(authNotFound.status.code ?? 0, 0);
    assert.equal(clientNotFound.status.code, STATUS_CODE_ERROR);
  });

  test('rpc.server.call.duration and rpc.client.call.duration: seconds, per method and status code', () => {
    const server = histogramPoints(receiver.received.metrics, 'auth', 'rpc.server.call.duration');
    assert.equal(server.unit, 's');
    const byCode = new Map(server.points.map((point) => [point.attributes['rpc.grpc.status_code'], point]));
    assert.deepEqual(
      [...byCode.keys()].sort((a, b) => Number(a) - Number(b)),
      [0, Status.NOT_FOUND, Status.UNAVAILABLE],
    );
    const okPoint = byCode.get(0)!;
    assert.equal(Number(okPoint.count), 1);
    assert.deepEqual(pick(okPoint.attributes), {
      'rpc.system': 'grpc',
      'rpc.system.name': 'grpc',
      'rpc.service': 'auth.v1.AuthService',
      'rpc.method': 'auth.v1.AuthService/Login',
      'rpc.grpc.status_code': 0,
      'rpc.status_code': 'OK',
    });
    // A duration in seconds: the auth server answers in well under a second, the row in ms agrees.
    const seconds = okPoint.sum;
    assert.ok(seconds > 0 && seconds < 1, `sum ${seconds} s`);
    const row = authRows.find((call) => call.statusCode === (Status.OK as number))!;
    assert.ok(Math.abs(seconds - row.durationMs / 1000) < 1e-6, `${seconds} s vs ${row.durationMs} ms`);
    const client = histogramPoints(receiver.received.metrics, 'user', 'rpc.client.call.duration');
    assert.equal(client.unit, 's');
    assert.deepEqual(client.points.map((point) => point.attributes['rpc.method']).sort(), [
      'auth.v1.AuthService/Login',
      'auth.v1.AuthService/Login',
      'auth.v1.AuthService/Login',
    ]);
    assert.equal(histogramPoints(receiver.received.metrics, 'user', 'rpc.server.call.duration').points.length, 3);
  });
});

// OTLP JSON (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): ids in hex, enums as numbers.
const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;
const STATUS_CODE_ERROR = 2;

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpResource {
  attributes: OtlpAttribute[];
}
interface OtlpTraces {
  resourceSpans: {
    resource: OtlpResource;
    scopeSpans: {
      spans: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes: OtlpAttribute[];
        status: { code?: number };
      }[];
    }[];
  }[];
}
interface OtlpMetrics {
  resourceMetrics: {
    resource: OtlpResource;
    scopeMetrics: {
      metrics: {
        name: string;
        unit: string;
        histogram?: { dataPoints: { attributes: OtlpAttribute[]; count: number | string; sum: number }[] };
      }[];
    }[];
  }[];
}

interface Span {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
  status: { code?: number };
}

function attributesOf(attributes: readonly OtlpAttribute[]): Record<string, string | number | boolean> {
  return Object.fromEntries(
    attributes.map(({ key, value }) => [
      key,
      value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.doubleValue ?? value.boolValue!)),
    ]),
  );
}

function spansOf(exports: readonly OtlpTraces[]): Span[] {
  return exports.flatMap((body) =>
    body.resourceSpans.flatMap((resourceSpans) => {
      const service = String(attributesOf(resourceSpans.resource.attributes)['service.name']);
      return resourceSpans.scopeSpans.flatMap((scope) =>
        scope.spans.map((span) => ({
          service,
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId || undefined,
          name: span.name,
          kind: span.kind,
          attributes: attributesOf(span.attributes),
          status: span.status,
        })),
      );
    }),
  );
}

/** The data points of a histogram in the last export of a service (cumulative: the last holds every call). */
function histogramPoints(exports: readonly OtlpMetrics[], service: string, name: string) {
  const found = exports
    .flatMap((body) => body.resourceMetrics)
    .filter((resource) => attributesOf(resource.resource.attributes)['service.name'] === service)
    .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics))
    .filter((metric) => metric.name === name);
  const metric = found.at(-1);
  assert.ok(metric?.histogram, `no histogram ${name} from ${service}`);
  return {
    unit: metric.unit,
    points: metric.histogram.dataPoints.map((point) => ({ ...point, attributes: attributesOf(point.attributes) })),
  };
}

function only<T>(items: readonly T[], predicate: (item: T) => boolean): T {
  const matches = items.filter(predicate);
  assert.equal(matches.length, 1, `expected one match, got ${matches.length}`);
  return matches[0]!;
}

/** The RPC attributes only. */
function pick(attributes: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(attributes).filter(([key]) => key.startsWith('rpc.')));
}

test('without telemetry nothing of OpenTelemetry loads: the runtime reaches it only through a dynamic import', async () => {
  // Walks the static imports from the runtime's entry points (what generated code and `serve` load up front).
  const runtime = join(dirname(fileURLToPath(import.meta.url)), '../../packages/runtime/src');
  const seen = new Set<string>();
  const external = new Set<string>();
  const visit = async (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = await readFile(file, 'utf8');
    for (const match of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^;'"]*?\s+from\s+)?'([^']+)'/gm)) {
      if (match[1]) continue; // type-only: erased
      const specifier = match[2]!;
      if (specifier.startsWith('.')) await visit(join(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else external.add(specifier);
    }
  };
  await visit(join(runtime, 'index.ts'));
  await visit(join(runtime, 'codegen-v1.ts'));
  assert.ok(seen.has(join(runtime, 'telemetry/client-hook.ts')), 'generated clients carry the (empty) telemetry seam');
  assert.ok(!seen.has(join(runtime, 'telemetry/start-telemetry.ts')));
  assert.deepEqual(
    [...external].filter((name) => name.startsWith('@opentelemetry/')),
    [],
  );
  // And it is there, behind the dynamic import, when telemetry is on.
  const startServerText = await readFile(join(runtime, 'server/start-server.ts'), 'utf8');
  assert.match(startServerText, /import\('\.\.\/telemetry\/start-telemetry\.js'\)/);
});

test('shutdown waits for the exporters at most 2 s, even for a receiver that never answers', async () => {
  const sockets = new Set<Socket>();
  const silent = createServer(() => {}); // accepts, reads, never responds
  silent.on('connection', (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
  let exportsSeen = 0;
  silent.on('request', () => exportsSeen++);
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    health: false,
    reflection: false,
    telemetry: { serviceName: 'auth', otlp: { endpoint } },
    services: [defineService(AuthDefinition, { login: async () => ({ token: 't' }) })],
  });
  const channel = createChannel(server.address);
  await createClient(AuthDefinition, channel).login({ name: 'ada' });
  channel.close();
  const started = performance.now();
  await server.shutdown(1000);
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 1500 && elapsed < 2800, `shutdown took ${Math.round(elapsed)} ms`);
  assert.ok(exportsSeen >= 1, 'the exporters tried to send the last spans and metrics');
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});
