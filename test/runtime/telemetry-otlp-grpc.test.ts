import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import protobuf from 'protobufjs';
import {
  createChannel,
  createClient,
  createServer,
  type CallContext,
  type Server,
  type TsProtoServiceDefinition,
} from 'nice-grpc';
import { ServerError, Status, defineService, startServer, type RunningServer } from '../../packages/runtime/src/index.ts';

// OpenTelemetry over OTLP/gRPC (`otlp.protocol: grpc`) against a real gRPC receiver on 127.0.0.1: a nice-grpc server
// implementing opentelemetry.proto.collector.trace.v1.TraceService/Export and metrics.v1.MetricsService/Export, as a
// collector built with grpcforge would. It decodes the binary OTLP requests with protobufjs from the subset of the
// official .proto files below (field numbers as in opentelemetry-proto; fields left out are skipped when decoding).

const OTLP_SUBSET = `
syntax = "proto3";
package otlp;
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; }
message Status { int32 code = 3; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; int32 kind = 6;
  repeated KeyValue attributes = 9; Status status = 15;
}
message ScopeSpans { repeated Span spans = 2; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message HistogramDataPoint { fixed64 count = 4; double sum = 5; repeated KeyValue attributes = 9; }
message Histogram { repeated HistogramDataPoint data_points = 1; }
message Metric { string name = 1; string unit = 3; Histogram histogram = 9; }
message ScopeMetrics { repeated Metric metrics = 2; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
`;
const root = protobuf.parse(OTLP_SUBSET, { keepCase: false }).root;

interface KeyValue {
  key: string;
  value?: { stringValue?: string; boolValue?: boolean; intValue?: number; doubleValue?: number };
}
interface TraceRequest {
  resourceSpans: {
    resource?: { attributes: KeyValue[] };
    scopeSpans: {
      spans: {
        traceId: string;
        spanId: string;
        parentSpanId: string;
        name: string;
        kind: number;
        attributes: KeyValue[];
        status?: { code: number };
      }[];
    }[];
  }[];
}
interface MetricsRequest {
  resourceMetrics: {
    resource?: { attributes: KeyValue[] };
    scopeMetrics: { metrics: { name: string; unit: string; histogram?: { dataPoints: { count: number }[] } }[] }[];
  }[];
}

/** A nice-grpc codec decoding one OTLP request type to plain objects (ids as hex, 64-bit integers as numbers). */
function otlpCodec<T>(typeName: string) {
  const type = root.lookupType(typeName);
  return {
    encode: () => ({ finish: () => new Uint8Array() }),
    decode: (bytes: Uint8Array) => {
      const message = type.toObject(type.decode(bytes), { longs: Number, bytes: String, arrays: true, defaults: true });
      return JSON.parse(JSON.stringify(message, (key, value: unknown) => (key.endsWith('Id') ? hex(value) : value))) as T;
    },
    fromPartial: (message: T) => message,
  };
}
const hex = (value: unknown) => Buffer.from(String(value), 'base64').toString('hex');

const exportMethod = <T>(typeName: string) =>
  ({
    name: 'Export',
    requestType: otlpCodec<T>(typeName),
    requestStream: false,
    responseType: otlpCodec<object>('otlp.Resource'),
    responseStream: false,
    options: {},
  }) as const;

const TraceServiceDefinition = {
  name: 'TraceService',
  fullName: 'opentelemetry.proto.collector.trace.v1.TraceService',
  methods: { export: exportMethod<TraceRequest>('otlp.ExportTraceServiceRequest') },
} as const satisfies TsProtoServiceDefinition;

const MetricsServiceDefinition = {
  name: 'MetricsService',
  fullName: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
  methods: { export: exportMethod<MetricsRequest>('otlp.ExportMetricsServiceRequest') },
} as const satisfies TsProtoServiceDefinition;

