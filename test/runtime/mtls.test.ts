import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';
import {
  ClientError,
  Metadata,
  Status,
  closeServiceClient,
  createServiceClient,
  defineService,
  startServer,
  type CallContext,
  type HandlerContextExtension,
  type RunningServer,
} from '../../packages/runtime/src/index.ts';
import { certificateIdentity } from '../../packages/runtime/src/auth/mtls.ts';
import { AUTH_MESSAGES, createLogStore, type AuthRefusal, type LogStore } from '../../packages/runtime/src/index.ts';
import { join } from 'node:path';
import { createTestCertificates, type TestCertificates } from '../helpers/certs.ts';
import { createTestApiKey } from '../helpers/api-keys.ts';
import { EchoDefinition, type EchoMessage } from '../helpers/json-definition.ts';
import { tempDir } from '../helpers/workspace.ts';

// mTLS over real TLS sockets: the verified client certificate is the identity; nothing else can claim it.

let certs: TestCertificates;

before(async () => {
  certs = createTestCertificates(await tempDir());
});

const services = [
  defineService(
    EchoDefinition as never,
    {
      echo: async (_request: EchoMessage, context: CallContext & HandlerContextExtension) => {
        const { principal } = context;
        return { text: principal ? `${principal.kind}:${principal.id}:${principal.roles.join(',')}` : 'no principal' };
      },
      repeat: async function* () {},
      collect: async () => ({}),
      chat: async function* () {},
    } as never,
  ),
];

async function echoAs(server: RunningServer, credentials: ChannelCredentials, metadata?: Metadata): Promise<string | undefined> {
  const client = createServiceClient(EchoDefinition, { target: server.address, credentials, deadlineMs: 5000 }) as unknown as {
    echo(request: EchoMessage, options?: object): Promise<EchoMessage>;
  };
  try {
    return (await client.echo({}, metadata ? { metadata } : {})).text;
  } finally {
    closeServiceClient(client);
  }
}

describe('mTLS', () => {
  let server: RunningServer;

  before(async () => {
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      services,
      credentials: ServerCredentials.createSsl(certs.ca, [{ cert_chain: certs.serverCert, private_key: certs.serverKey }], true),
      auth: { policy: {}, mtls: { roles: { 'spiffe://grpcforge.test/user': ['reader'] } } },
    });
  });

  after(async () => {
    await server.shutdown(0);
  });

  test('a client with a certificate from the CA is identified by its SPIFFE URI SAN, with its mapped roles', async () => {
    const credentials = ChannelCredentials.createSsl(certs.ca, certs.clientKey, certs.clientCert);
    assert.equal(await echoAs(server, credentials), 'mtls:spiffe://grpcforge.test/user:reader');
  });

  test('a client without a certificate, or with one from another CA, is refused', async () => {
    for (const credentials of [
      ChannelCredentials.createSsl(certs.ca),
      ChannelCredentials.createSsl(certs.ca, certs.strangerKey, certs.strangerCert),
    ]) {
      await assert.rejects(echoAs(server, credentials), (error: unknown) => {
        assert.ok(error instanceof ClientError);
        assert.equal(Status[error.code], 'UNAVAILABLE');
        return true;
      });
    }
  });

  test('a client-sent identity header can never impersonate a certificate', async () => {
    // TLS without client certificates: the header is the only claim, and it is stripped.
    const optional = await startServer({
      host: '127.0.0.1',
      port: 0,
      services,
      credentials: ServerCredentials.createSsl(certs.ca, [{ cert_chain: certs.serverCert, private_key: certs.serverKey }], false),
      auth: { policy: {}, mtls: {} },
    });
    const forged = Metadata({ 'x-grpcforge-peer-identity': 'spiffe://grpcforge.test/admin' });
    try {
      await assert.rejects(echoAs(optional, ChannelCredentials.createSsl(certs.ca), forged), (error: unknown) => {
        assert.ok(error instanceof ClientError);
        assert.equal(Status[error.code], 'UNAUTHENTICATED');
        return true;
      });
    } finally {
      await optional.shutdown(0);
    }
    // With a real certificate, the forged header is replaced by the certificate's identity.
    const withCert = ChannelCredentials.createSsl(certs.ca, certs.clientKey, certs.clientCert);
    assert.equal(await echoAs(server, withCert, forged), 'mtls:spiffe://grpcforge.test/user:reader');
  });

  test('identity: the one URI SAN, a SPIFFE ID; the CN only without one, never in the spiffe: namespace', () => {
    const of = (subjectaltname: string | undefined, CN?: string | string[], ca = false) =>
      certificateIdentity({ subjectaltname: subjectaltname as string, subject: { CN } as never, ca });
    assert.deepEqual(of('DNS:a, URI:spiffe://td/x', 'x'), { kind: 'spiffe', id: 'spiffe://td/x' });
    assert.deepEqual(of('DNS:a', 'billing'), { kind: 'commonName', id: 'billing' });
    assert.deepEqual(of(undefined, 'billing'), { kind: 'commonName', id: 'billing' });
    for (const [san, cn, ca] of [
      ['URI:spiffe://td/x, URI:spiffe://td/admin', 'x', false], // two URI SANs: not "the first"
      ['URI:spiffe://td/x', 'x', true], // a CA is not a leaf identity
      [undefined, 'spiffe://td/admin', false], // only a URI SAN carries a SPIFFE ID
      [undefined, 'SPIFFE://td/admin', false],
      ['URI:spiffe://td', 'x', false], // the trust domain, not a workload
      ['URI:spiffe://TD/x', 'x', false],
      ['URI:spiffe://td/../admin', 'x', false],
      ['URI:spiffe://td/x?admin', 'x', false],
      ['URI:https://td/x', 'x', false], // one URI SAN that is not a SPIFFE ID: the CN is not consulted
      ['URI:"spiffe://td/x,URI:spiffe://td/admin"', 'x', false], // Node quotes a value with a comma
      [undefined, ['a', 'b'], false],
      [undefined, undefined, false],
    ] as const) {
      assert.equal(of(san, cn as string, ca).kind, 'none', JSON.stringify([san, cn, ca]));
    }
  });
});

