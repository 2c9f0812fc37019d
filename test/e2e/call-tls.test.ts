import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { ServerCredentials } from '@grpc/grpc-js';
import { defineService, startServer, type RunningServer } from '../../packages/runtime/src/index.ts';
import { createTestCertificates } from '../helpers/certs.ts';
import { childEnv, repoRoot, tempDir } from '../helpers/workspace.ts';

// `grpcforge call` over TLS and mTLS on 127.0.0.1, 64-bit integers, --json and exit codes, against real servers in
// this process (so the CLI runs asynchronously): `test.v1.Int64Echo/Echo` sends back the bytes it receives.

const bytes = {
  encode: (message: Uint8Array) => ({ finish: () => message }),
  decode: (input: Uint8Array) => input,
  fromPartial: (message: Uint8Array) => message,
};
const Int64EchoDefinition = {
  name: 'Int64Echo',
  fullName: 'test.v1.Int64Echo',
  methods: {
    echo: { name: 'Echo', requestType: bytes, requestStream: false, responseType: bytes, responseStream: false, options: {} },
  },
} as const;

/** `message Numbers { uint64 id = 1; int64 delta = 2; }` and `service Int64Echo { rpc Echo(Numbers) returns (Numbers); }`. */
const descriptorSet = toBinary(
  FileDescriptorSetSchema,
  create(FileDescriptorSetSchema, {
    file: [
      {
        name: 'test/v1/int64.proto',
        package: 'test.v1',
        syntax: 'proto3',
        messageType: [
          {
            name: 'Numbers',
            field: [
              {
                name: 'id',
                jsonName: 'id',
                number: 1,
                type: FieldDescriptorProto_Type.UINT64,
                label: FieldDescriptorProto_Label.OPTIONAL,
              },
              {
                name: 'delta',
                jsonName: 'delta',
                number: 2,
                type: FieldDescriptorProto_Type.INT64,
                label: FieldDescriptorProto_Label.OPTIONAL,
              },
            ],
          },
        ],
        service: [
          { name: 'Int64Echo', method: [{ name: 'Echo', inputType: '.test.v1.Numbers', outputType: '.test.v1.Numbers' }] },
        ],
      },
    ],
  }),
);

