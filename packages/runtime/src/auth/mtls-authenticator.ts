import { authFailure, type Authenticator } from './authenticator.js';
import { PEER_COMMON_NAME_HEADER, PEER_IDENTITY_ERROR_HEADER, PEER_IDENTITY_HEADER } from './mtls.js';
import { PRINCIPAL_KINDS } from './principal.js';

/** How the verified client certificate identifies a caller (grpcforge.yaml `auth.mtls`). */
export interface MtlsAuthOptions {
  /** Roles of each identity (SPIFFE ID, or CN with `allowCommonName`); identities not listed get none. */
  readonly roles?: Readonly<Record<string, readonly string[]>>;
  /**
   * Also identify a certificate without a URI SAN by its subject CN, never one in the `spiffe:` namespace.
   * @defaultValue false
   */
  readonly allowCommonName?: boolean;
}

/**
 * The authenticator of the verified client certificate, as the peer-identity interceptor (`auth/mtls.ts`) put it
 * into the metadata: its SPIFFE ID, or its CN with `allowCommonName`; a certificate that identifies nobody is
 * `client certificate not accepted`, no certificate says nothing.
 */
export function createMtlsAuthenticator(mtls: MtlsAuthOptions): Authenticator {
  return {
    name: 'mtls',
    credential: { kind: 'peer-certificate' },
    authenticate(_presented, { metadata }) {
      const commonName = metadata.get(PEER_COMMON_NAME_HEADER);
      const id = metadata.get(PEER_IDENTITY_HEADER) ?? (mtls.allowCommonName ? commonName : undefined);
      if (id) return { principal: { id, kind: PRINCIPAL_KINDS.mtls, roles: mtls.roles?.[id] ?? [] } };
      const why =
        metadata.get(PEER_IDENTITY_ERROR_HEADER) ??
        (commonName === undefined
          ? undefined
          : `no URI SAN, and its CN ${JSON.stringify(commonName)} identifies a caller only with auth.mtls.allowCommonName`);
      return why === undefined ? undefined : { failure: authFailure('certificate-not-accepted', why) };
    },
  };
}
