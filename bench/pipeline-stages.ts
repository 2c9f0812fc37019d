// Per-call CPU cost of each pipeline stage, in process and without the network: the middleware are composed as
// nice-grpc composes them and wrapped around a unary handler that answers at once.
//   node --import tsx bench/pipeline-stages.ts [--calls 200000]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Metadata, type CallContext, type ServerMiddleware, type ServerMiddlewareCall } from 'nice-grpc-common';
import { createLogStore } from '../packages/runtime/src/index.ts';
import { createAuthMiddleware } from '../packages/runtime/src/middleware/auth.ts';
import { createErrorMappingMiddleware } from '../packages/runtime/src/middleware/error-mapping.ts';
import { createRequestLoggerMiddleware } from '../packages/runtime/src/middleware/request-logger.ts';
import { createPipeline } from '../packages/runtime/src/server/pipeline.ts';
import { createTestApiKey } from '../test/helpers/api-keys.ts';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '200000' } } });
const calls = Number(values.calls);
const store = await createLogStore({ url: 'sqlite::memory:', maxQueue: 1_000_000 });
const { key } = await createTestApiKey(store, { name: 'bench' });
const metadata = Metadata({ 'x-api-key': key });

const apiKeys = {
  verify: (k: string) => store.apiKeys.verify(k),
  countUse: (id: string, at: number) => store.apiKeys.countUse(id, at),
};
const stages: Record<string, ServerMiddleware<object, object>> = {
  'error mapping': createErrorMappingMiddleware({}),
  'auth (API key, cached)': createAuthMiddleware({ policy: {}, apiKeys }) as ServerMiddleware<object, object>,
  'logger (record discarded)': createRequestLoggerMiddleware({ record: () => {} }),
  // Sizes come from the wire (the bytes grpc-js read and writes), so the logger no longer encodes anything.
  'logger + SQLite row': createRequestLoggerMiddleware({ record: store.logs.record }),
};

async function run(middleware: ServerMiddleware<object, object> | undefined): Promise<number> {
  const context = {
    metadata,
    peer: 'ipv4:127.0.0.1:1',
    header: Metadata(),
    trailer: Metadata(),
    sendHeader() {},
    signal: new AbortController().signal,
    serviceContext: undefined,
  } as CallContext;
  const method = { path: '/test.v1.EchoService/Echo', requestStream: false, responseStream: false, options: {} } as const;
  // eslint-disable-next-line require-yield -- a unary call as nice-grpc's middleware sees it: the response is the return value
  const handler = async function* (request: unknown): AsyncGenerator<never, unknown, undefined> {
    return request;
  };
  const invoke = async () => {
    if (!middleware) return handler({ text: 'hi' }).next();
    const call: ServerMiddlewareCall<unknown, unknown> = {
      method,
      requestStream: false,
      responseStream: false,
      request: { text: 'hi' },
      next: (request: unknown) => handler(request),
    } as never;
    return middleware(call, context).next();
  };
  for (let i = 0; i < 20_000; i++) await invoke(); // warm-up
  await store.flush();
  const start = performance.now();
  for (let i = 0; i < calls; i++) await invoke();
  const elapsed = performance.now() - start;
  await store.flush(); // the writer's cost belongs to the logger
  const withFlush = performance.now() - start;
  return ((middleware ? withFlush : elapsed) / calls) * 1000;
}

const baseline = await run(undefined);
const results: Record<string, number> = { 'handler only': baseline };
for (const [name, stage] of Object.entries(stages)) results[name] = (await run(stage)) - baseline;
// As `serve` composes it: service context → logger → auth → error mapping (the codec stage is left out: its one
// encode replaces grpc-js's, which this in-process run does not do either).
const full = createPipeline({
  logger: { record: store.logs.record },
  auth: { policy: {}, apiKeys },
  serviceContext: undefined,
});
results['full pipeline'] = (await run(full)) - baseline;
await store.close();
console.log(
  JSON.stringify(
    {
      node: process.version,
      calls,
      microsecondsPerCall: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Number(v.toFixed(2))])),
    },
    null,
    2,
  ),
);
