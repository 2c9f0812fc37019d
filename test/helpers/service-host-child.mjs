// A built service in miniature, for test/runtime/service-host.test.ts: what a dist/main.js does (plain JavaScript on
// the built runtime, no tsx), with an echo service whose handler says when a call started (`call started`) and
// either sleeps `delayMs` (ignoring cancellation, so only the shutdown bound ends it) or, for text "forward", calls
// the echo server at $UPSTREAM_ADDR with relative TLS paths (certs/…), which must resolve against the workspace root,
// not the current folder: through a client its service context created at start (as the example's user service
// does), or, without $UPSTREAM_ADDR at start, one made in the handler. Usage: node service-host-child.mjs <manifest>
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { createServiceClient, defineService, runBuiltService } from '../../packages/runtime/dist/index.js';

const json = {
  encode: (message) => ({ finish: () => new Uint8Array(Buffer.from(JSON.stringify(message ?? {}))) }),
  decode: (bytes) => JSON.parse(Buffer.from(bytes).toString('utf8') || '{}'),
  fromPartial: (message) => message,
};
const method = (name, requestStream, responseStream) => ({
  name,
  requestType: json,
  requestStream,
  responseType: json,
  responseStream,
  options: {},
});
const EchoDefinition = {
  name: 'EchoService',
  fullName: 'test.v1.EchoService',
  methods: { echo: method('Echo', false, false) },
};

function createUpstreamClient() {
  return createServiceClient(EchoDefinition, {
    target: process.env.UPSTREAM_ADDR ?? '',
    tls: { ca: 'certs/ca.pem', cert: 'certs/client.pem', key: 'certs/client.key' },
    retry: false,
  });
}

const entry = {
  services: [
    defineService(EchoDefinition, {
      echo: async (request, context) => {
        process.stderr.write('call started\n');
        if (request.text === 'forward') {
          const upstream = context.serviceContext?.upstream ?? createUpstreamClient();
          return upstream.echo({ text: 'from the host' });
        }
        await sleep(request.delayMs ?? 0);
        return { text: request.text ?? '' };
      },
    }),
  ],
  descriptorSet: new Uint8Array(),
  // Created before the server listens, from the service's folder layout: its TLS files are workspace-relative.
  createServiceContext: () => (process.env.UPSTREAM_ADDR ? { upstream: createUpstreamClient() } : undefined),
};

await runBuiltService({ manifestUrl: pathToFileURL(process.argv[2] ?? ''), loadEntry: async () => entry });