const BIG = '{"id":1152921504606846977,"delta":-9007199254740993}';

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The CLI in a child process, without blocking this one (its servers must answer). */
function call(args: readonly string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin/grpcforge'), 'call', ...args], { cwd, env: childEnv({}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('grpcforge call: TLS, 64-bit integers, --json, exit codes', () => {
  let dir: string;
  let plain: RunningServer;
  let tls: RunningServer;
  let mtls: RunningServer;
  const tlsFlags = () => ['--ca', join(dir, 'ca.pem')];

  before(async () => {
    dir = await tempDir();
    const certs = createTestCertificates(dir);
    const serve = (requireClientCert?: boolean) =>
      startServer({
        host: '127.0.0.1',
        port: 0,
        services: [defineService(Int64EchoDefinition as never, { echo: async (request: Uint8Array) => request } as never)],
        descriptorSet,
        auth: { policy: { default: 'public' } },
        ...(requireClientCert === undefined
          ? {}
          : {
              credentials: ServerCredentials.createSsl(
                certs.ca,
                [{ cert_chain: certs.serverCert, private_key: certs.serverKey }],
                requireClientCert,
              ),
            }),
      });
    [plain, tls, mtls] = await Promise.all([serve(), serve(false), serve(true)]);
  });

  after(async () => {
    await Promise.all([plain.shutdown(0), tls.shutdown(0), mtls.shutdown(0)]);
  });

  test('uint64 and int64 beyond 2^53 keep every digit, in text and in --json', async () => {
    const text = await call([plain.address, 'test.v1.Int64Echo/Echo', '-d', BIG], dir);
    assert.equal(text.code, 0, text.stderr);
    assert.deepEqual(JSON.parse(text.stdout), { id: '1152921504606846977', delta: '-9007199254740993' });
    const lines = await call([plain.address, 'test.v1.Int64Echo/Echo', '-d', '{"id":18446744073709551615}', '--json'], dir);
    assert.equal(lines.code, 0, lines.stderr);
    assert.deepEqual(JSON.parse(lines.stdout), {
      version: 1,
      status: { code: 0, name: 'OK', message: '' },
      responses: [{ id: '18446744073709551615' }],
    });
    const listed = await call([plain.address, '--list', '--json'], dir);
    assert.equal(listed.code, 0, listed.stderr);
    const services = (JSON.parse(listed.stdout) as { services: { service: string; methods: unknown[] }[] }).services;
    assert.deepEqual(services.find((entry) => entry.service === 'test.v1.Int64Echo')?.methods, [
      { name: 'Echo', kind: 'unary', input: 'test.v1.Numbers', output: 'test.v1.Numbers' },
    ]);
  });

  test('TLS to 127.0.0.1 verifies the IP without a DEP0123 warning; --servername sets the name checked', async () => {
    const byIp = await call([tls.address, 'test.v1.Int64Echo/Echo', '-d', BIG, ...tlsFlags()], dir);
    assert.equal(byIp.code, 0, byIp.stderr);
    assert.equal((JSON.parse(byIp.stdout) as { id: string }).id, '1152921504606846977');
    assert.doesNotMatch(byIp.stderr, /DEP0123|Warning/);
    assert.equal(byIp.stderr, '');
    const named = await call([tls.address, 'test.v1.Int64Echo/Echo', '--servername', 'localhost', ...tlsFlags()], dir);
    assert.equal(named.code, 0, named.stderr);
    const wrong = await call([tls.address, 'test.v1.Int64Echo/Echo', '--servername', 'auth.internal', ...tlsFlags()], dir);
    assert.equal(wrong.code, 64 + 14, 'UNAVAILABLE is 14');
    assert.equal(
      wrong.stderr,
      `ERROR: UNAVAILABLE: the server's certificate is not valid for the host of ${tls.address}: pass --servername with a name it has\n`,
    );
  });

  test('TLS and connection failures are one line that says what to do, exit 64 + 14', async () => {
    const cases: [string[], string][] = [
      [[mtls.address, ...tlsFlags()], 'the server requires a client certificate: pass --cert and --key'],
      [[tls.address, '--tls'], "the server's certificate is not signed by a trusted CA: pass the CA with --ca"],
      [[plain.address, '--tls'], 'the server does not speak TLS: drop --tls (and --ca, --cert, --key)'],
      [[tls.address], 'the server closed the connection: is this a TLS server? try --tls'],
    ];
    const results = await Promise.all(cases.map(([args]) => call([...args, 'test.v1.Int64Echo/Echo'], dir)));
    results.forEach((result, index) => {
      assert.equal(result.code, 78, result.stderr);
      assert.equal(result.stderr, `ERROR: UNAVAILABLE: ${cases[index]![1]}\n`);
    });
    const json = await call([mtls.address, 'test.v1.Int64Echo/Echo', '--json', ...tlsFlags()], dir);
    assert.equal(json.code, 78);
    assert.deepEqual(JSON.parse(json.stdout), {
      version: 1,
      status: { code: 14, name: 'UNAVAILABLE', message: 'the server requires a client certificate: pass --cert and --key' },
      responses: [],
    });
    const client = [
      '--cert',
      join(dir, 'client.pem'),
      '--key',
      join(dir, 'client.key'),
      ...tlsFlags(),
      '-d',
      BIG,
      '--print-curl',
    ];
    const mutual = await call([mtls.address, 'test.v1.Int64Echo/Echo', ...client], dir);
    assert.equal(mutual.code, 0, mutual.stderr);
    assert.equal((JSON.parse(mutual.stdout) as { delta: string }).delta, '-9007199254740993');
    assert.equal(
      mutual.stderr,
      `$ buf curl --protocol grpc --cacert ${join(dir, 'ca.pem')} --cert ${join(dir, 'client.pem')} --key ${join(dir, 'client.key')} ` +
        `-d '{"id":"1152921504606846977","delta":"-9007199254740993"}' https://${mtls.address}/test.v1.Int64Echo/Echo\n`,
    );
  });
});
