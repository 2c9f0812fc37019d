import type { AuthThrottleSettings, ResolvedServerLimits } from '@grpcforge/runtime/vocabulary';

/** `grpcforge.yaml` after validation and normalisation: absolute paths, defaults applied, services sorted by name. */
export interface ResolvedConfig {
  /** Absolute path of the `grpcforge.yaml` that was read. */
  readonly configPath: string;
  /** Absolute path of the folder that holds `grpcforge.yaml`; relative paths in the file are resolved from here. */
  readonly workspaceDir: string;
  readonly contract: ResolvedContractSettings;
  /** Every service of the workspace, sorted by name. */
  readonly services: readonly ResolvedService[];
  readonly server: ResolvedServerSettings;
  readonly codegen: ResolvedCodegenSettings;
  readonly auth: ResolvedAuthSettings;
  readonly logStore: ResolvedLogStoreSettings;
  /**
   * TLS of `serve` as written, `${SERVICE}` left in (each service's own files are {@link ResolvedService.tls});
   * `undefined` for plaintext (no section, or `enabled: false`).
   */
  readonly tls: ResolvedTlsSettings | undefined;
  /** The tls section's files even when it is switched off, `${SERVICE}` left in. */
  readonly tlsFiles: ResolvedTlsSettings | undefined;
  /** OpenTelemetry export of `serve`; `undefined` when off (no section, or `enabled: false`). */
  readonly telemetry: ResolvedTelemetrySettings | undefined;
}

/** The `telemetry` section. */
export interface ResolvedTelemetrySettings {
  /** `service.name`; `undefined` for the name of the service being served. */
  readonly serviceName: string | undefined;
  /**
   * OTLP export; header values may hold `${VAR:-default}` references, expanded when serve starts. `protocol` is
   * `undefined` when the file leaves it out (serve then reads `OTEL_EXPORTER_OTLP_PROTOCOL`).
   */
  readonly otlp:
    | {
        readonly endpoint: string;
        readonly protocol?: 'http/json' | 'http/protobuf' | 'grpc' | undefined;
        readonly headers: Readonly<Record<string, string>>;
        readonly intervalMs: number;
      }
    | undefined;
  readonly traces: boolean;
  readonly metrics: boolean;
  /** The Prometheus endpoint: one address, and addresses per service name over it. */
  readonly prometheus: { readonly listen: ListenAddress; readonly services: Readonly<Record<string, ListenAddress>> } | undefined;
}

/** Settings of `generate`. */
export interface ResolvedCodegenSettings {
  /** Write the grpcforge and ts-proto versions into generated headers. */
  readonly annotateVersion: boolean;
}

/**
 * TLS files, absolute paths. In {@link ResolvedConfig.tls} they may contain `${SERVICE}`; in
 * {@link ResolvedService.tls} it is replaced by the service's name.
 */
export interface ResolvedTlsSettings {
  readonly ca: string | undefined;
  readonly cert: string;
  readonly key: string;
  readonly requireClientCert: boolean;
}

/** What a method requires of its caller. */
export type ResolvedMethodRule = 'public' | 'authenticated' | { readonly roles: readonly string[] };

/** Auth settings. */
export interface ResolvedAuthSettings {
  readonly default: 'public' | 'authenticated';
  /** `pkg.Service/Method` or `pkg.Service/*` → rule. */
  readonly methods: Readonly<Record<string, ResolvedMethodRule>>;
  readonly apiKeys: boolean;
  readonly jwt: ResolvedJwtSettings | undefined;
  /** Roles per client-certificate identity, when certificates are accepted as callers. */
  readonly mtls: { readonly roles: Readonly<Record<string, readonly string[]>>; readonly allowCommonName: boolean } | undefined;
  /** The failed-authentication throttle, every bucket filled in; `false` when turned off. */
  readonly throttle: AuthThrottleSettings | false;
}

/** JWT settings; the key source is read when the server starts. */
export interface ResolvedJwtSettings {
  readonly secretEnv?: string | undefined;
  /** Absolute path of the PEM file. */
  readonly publicKey?: string | undefined;
  readonly jwksUrl?: string | undefined;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
  readonly algorithms?: readonly string[] | undefined;
  readonly clockToleranceSec: number;
  readonly rolesClaim: string;
}

/** Log store settings. */
export interface ResolvedLogStoreSettings {
  readonly enabled: boolean;
  /**
   * `sqlite:<absolute path>`, `sqlite::memory:`, or `postgres://…`, possibly with `${VAR}` references (expanded when
   * the store opens, so a secret in a variable never appears in messages).
   */
  readonly url: string;
  /** Retention in ms; `undefined` keeps everything. */
  readonly retentionMs: number | undefined;
  /** PostgreSQL pool size and statement timeout (ms). */
  readonly postgres: { readonly poolSize: number; readonly statementTimeoutMs: number };
}