/** The echoed principal, or the status name and details of the refusal. */
async function outcome(server: RunningServer, credentials: ChannelCredentials, metadata?: Metadata): Promise<string> {
  try {
    return (await echoAs(server, credentials, metadata)) ?? '';
  } catch (error) {
    assert.ok(error instanceof ClientError, String(error));
    return `${Status[error.code]}: ${error.details}`;
  }
}

describe('mTLS: client certificates are validated like X.509-SVIDs', () => {
  const roles = { 'spiffe://grpcforge.test/user': ['reader'], billing: ['billing'] };
  // What the operator is told, per refused call.
  const refusals: AuthRefusal[] = [];
  const serverWith = (mtls: { allowCommonName?: boolean }, extra: object = {}) =>
    startServer({
      host: '127.0.0.1',
      port: 0,
      services,
      credentials: ServerCredentials.createSsl(certs.ca, [{ cert_chain: certs.serverCert, private_key: certs.serverKey }], true),
      auth: { policy: {}, mtls: { roles, ...mtls }, onRefused: (refusal: AuthRefusal) => refusals.push(refusal), ...extra },
    });
  const as = (pair: { cert: Buffer; key: Buffer }) => ChannelCredentials.createSsl(certs.ca, pair.key, pair.cert);
  const refused = `UNAUTHENTICATED: ${AUTH_MESSAGES.certificateNotAccepted}`;
  const details = () => refusals.splice(0).map((refusal) => refusal.detail);
  let strict: RunningServer;
  let withCommonName: RunningServer;

  before(async () => {
    strict = await serverWith({});
    withCommonName = await serverWith({ allowCommonName: true });
  });

  after(async () => {
    await strict.shutdown(0);
    await withCommonName.shutdown(0);
  });

  test('two URI SANs, a CA:TRUE leaf and a CN in the spiffe: namespace identify nobody, CN identities on or off', async () => {
    for (const server of [strict, withCommonName]) {
      details();
      for (const pair of [certs.unusual.twoUris, certs.unusual.caLeaf, certs.unusual.spiffeCommonName]) {
        assert.equal(await outcome(server, as(pair)), refused);
      }
      assert.deepEqual(details(), [
        'client certificate not accepted (2 URI SANs (an SVID has exactly one))',
        'client certificate not accepted (a CA certificate is not a leaf identity)',
        'client certificate not accepted (a CN in the spiffe: namespace (only a URI SAN can carry a SPIFFE ID))',
      ]);
      // The valid SVID still passes on both.
      assert.equal(
        await outcome(server, as({ cert: certs.clientCert, key: certs.clientKey })),
        'mtls:spiffe://grpcforge.test/user:reader',
      );
    }
  });

  test('a certificate without a URI SAN is identified by its CN only with allowCommonName', async () => {
    details();
    assert.equal(await outcome(strict, as(certs.unusual.plainCommonName)), refused);
    assert.deepEqual(details(), [
      'client certificate not accepted (no URI SAN, and its CN "billing" identifies a caller only with auth.mtls.allowCommonName)',
    ]);
    assert.equal(await outcome(withCommonName, as(certs.unusual.plainCommonName)), 'mtls:billing:billing');
  });

  test('a client-sent common-name header cannot claim a CN identity', async () => {
    const optional = await startServer({
      host: '127.0.0.1',
      port: 0,
      services,
      credentials: ServerCredentials.createSsl(certs.ca, [{ cert_chain: certs.serverCert, private_key: certs.serverKey }], false),
      auth: { policy: {}, mtls: { roles, allowCommonName: true } },
    });
    try {
      const forged = Metadata({ 'x-grpcforge-peer-common-name': 'billing' });
      assert.equal(await outcome(optional, ChannelCredentials.createSsl(certs.ca), forged), 'UNAUTHENTICATED: no credentials');
      // Nor can a client-sent identity error make a certificate-less call look like a refused certificate.
      const forgedError = Metadata({ 'x-grpcforge-peer-identity-error': 'forged' });
      assert.equal(
        await outcome(optional, ChannelCredentials.createSsl(certs.ca), forgedError),
        'UNAUTHENTICATED: no credentials',
      );
      // With a real certificate, forged headers are replaced by what the certificate says.
      const withCert = ChannelCredentials.createSsl(certs.ca, certs.clientKey, certs.clientCert);
      assert.equal(await outcome(withCommonName, withCert, forged), 'mtls:spiffe://grpcforge.test/user:reader');
      const forgedSpiffe = Metadata({ 'x-grpcforge-peer-identity': 'spiffe://grpcforge.test/user' });
      assert.equal(await outcome(withCommonName, as(certs.unusual.plainCommonName), forgedSpiffe), 'mtls:billing:billing');
      assert.equal(await outcome(strict, as(certs.unusual.plainCommonName), forgedSpiffe), refused);
    } finally {
      await optional.shutdown(0);
    }
  });

  test('a call credential is the caller over mTLS; a bad one never falls back to the certificate', async () => {
    const store: LogStore = await createLogStore({ url: `sqlite:${join(await tempDir(), 'logs.db')}` });
    const { key } = await createTestApiKey(store, { name: 'ci-bot', roles: ['deploy'] });
    const server = await serverWith({}, { apiKeys: { verify: (value: string) => store.apiKeys.verify(value) } });
    const svid = as({ cert: certs.clientCert, key: certs.clientKey });
    try {
      assert.equal(await outcome(server, svid, Metadata({ 'x-api-key': key })), 'apiKey:ci-bot:deploy');
      details();
      assert.equal(
        await outcome(server, svid, Metadata({ 'x-api-key': 'gfk_000000000000_forged' })),
        'UNAUTHENTICATED: invalid API key',
      );
      assert.equal(
        await outcome(server, svid, Metadata({ authorization: 'Bearer not-a-jwt' })),
        'UNAUTHENTICATED: invalid token',
      );
      const both = Metadata({ 'x-api-key': key, authorization: 'Bearer not-a-jwt' });
      assert.equal(await outcome(server, svid, both), `UNAUTHENTICATED: ${AUTH_MESSAGES.ambiguousCredentials}`);
      assert.deepEqual(details(), [
        'invalid API key (gfk_000000000000: malformed: 23 characters, expected gfk_<12 hex digits>_<secret>)',
        'invalid token (no auth.jwt here to verify bearer tokens)',
        `${AUTH_MESSAGES.ambiguousCredentials} (both x-api-key and authorization: Bearer)`,
      ]);
      // Without a call credential the certificate is the caller.
      assert.equal(await outcome(server, svid), 'mtls:spiffe://grpcforge.test/user:reader');
    } finally {
      await server.shutdown(0);
      await store.close();
    }
  });
});
