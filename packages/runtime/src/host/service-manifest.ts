import type { MethodRule } from '../auth/policy.js';
import type { ResolvedServerLimits } from '../vocabulary/server-limits.js';
import type { AuthThrottleSettings } from '../vocabulary/auth-throttle.js';
import type { OtlpProtocol } from '../telemetry/options.js';

/** The manifest format this runtime reads ({@link ServiceManifest.version}). */
export const SERVICE_MANIFEST_VERSION = 1;

/** File name of the manifest `grpcforge build` writes into `<service dir>/dist/`. */
export const SERVICE_MANIFEST_FILE = 'grpcforge.service.json';

/**
 * How one service runs, as `grpcforge build` writes it (`dist/grpcforge.service.json`) from the resolved
 * `grpcforge.yaml`: plain JSON, read by `runBuiltService` at start without the CLI.
 *
 * - Secrets and deploy-time values stay `${VAR}` / `${VAR:-default}` references (the log store URL, OTLP header
 *   values, targets in generated clients), expanded from the environment when the service starts.
 * - Paths (TLS files, the JWT public key, a `sqlite:` store file) are relative to the workspace root, POSIX form,
 *   unless they were absolute outside the workspace; {@link workspaceRoot} says where the root is relative to the
 *   manifest's own folder. Never the build machine's absolute paths.
 * - Optional keys are left out rather than `undefined`, so a manifest round-trips through JSON unchanged.
 */
export interface ServiceManifest {
  /** Always {@link SERVICE_MANIFEST_VERSION} (1); a runtime refuses a version it does not know. */
  readonly version: 1;
  /** The service's name (its key under `services:`), for example `auth`. */
  readonly name: string;
  /** The workspace root relative to the folder holding the manifest, POSIX form (`../../..` for `services/auth/dist`). */
  readonly workspaceRoot: string;
  /** The service's folder relative to the workspace root, POSIX form (`services/auth`). */
  readonly serviceDir: string;
  /** Fully-qualified names of the services it serves, for example `["auth.v1.AuthService"]`. */
  readonly serves: readonly string[];
  /** The address it binds (`GRPCFORGE_LISTEN=host:port` overrides it at start). Port 0 asks the OS for a free one. */
  readonly listen: ManifestListen;
  /** `server:` of grpcforge.yaml: health, reflection, limits and the drain bound. */
  readonly server: ManifestServerSettings;
  /** `auth:` of grpcforge.yaml: the method policy and the credentials the service accepts. */
  readonly auth: ManifestAuthSettings;
  /** TLS of the server; absent for plaintext. */
  readonly tls?: ManifestTlsSettings;
  /** `logStore:` of grpcforge.yaml: the store calls are recorded in (its URL as written, `${VAR}`s kept). */
  readonly logStore: ManifestLogStoreSettings;
  /** OpenTelemetry export; absent when telemetry is off. */
  readonly telemetry?: ManifestTelemetrySettings;
}

/** A host and port. */
export interface ManifestListen {
  readonly host: string;
  /** TCP port; 0 for any free port. */
  readonly port: number;
}

/** The `server` section. */
export interface ManifestServerSettings {
  /** Serve grpc.health.v1.Health. */
  readonly health: boolean;
  /** Serve gRPC server reflection. */
  readonly reflection: boolean;
  /** Every limit filled in: sizes in bytes, times in ms (0: no limit). */
  readonly limits: ResolvedServerLimits;
  /** How long in-flight calls may run after a stop signal before they are cancelled, in ms. */
  readonly shutdownTimeoutMs: number;
  /**
   * What is validated against the contract's buf.validate rules (`server.validation`); absent in manifests of older
   * builds: requests only.
   */
  readonly validation?: { readonly requests: boolean; readonly responses: boolean };
  /** `server.errors`; absent in manifests of older builds: DebugInfo details are not sent. */
  readonly errors?: { readonly debugInfo: boolean };
}

/** The `auth` section. */
export interface ManifestAuthSettings {
  /** Methods that `methods` does not name: open to anyone, or only to a caller with a principal. */
  readonly default: 'public' | 'authenticated';
  /** `pkg.Service/Method` or `pkg.Service/*` → rule. */
  readonly methods: Readonly<Record<string, MethodRule>>;
  /** API keys are checked against the log store (needs the store). */
  readonly apiKeys: boolean;
  /** Bearer tokens verified with jose; absent: JWTs are not accepted. */
  readonly jwt?: ManifestJwtSettings;
  /** Client certificates as callers: roles per identity. */
  readonly mtls?: { readonly roles: Readonly<Record<string, readonly string[]>>; readonly allowCommonName: boolean };
  /**
   * The failed-authentication throttle, every bucket filled in; `false`: off. Absent (a manifest built before it
   * existed): on, with `DEFAULT_AUTH_THROTTLE`.
   */
  readonly throttle?: AuthThrottleSettings | false;
}

/** JWT verification; exactly the key sources the config names are set. */
export interface ManifestJwtSettings {
  /** Name of the environment variable holding the HMAC secret. */
  readonly secretEnv?: string;
  /** PEM file of the public key, relative to the workspace root (or absolute outside it). */
  readonly publicKey?: string;
  /** A JWKS endpoint the verification keys are fetched from (and cached). */
  readonly jwksUrl?: string;
  /** The `iss` a token must carry (RFC 7519 section 4.1.1). */
  readonly issuer?: string;
  /** The `aud` a token must carry (RFC 7519 section 4.1.3). */
  readonly audience?: string;
  /** The JWS algorithms accepted (`RS256`, `ES256`, `HS256`, …); absent: those the key allows. */
  readonly algorithms?: readonly string[];
  /** Allowed clock skew, in seconds. */
  readonly clockToleranceSec: number;
  /** The claim holding the caller's roles. */
  readonly rolesClaim: string;
}

/** TLS files of the server, `${SERVICE}` already replaced, relative to the workspace root (or absolute outside it). */
export interface ManifestTlsSettings {
  readonly ca?: string;
  readonly cert: string;
  readonly key: string;
  /** Refuse clients without a certificate the CA signed. */
  readonly requireClientCert: boolean;
}

/** The `logStore` section. */
export interface ManifestLogStoreSettings {
  readonly enabled: boolean;
  /**
   * `sqlite:<path relative to the workspace root>`, `sqlite::memory:`, or `postgres://…`, possibly with `${VAR}`
   * references (`GRPCFORGE_LOG_STORE_URL` replaces it at start).
   */
  readonly url: string;
  /** PostgreSQL pool size and statement timeout (ms). */
  readonly postgres: { readonly poolSize: number; readonly statementTimeoutMs: number };
  /** How long rows are kept, in ms; absent keeps everything. */
  readonly retentionMs?: number;
}

/** The `telemetry` section, for this service. */
export interface ManifestTelemetrySettings {
  /** `service.name` of the exported resource (the config's, or the service's name). */
  readonly serviceName: string;
  readonly traces: boolean;
  readonly metrics: boolean;
  /** OTLP push; header values may hold `${VAR}` / `${VAR:-default}` references. */
  readonly otlp?: {
    readonly endpoint: string;
    /** Absent: `OTEL_EXPORTER_OTLP_PROTOCOL` at start, else `http/json`. */
    readonly protocol?: OtlpProtocol;
    readonly headers: Readonly<Record<string, string>>;
    /** Metrics export interval, in ms. */
    readonly intervalMs: number;
  };
  /** This service's Prometheus scrape address. */
  readonly prometheus?: ManifestListen;
}