/** Where the contracts are. */
export interface ResolvedContractSettings {
  /** Absolute path of the folder of `.proto` files (the buf module). */
  readonly root: string;
  /** Absolute path of the buf generate template. */
  readonly template: string;
}

/** One service of the workspace. */
export interface ResolvedService {
  /** Key under `services:`, for example `auth`. */
  readonly name: string;
  /** Absolute path of the service's folder. */
  readonly dir: string;
  /** The service's folder relative to the workspace, POSIX form, for messages and manifests. */
  readonly dirRelative: string;
  /** Fully-qualified names of the services it implements, in the order written (duplicates removed). */
  readonly serves: readonly string[];
  /** The services it calls, in the order written. */
  readonly consumes: readonly ResolvedConsume[];
  /** Address `serve` binds; `undefined` when the service serves nothing and none was given. */
  readonly listen: ListenAddress | undefined;
  /**
   * The service's TLS files (serving, and dialling its consumed services with `tls: true`): the tls section with
   * `${SERVICE}` replaced by {@link ResolvedService.name}; `undefined` for plaintext.
   */
  readonly tls: ResolvedTlsSettings | undefined;
  /** The same even when the tls section is switched off, so `certs init` can prepare them; `undefined` without one. */
  readonly tlsFiles: ResolvedTlsSettings | undefined;
}

/** A host and port to bind. */
export interface ListenAddress {
  readonly host: string;
  /** TCP port; 0 asks the OS for a free one. */
  readonly port: number;
}

/** A consumed service and the settings of its generated client. */
export interface ResolvedConsume {
  /** Fully-qualified service name. */
  readonly service: string;
  /** gRPC target, possibly with `${VAR:-default}` references that the runtime expands. */
  readonly target: string;
  /** Default deadline in ms; `undefined` for none. */
  readonly deadlineMs: number | undefined;
  /** Deadlines per RPC name, in ms. */
  readonly methodDeadlinesMs: Readonly<Record<string, number>>;
  /** Environment variables the credentials are read from. */
  readonly credentials: { readonly apiKeyEnv?: string | undefined; readonly bearerTokenEnv?: string | undefined } | undefined;
  /** Dial with the workspace TLS settings. */
  readonly tls: boolean;
  /** Retry policy; `undefined` for the runtime's default. */
  readonly retry:
    | false
    | {
        readonly maxAttempts?: number | undefined;
        readonly baseDelayMs?: number | undefined;
        readonly maxDelayMs?: number | undefined;
      }
    | undefined;
  /** Name of the workspace service that serves it, or `undefined` when it is served outside the workspace. */
  readonly provider: string | undefined;
  /** Index of the entry under `consumes:`, for messages. */
  readonly index: number;
}

/** Settings of `grpcforge serve`. */
export interface ResolvedServerSettings {
  /** Drain time on shutdown, in ms. */
  readonly shutdownTimeoutMs: number;
  readonly health: boolean;
  readonly reflection: boolean;
  /** `server.limits`: sizes in bytes, times in ms (0: no limit); every default filled in. */
  readonly limits: ResolvedServerLimits;
  /** `server.validation`: what is validated against the contract's buf.validate rules. */
  readonly validation: { readonly requests: boolean; readonly responses: boolean };
  /** `server.errors`: whether a DebugInfo detail may reach clients. */
  readonly errors: { readonly debugInfo: boolean };
}

/** A problem found in `grpcforge.yaml`, with where it is. */
export interface ConfigProblem {
  /** Dotted key path such as `services.user.consumes[0]`; empty for the whole file. */
  readonly path: string;
  /** The same path as segments, for locating the node in the YAML. */
  readonly segments: readonly (string | number)[];
  /** What is wrong and what was expected, lower-case, no trailing period. */
  readonly message: string;
  /** The cross-field rule that found it (`one-provider`, `consumed-has-target`, ...); absent for schema errors. */
  readonly rule?: string;
  /** 1-based line and column of the offending node, when the YAML has one. */
  readonly line?: number;
  readonly column?: number;
}

/** Result of loading: the config when there are no errors, and every problem found. */
export interface ConfigLoadResult {
  readonly config: ResolvedConfig | undefined;
  /**
   * The normalised config whenever the file passed the schema, even if cross-field rules failed: `grpcforge lint`
   * reports those rule errors as findings instead of refusing to run.
   */
  readonly unchecked?: ResolvedConfig;
  readonly errors: readonly ConfigProblem[];
  readonly warnings: readonly ConfigProblem[];
}
