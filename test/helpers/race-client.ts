// A gRPC client in its own process, for the call-accounting races: a client in the server's process writes a stream's
// end and its reset in one turn of the one event loop, which the server then always reads together; from another
// process, as in production, the server may read the end alone and answer before the reset arrives.
// Usage: node --import tsx test/helpers/race-client.ts <address> <cancel|bidi-deadline|client-deadline> <count> <deadlineMs>
// Prints one JSON line: the status codes the client saw, by name.
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { createChannel, createClient } from 'nice-grpc';
import { EchoDefinition, type EchoMessage } from './json-definition.ts';

const [address = '', mode = '', countText = '0', deadlineText = '200'] = process.argv.slice(2);
const toJson = (message: unknown) => Buffer.from(JSON.stringify(message));
const fromJson = (bytes: Buffer) => JSON.parse(bytes.toString('utf8') || '{}') as EchoMessage;
const seen: Record<string, number> = {};
const saw = (code: number) => {
  const name = grpc.status[code] ?? String(code);
  seen[name] = (seen[name] ?? 0) + 1;
};

/** Requests that never end on their own: the client cancels first. */
async function* forever(): AsyncGenerator<EchoMessage> {
  for (let i = 0; ; i++) {
    yield { text: `r${i}` };
    await sleep(20);
  }
}

const channel = createChannel(address);
const client = createClient(EchoDefinition, channel);
const raw = new grpc.Client(address, grpc.credentials.createInsecure());
// One ordinary call first: the connection is up before the races (a deadline must not pass while it connects).
await client.echo({ text: 'warm' });
saw(grpc.status.OK);
for (let i = 0; i < Number(countText); i++) {
  if (mode === 'cancel') {
    // gRPC interop's cancel_after_first_response, with nice-grpc's AbortSignal.
    const controller = new AbortController();
    try {
      for await (const response of client.chat(forever(), { signal: controller.signal })) {
        if (response.text !== undefined) controller.abort();
      }
      saw(grpc.status.OK);
    } catch (error) {
      saw((error as { code?: number }).code ?? (error instanceof Error && error.name === 'AbortError' ? 1 : 2));
    }
    continue;
  }
  // grpc-js's own client sends the deadline as grpc-timeout; the handler waits for input that never comes.
  const options = { deadline: Date.now() + Number(deadlineText) };
  const code = await new Promise<number>((resolve) => {
    const call =
      mode === 'bidi-deadline'
        ? raw.makeBidiStreamRequest('/test.v1.EchoService/Chat', toJson, fromJson, new grpc.Metadata(), options)
        : raw.makeClientStreamRequest('/test.v1.EchoService/Collect', toJson, fromJson, new grpc.Metadata(), options, () => {});
    call.on('status', (status: grpc.StatusObject) => resolve(status.code));
    call.on('error', () => {});
    call.on('data', () => {});
    call.write({ text: 'only' });
  });
  saw(code);
}
channel.close();
raw.close();
process.stdout.write(`${JSON.stringify(seen)}\n`);