/** The served service: its messages are JSON, as in telemetry-otlp.test.ts. */
interface Message {
  name?: string;
  token?: string;
}
const json = {
  encode: (message: Message) => ({ finish: () => new Uint8Array(Buffer.from(JSON.stringify(message))) }),
  decode: (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString('utf8') || '{}') as Message,
  fromPartial: (message: Message) => message,
};
const AuthDefinition = {
  name: 'AuthService',
  fullName: 'auth.v1.AuthService',
  methods: {
    login: { name: 'Login', requestType: json, requestStream: false, responseType: json, responseStream: false, options: {} },
  },
} as const satisfies TsProtoServiceDefinition;

interface Received {
  readonly traces: TraceRequest[];
  readonly metrics: MetricsRequest[];
  readonly collectorKeys: Set<string>;
}

async function startGrpcReceiver(): Promise<{ server: Server; endpoint: string; received: Received }> {
  const received: Received = { traces: [], metrics: [], collectorKeys: new Set() };
  const server = createServer();
  const note = (context: CallContext) => received.collectorKeys.add(String(context.metadata.get('x-collector-key')));
  server.add(TraceServiceDefinition, {
    export: async (request, context) => {
      note(context);
      received.traces.push(request);
      return {};
    },
  });
  server.add(MetricsServiceDefinition, {
    export: async (request, context) => {
      note(context);
      received.metrics.push(request);
      return {};
    },
  });
  const port = await server.listen('127.0.0.1:0');
  return { server, endpoint: `http://127.0.0.1:${port}`, received };
}

const attributesOf = (attributes: readonly KeyValue[] | undefined) =>
  Object.fromEntries(
    (attributes ?? []).map(({ key, value }) => [
      key,
      value?.stringValue ?? value?.intValue ?? value?.doubleValue ?? value?.boolValue,
    ]),
  );

describe('OpenTelemetry export over OTLP/gRPC (otlp.protocol: grpc)', () => {
  let receiver: Awaited<ReturnType<typeof startGrpcReceiver>>;
  let auth: RunningServer;

  before(async () => {
    receiver = await startGrpcReceiver();
    auth = await startServer({
      host: '127.0.0.1',
      port: 0,
      health: false,
      reflection: false,
      telemetry: {
        serviceName: 'auth',
        otlp: { endpoint: receiver.endpoint, protocol: 'grpc', headers: { 'X-Collector-Key': 'k1' } },
      },
      services: [
        defineService(AuthDefinition, {
          login: async (request: Message) => {
            if (request.name === 'nobody') throw new ServerError(Status.NOT_FOUND, 'no such user');
            return { token: `token-${request.name ?? ''}` };
          },
        }),
      ],
    });
    const channel = createChannel(auth.address);
    const client = createClient(AuthDefinition, channel);
    assert.deepEqual(await client.login({ name: 'ada' }), { token: 'token-ada' });
    await assert.rejects(client.login({ name: 'nobody' }), { code: Status.NOT_FOUND });
    channel.close();
    // Shutdown flushes the exporters: the spans and the last metrics reach the receiver before it resolves.
    await auth.shutdown(1000);
  });

  after(async () => {
    await receiver.server.shutdown();
  });

  test('spans arrive through TraceService/Export with the service name and the RPC attributes', () => {
    assert.deepEqual([...receiver.received.collectorKeys], ['k1'], 'headers travel as metadata, names in lower case');
    const spans = receiver.received.traces.flatMap((request) =>
      request.resourceSpans.flatMap((resource) =>
        resource.scopeSpans.flatMap((scope) =>
          scope.spans.map((span) => ({
            ...span,
            service: attributesOf(resource.resource?.attributes)['service.name'],
            attributes: attributesOf(span.attributes),
          })),
        ),
      ),
    );
    assert.equal(spans.length, 2, `spans: ${JSON.stringify(spans.map((span) => span.name))}`);
    const [ok, notFound] = [0, Status.NOT_FOUND].map((code) => {
      const span = spans.find((candidate) => candidate.attributes['rpc.grpc.status_code'] === code);
      assert.ok(span, `no span with status ${code}`);
      return span;
    });
    for (const span of [ok!, notFound!]) {
      assert.equal(span.service, 'auth');
      assert.equal(span.name, 'auth.v1.AuthService/Login');
      assert.equal(span.kind, 2, 'SPAN_KIND_SERVER');
      assert.match(span.traceId, /^[0-9a-f]{32}$/);
      assert.match(span.spanId, /^[0-9a-f]{16}$/);
      assert.equal(span.parentSpanId, '', 'the plain client sent no traceparent');
      assert.equal(span.attributes['rpc.system.name'], 'grpc');
      assert.equal(span.attributes['rpc.service'], 'auth.v1.AuthService');
      assert.equal(span.attributes['rpc.method'], 'auth.v1.AuthService/Login');
    }
    assert.equal(ok!.attributes['rpc.status_code'], 'OK');
    assert.equal(notFound!.attributes['rpc.status_code'], 'NOT_FOUND');
  });

  test('metrics arrive through MetricsService/Export: rpc.server.call.duration in seconds, one point per status', () => {
    const metrics = receiver.received.metrics
      .flatMap((request) => request.resourceMetrics)
      .filter((resource) => attributesOf(resource.resource?.attributes)['service.name'] === 'auth')
      .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics))
      .filter((metric) => metric.name === 'rpc.server.call.duration');
    const last = metrics.at(-1);
    assert.ok(last?.histogram, 'no rpc.server.call.duration histogram arrived');
    assert.equal(last.unit, 's');
    assert.deepEqual(
      last.histogram.dataPoints.map((point) => point.count),
      [1, 1],
    );
  });
});

