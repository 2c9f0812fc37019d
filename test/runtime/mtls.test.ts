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
} from '../../src/runtime/index.ts';
import { certificateIdentity } from '../../src/runtime/auth/mtls.ts';
import { createTestCertificates, type TestCertificates } from '../helpers/certs.ts';
import { EchoDefinition, type EchoMessage } from '../helpers/json-definition.ts';
import { tempDir } from '../helpers/workspace.ts';

// mTLS over real TLS sockets: the verified client certificate is the identity; nothing else can claim it.

let certs: TestCertificates;

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
    certs = createTestCertificates(await tempDir());
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

  test('identity: URI SAN first, then CN', () => {
    assert.equal(certificateIdentity({ subjectaltname: 'DNS:a, URI:spiffe://td/x', subject: { CN: 'x' } }), 'spiffe://td/x');
    assert.equal(certificateIdentity({ subjectaltname: 'DNS:a', subject: { CN: 'billing' } }), 'billing');
  });
});