test('otlp.protocol http/protobuf: binary OTLP/HTTP to <endpoint>/v1/traces', async () => {
  const bodies: { path: string; contentType: string; body: Buffer }[] = [];
  const receiver = createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const contentType = String(request.headers['content-type']);
      bodies.push({ path: request.url ?? '', contentType, body: Buffer.concat(chunks) });
      response.writeHead(200, { 'content-type': contentType }).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    health: false,
    reflection: false,
    telemetry: { serviceName: 'auth', metrics: false, otlp: { endpoint, protocol: 'http/protobuf' } },
    services: [defineService(AuthDefinition, { login: async () => ({ token: 't' }) })],
  });
  const channel = createChannel(server.address);
  await createClient(AuthDefinition, channel).login({ name: 'ada' });
  channel.close();
  await server.shutdown(1000);
  await new Promise((resolve) => receiver.close(resolve));
  assert.deepEqual(
    bodies.map(({ path, contentType }) => `${path} ${contentType}`),
    ['/v1/traces application/x-protobuf'],
  );
  const decode = otlpCodec<TraceRequest>('otlp.ExportTraceServiceRequest').decode;
  const spans = decode(bodies[0]!.body).resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans));
  assert.deepEqual(
    spans.map((span) => span.name),
    ['auth.v1.AuthService/Login'],
  );
});

test('otlp.protocol grpc (from the file or OTEL_EXPORTER_OTLP_PROTOCOL): an endpoint with a path or a -bin header refuses to start', async () => {
  const start = (otlp: { endpoint: string; headers?: Record<string, string> }) =>
    startServer({
      host: '127.0.0.1',
      port: 0,
      health: false,
      reflection: false,
      telemetry: { serviceName: 'auth', metrics: false, otlp: { ...otlp, protocol: 'grpc' } },
      services: [defineService(AuthDefinition, { login: async () => ({ token: 't' }) })],
    });
  await assert.rejects(start({ endpoint: 'http://127.0.0.1:4317/v1/traces' }), {
    message: 'OTLP over grpc: the endpoint http://127.0.0.1:4317/v1/traces has a path; give only the scheme, host and port',
  });
  await assert.rejects(start({ endpoint: 'http://127.0.0.1:4317', headers: { 'x-tenant-bin': 'a' } }), {
    message: 'OTLP over grpc: header "x-tenant-bin" ends in -bin, which gRPC keeps for binary metadata: rename it',
  });
});
