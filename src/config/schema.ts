import {
  DEFAULT_AUTH_THROTTLE,
  DEFAULT_SERVER_LIMITS,
  OTLP_PROTOCOLS,
  type AuthThrottleBucket,
} from '@grpcforge/runtime/vocabulary';
import { z } from 'zod';

/**
 * The written form of `grpcforge.yaml`, version 1: every key has a description and, where it has one, a default.
 * This schema is the single source of truth: {@link loadConfig} validates with it and
 * `schema/grpcforge.schema.json` is generated from it (`npm run schema`).
 */

const FULLY_QUALIFIED_SERVICE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const SERVICE_KEY = /^[a-z][a-z0-9-]*$/;
const LISTEN = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

const fullyQualifiedService = z
  .string()
  .regex(FULLY_QUALIFIED_SERVICE, { error: 'expected a fully-qualified service name such as "auth.v1.AuthService"' })
  .describe('Fully-qualified protobuf service name: package and service, for example "auth.v1.AuthService".');

const consumeObject = z
  .strictObject({
    service: fullyQualifiedService,
    target: z
      .string()
      .min(1)
      .optional()
      .describe(
        'gRPC target the generated client dials. ${VAR} and ${VAR:-default} read the environment when the client is ' +
          'created. Default: the listen address of the workspace service that serves it.',
      ),
    deadlineMs: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Default deadline of every call, in milliseconds. Default: no deadline.'),
    methods: z
      .record(
        z
          .string()
          .regex(/^[A-Z][A-Za-z0-9_]*$/, { error: 'expected an RPC name as in the contract, for example "ValidateToken"' }),
        z.strictObject({ deadlineMs: z.number().int().positive().describe('Deadline of this RPC, in ms.') }),
      )
      .optional()
      .describe('Per-RPC settings, by RPC name.'),
    credentials: z
      .strictObject({
        apiKeyEnv: z.string().optional().describe('Environment variable holding an API key, sent as x-api-key.'),
        bearerTokenEnv: z.string().optional().describe('Environment variable holding a token, sent as authorization: Bearer.'),
      })
      .optional()
      .describe('Credentials attached to every call, read from the environment when the client is created.'),
    tls: z
      .boolean()
      .optional()
      .describe("Dial with TLS using the workspace tls section: its CA, and this service's certificate and key for mTLS."),
    retry: z
      .union([
        z.literal(false),
        z.strictObject({
          maxAttempts: z.number().int().min(1).optional().describe('Attempts in all. Default 3.'),
          baseDelayMs: z.number().int().positive().optional().describe('First backoff, in ms. Default 100.'),
          maxDelayMs: z.number().int().positive().optional().describe('Longest backoff, in ms. Default 2000.'),
        }),
      ])
      .optional()
      .describe('Retries of unary RPCs the contract marks IDEMPOTENT or NO_SIDE_EFFECTS (never others); false turns them off.'),
  })
  .describe('A service this one calls, with the settings of its generated client.');

const consumeEntry = z.union([fullyQualifiedService, consumeObject], {
  error: 'expected a fully-qualified service name or an object { service, target, deadlineMs }',
});

const serviceSchema = z
  .strictObject({
    dir: z.string().min(1).optional().describe('Folder of the service, relative to grpcforge.yaml. Default: services/<name>.'),
    serves: z
      .array(fullyQualifiedService)
      .default([])
      .describe('Services this one implements: it gets a typed server skeleton and one handler file per RPC.'),
    consumes: z
      .array(consumeEntry)
      .default([])
      .describe('Services this one calls: it gets a typed client factory and an in-process test stub for each.'),
    listen: z
      .string()
      .regex(LISTEN, { error: 'expected HOST:PORT, for example "127.0.0.1:50051" or "0.0.0.0:50051"' })
      .optional()
      .describe('Address `grpcforge serve` binds, HOST:PORT. Required when the service serves anything.'),
  })
  .describe('One service of the workspace, with its own folder of generated and user-owned code.');

const methodRule = z
  .union([z.enum(['public', 'authenticated']), z.strictObject({ roles: z.array(z.string().min(1)).min(1) })], {
    error: 'expected "public", "authenticated" or { roles: [role, ...] }',
  })
  .describe('What a method requires: "public", "authenticated", or { roles: [...] } (any one of the roles).');

/** One bucket of `auth.throttle`: failures per minute and burst, or `false` to turn it off. */
const throttleBucket = (defaults: AuthThrottleBucket, description: string) =>
  z
    .union(
      [
        z.literal(false),
        z.strictObject({
          failuresPerMinute: z
            .number()
            .positive()
            .default(defaults.failuresPerMinute)
            .describe('Failed authentications allowed per minute once the burst is spent (the refill rate).'),
          burst: z
            .int()
            .min(1)
            .default(defaults.burst)
            .describe('Failed authentications allowed in a row before the per-minute rate applies.'),
        }),
      ],
      { error: 'expected false or { failuresPerMinute, burst }' },
    )
    .default({ ...defaults })
    .describe(description);

const throttleSchema = z
  .union(
    [
      z.literal(false),
      z.strictObject({
        perPeer: throttleBucket(
          DEFAULT_AUTH_THROTTLE.perPeer,
          'Failed authentications per peer address (the IP; an IPv6 address by its /64). Past it, every call from the address that presents a credential is refused without verification.',
        ),
        perKey: throttleBucket(
          DEFAULT_AUTH_THROTTLE.perKey,
          "Failed authentications per presented API key (its gfk_<id> prefix), from any address. Past it, the key is refused without verification from addresses that failed within the last minute; the key's owner elsewhere keeps working.",
        ),
      }),
    ],
    { error: 'expected false or { perPeer, perKey }' },
  )
  .default({ perPeer: { ...DEFAULT_AUTH_THROTTLE.perPeer }, perKey: { ...DEFAULT_AUTH_THROTTLE.perKey } })
  .describe(
    'Credential-guessing throttle (token buckets in memory): past a limit, a call presenting a credential is RESOURCE_EXHAUSTED ("too many failed authentications: retry in N s", trailer grpc-retry-pushback-ms) without being verified; one such call per address per minute is stored, the rest counted as authThrottled. false turns it off.',
  );

const authSchema = z
  .strictObject({
    default: z
      .enum(['public', 'authenticated'])
      .default('authenticated')
      .describe('Rule of every method not listed under methods. Secure by default; health and reflection are always public.'),
    methods: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*\/([A-Za-z_][A-Za-z0-9_]*|\*)$/, {
          error: 'expected "pkg.Service/Method" or "pkg.Service/*"',
        }),
        methodRule,
      )
      .default({})
      .describe('Rules per method: "pkg.Service/Method" wins over "pkg.Service/*", which wins over default.'),
    apiKeys: z.boolean().default(true).describe('Accept API keys (x-api-key metadata) created with `grpcforge keys create`.'),
    mtls: z
      .strictObject({
        roles: z
          .record(z.string(), z.array(z.string().min(1)))
          .default({})
          .describe('Roles per certificate identity (SPIFFE ID such as spiffe://platform/user, or CN with allowCommonName).'),
        allowCommonName: z
          .boolean()
          .default(false)
          .describe(
            'Identify a certificate without a URI SAN by its subject CN (never a CN starting with spiffe:). Off: only the one URI SAN (a SPIFFE ID) identifies.',
          ),
      })
      .optional()
      .describe(
        'Accept the verified client certificate (tls.requireClientCert) as the caller, validated as an X.509-SVID: not a CA, exactly one URI SAN, a SPIFFE ID.',
      ),
    jwt: z
      .strictObject({
        secretEnv: z.string().optional().describe('Environment variable holding the HS256 shared secret.'),
        publicKey: z.string().optional().describe('PEM public key file (RS256, ES256, EdDSA), relative to grpcforge.yaml.'),
        jwksUrl: z.url().optional().describe('JWKS endpoint; keys are cached, refetched at most every 30 s.'),
        issuer: z.string().optional().describe('Expected iss claim.'),
        audience: z.string().optional().describe('Expected aud claim.'),
        algorithms: z.array(z.string()).optional().describe('Allowed alg values ("none" is never allowed).'),
        clockToleranceSec: z
          .number()
          .int()
          .nonnegative()
          .default(30)
          .describe('Clock skew tolerated for exp and nbf, in seconds.'),
        rolesClaim: z.string().default('roles').describe('Claim with the roles: an array, or a space-separated string.'),
      })
      .optional()
      .describe('Accept JWT bearer tokens (authorization: Bearer), verified with jose. Exactly one key source.'),
    throttle: throttleSchema,
  })
  .describe('Who may call what. Failures are UNAUTHENTICATED; a caller without a required role is PERMISSION_DENIED.');

const tlsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Switch TLS on or off without removing the section.'),
    ca: z.string().optional().describe('PEM of the CA that signs client certificates (required with requireClientCert).'),
    cert: z.string().describe('PEM certificate chain of the server; ${SERVICE} is replaced by the service name.'),
    key: z.string().describe('PEM private key of the server; ${SERVICE} is replaced by the service name.'),
    requireClientCert: z.boolean().default(false).describe('Mutual TLS: refuse clients without a certificate from ca.'),
  })
  .describe('TLS for `grpcforge serve`, paths relative to grpcforge.yaml. Plaintext when omitted.');

const logStoreSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Record every call in the log store.'),
    url: z
      .string()
      .regex(/^(sqlite:|postgres:\/\/|postgresql:\/\/|\$\{)/, {
        error: 'expected sqlite:<path>, sqlite::memory:, postgres://USER@HOST:PORT/DATABASE or ${VARIABLE}',
      })
      .default('sqlite:.grpcforge/grpcforge.db')
      .describe(
        'sqlite:<path> (relative to grpcforge.yaml), sqlite::memory:, or postgres://USER@HOST:PORT/DATABASE for a store ' +
          'several replicas share. ${VAR} and ${VAR:-default} are read from the environment when the store opens; a ' +
          'password left out of the URL comes from PGPASSWORD (or ~/.pgpass).',
      ),
    retentionDays: z.number().positive().optional().describe('Delete request logs older than this many days.'),
    postgres: z
      .strictObject({
        poolSize: z.int().min(1).max(100).default(4).describe('Connections each process reads with (its writer has 2 more).'),
        statementTimeoutMs: z
          .int()
          .min(100)
          .default(30_000)
          .describe('A statement running longer is cancelled by the server (statement_timeout), in ms.'),
      })
      .optional()
      .describe('PostgreSQL connection settings, for a postgres:// url.'),
  })
  .describe(
    'The request-log store (SQLite through kysely and better-sqlite3, or PostgreSQL through kysely and pg), also ' +
      'holding API keys and server instances.',
  );

const listenAddress = (what: string) =>
  z.string().regex(LISTEN, { error: 'expected HOST:PORT, for example "127.0.0.1:9464"' }).describe(what);

const telemetrySchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Switch telemetry on or off without removing the section.'),
    serviceName: z
      .string()
      .min(1)
      .optional()
      .describe('service.name of everything exported. Default: the name of the service under services: (auth, user, ...).'),
    otlp: z
      .strictObject({
        endpoint: z
          .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL such as "http://127.0.0.1:4318"' })
          .describe(
            'Base URL of the OTLP receiver (a collector, or a backend that takes OTLP). Over HTTP (port 4318 by ' +
              'convention) traces go to /v1/traces and metrics to /v1/metrics; over gRPC (port 4317) the URL has no ' +
              'path: http:// is plaintext, https:// is TLS.',
          ),
        protocol: z
          .enum(OTLP_PROTOCOLS)
          .optional()
          .describe(
            'The OTLP transport: http/json (OTLP/HTTP, JSON), http/protobuf (OTLP/HTTP, binary protobuf) or grpc (the ' +
              'OTLP gRPC services). Default: OTEL_EXPORTER_OTLP_PROTOCOL when set, else http/json.',
          ),
        headers: z
          .record(z.string().regex(/^[A-Za-z0-9-]+$/, { error: 'expected an HTTP header name' }), z.string())
          .default({})
          .describe(
            'Headers of every export request (gRPC metadata over grpc). ${VAR} and ${VAR:-default} read the ' +
              'environment when serve starts, so keys stay out of the file.',
          ),
        intervalMs: z
          .number()
          .int()
          .min(1000)
          .default(60_000)
          .describe('How often metrics are pushed, in ms. Spans go in batches, at most 5 s after they end.'),
      })
      .superRefine((otlp, context) => {
        if (otlp.protocol === 'grpc' && new URL(otlp.endpoint).pathname !== '/') {
          context.addIssue({
            code: 'custom',
            path: ['endpoint'],
            input: otlp.endpoint,
            message: 'over grpc the endpoint has no path, for example "http://127.0.0.1:4317"',
          });
        }
      })
      .optional()
      .describe('Push traces and metrics over OTLP. Without it, nothing is pushed (Prometheus may still scrape).'),
    traces: z
      .boolean()
      .default(true)
      .describe('A server span per call and a client span per call of a generated client (needs otlp).'),
    metrics: z.boolean().default(true).describe('rpc.server.call.duration and rpc.client.call.duration, in seconds.'),
    prometheus: z
      .strictObject({
        listen: listenAddress('Address of the Prometheus endpoint (GET /metrics), HOST:PORT; port 0 takes a free one.'),
        services: z
          .record(z.string().regex(SERVICE_KEY, { error: 'expected a service name' }), listenAddress('Address of this service.'))
          .default({})
          .describe('Addresses per service, over listen: for services that run on one host.'),
      })
      .optional()
      .describe('Serve the metrics to Prometheus on their own port (needs metrics).'),
  })
  .describe(
    'OpenTelemetry export of `grpcforge serve`: RPC metrics by the semantic conventions and traces across services ' +
      '(W3C trace context through generated clients). Off when omitted.',
  );

/** Schema of the whole file. */
const bytes = (fallback: number) => z.number().int().positive().default(fallback);
const ms = (fallback: number) => z.number().int().nonnegative().default(fallback);
const count = (fallback: number) => z.number().int().nonnegative().default(fallback);

const serverLimitsSchema = z
  .strictObject({
    maxReceiveMessageBytes: bytes(DEFAULT_SERVER_LIMITS.maxReceiveMessageBytes).describe(
      'Largest request message accepted, in bytes (default 4 MiB); a larger one is answered RESOURCE_EXHAUSTED.',
    ),
    maxSendMessageBytes: bytes(DEFAULT_SERVER_LIMITS.maxSendMessageBytes).describe(
      'Largest response message sent, in bytes (default 4 MiB); a handler returning a larger one fails the call with RESOURCE_EXHAUSTED.',
    ),
    maxMetadataBytes: bytes(DEFAULT_SERVER_LIMITS.maxMetadataBytes).describe(
      "Budget of a request's metadata (header list), in bytes counted as HPACK does: name + value + 32 per entry, RFC 7541 §4.1 (default 8 KiB). A call over it is answered RESOURCE_EXHAUSTED; the connection stays open.",
    ),
    maxConcurrentStreams: bytes(DEFAULT_SERVER_LIMITS.maxConcurrentStreams).describe(
      'Most calls open at once on one connection, advertised as SETTINGS_MAX_CONCURRENT_STREAMS (default 1000).',
    ),
    connectionIdleMs: ms(DEFAULT_SERVER_LIMITS.connectionIdleMs).describe(
      'A connection without any call for this long is closed, in ms (default 300000, 5 minutes; 0: never).',
    ),
    maxConnectionAgeMs: ms(DEFAULT_SERVER_LIMITS.maxConnectionAgeMs).describe(
      'A connection older than this is sent GOAWAY so clients reconnect and spread over replicas, in ms (default 1800000, 30 minutes; 0: never).',
    ),
    maxConnectionAgeGraceMs: ms(DEFAULT_SERVER_LIMITS.maxConnectionAgeGraceMs).describe(
      'After maxConnectionAgeMs, how long calls in flight may finish before the connection is closed, in ms (default 300000; 0: no limit).',
    ),
    keepalive: z
      .strictObject({
        minPingIntervalMs: ms(DEFAULT_SERVER_LIMITS.keepalive.minPingIntervalMs).describe(
          'Least time between two client pings while calls are open, in ms (default 300000); earlier pings are strikes.',
        ),
        permitWithoutCalls: z
          .boolean()
          .default(DEFAULT_SERVER_LIMITS.keepalive.permitWithoutCalls)
          .describe('Allow pings on a connection without calls at minPingIntervalMs (default false: every 2 hours).'),
        maxPingStrikes: z
          .number()
          .int()
          .nonnegative()
          .default(DEFAULT_SERVER_LIMITS.keepalive.maxPingStrikes)
          .describe('Strikes tolerated before the connection is closed with GOAWAY ENHANCE_YOUR_CALM "too_many_pings".'),
      })
      .default(DEFAULT_SERVER_LIMITS.keepalive)
      .describe('Keepalive enforcement (gRFC A8): how often clients may ping.'),
    handshakeTimeoutMs: ms(DEFAULT_SERVER_LIMITS.handshakeTimeoutMs).describe(
      'A connection that has not finished its TLS handshake and HTTP/2 preface and SETTINGS exchange this long after it was accepted is destroyed, in ms (default 5000; 0: never).',
    ),
    headerTimeoutMs: ms(DEFAULT_SERVER_LIMITS.headerTimeoutMs).describe(
      "A connection that has sent no request's headers this long after it was accepted is sent GOAWAY and closed, in ms (default 10000; 0: never).",
    ),
    maxConnections: count(DEFAULT_SERVER_LIMITS.maxConnections).describe(
      'Most connections open at once on the server; more are closed as soon as they are accepted (default 10000; 0: no cap).',
    ),
    maxConnectionsPerPeer: count(DEFAULT_SERVER_LIMITS.maxConnectionsPerPeer).describe(
      'Most connections open at once from one remote IP address; more are closed as soon as they are accepted (default 1000; 0: no cap). Behind a proxy that rewrites source addresses, every client shares its address.',
    ),
    streamResets: z
      .strictObject({
        burst: count(DEFAULT_SERVER_LIMITS.streamResets.burst).describe(
          'Streams a client may reset on one connection at once, the token bucket size (default 200; 0: no budget).',
        ),
        perSecond: z
          .number()
          .nonnegative()
          .default(DEFAULT_SERVER_LIMITS.streamResets.perSecond)
          .describe('Resets per second the bucket refills (default 50).'),
        penaltyMs: ms(DEFAULT_SERVER_LIMITS.streamResets.penaltyMs).describe(
          'After a connection got GOAWAY for its resets, new connections from the same IP address are closed at once for this long, in ms (default 10000; 0: off).',
        ),
      })
      .default(DEFAULT_SERVER_LIMITS.streamResets)
      .describe(
        'Rapid-reset defence (CVE-2023-44487): past this budget of client-reset streams a connection gets GOAWAY ENHANCE_YOUR_CALM "too_many_resets".',
      ),
  })
  .describe('Limits of every served connection and call, against runaway and hostile clients.');

/**
 * `services:` with every entry commented out is YAML null: an empty workspace (`grpcforge init --empty`), read as no
 * services, as `services: {}` is.
 */
const servicesSchema = z
  .preprocess(
    (value) => (value === null ? {} : value),
    z.record(
      z.string().regex(SERVICE_KEY, { error: 'expected a lower-case name such as "auth" or "billing-api"' }),
      serviceSchema,
    ),
  )
  .describe('The services of the workspace, by name (lower-case, digits and dashes); empty (or null) for none yet.');

/** `server.validation` when it is not written: requests validated, responses not. */
const DEFAULT_SERVER_VALIDATION = { requests: true, responses: false };

/** `server.validation`: what is checked against the contract's `buf.validate` rules (protovalidate). */
const serverValidationSchema = z
  .strictObject({
    requests: z
      .boolean()
      .default(true)
      .describe(
        "Validate each request message against the contract's buf.validate rules, after auth and before the handler; a violation is answered INVALID_ARGUMENT with google.rpc.BadRequest details. Methods whose messages have no rules are not checked. Stubs validate too.",
      ),
    responses: z
      .boolean()
      .default(false)
      .describe(
        "Validate each response message against the contract's buf.validate rules; a violation is a handler bug, answered INTERNAL (the violation goes to the request log). For tests and development.",
      ),
  })
  .describe(
    "Request and response validation from the contract's buf.validate rules (protovalidate). Every rule is compiled at start: a CEL expression that does not compile stops generate and serve, naming its file and field.",
  );

/** `server.errors` when it is not written. */
const DEFAULT_SERVER_ERRORS = { debugInfo: false };

/** `server.errors`: what error details reach clients. */
const serverErrorsSchema = z
  .strictObject({
    debugInfo: z
      .boolean()
      .default(false)
      .describe(
        "Send a google.rpc.DebugInfo detail (a stack trace a handler attached) to clients; when false it is dropped from grpc-status-details-bin. Turn it on only where callers are the service's own developers.",
      ),
  })
  .describe('How errors and their details (google.rpc.Status in grpc-status-details-bin) reach clients.');

export const configSchema = z
  .strictObject({
    version: z.literal(1).describe('Version of this file format. Always 1.'),
    contract: z
      .strictObject({
        root: z
          .string()
          .min(1)
          .default('proto')
          .describe('Folder of the .proto contracts (a buf module); buf.yaml is in it or in a parent folder.'),
        template: z
          .string()
          .min(1)
          .default('buf.gen.yaml')
          .describe('buf generate template (buf.gen.yaml v2) with the ts-proto plugin and its options.'),
      })
      .default({ root: 'proto', template: 'buf.gen.yaml' })
      .describe('Where the contracts and the buf generate template are.'),
    services: servicesSchema,
    server: z
      .strictObject({
        shutdownTimeoutMs: z
          .number()
          .int()
          .nonnegative()
          .default(10_000)
          .describe('On SIGTERM or SIGINT, how long in-flight calls may drain, in ms, before they are cancelled.'),
        health: z.boolean().default(true).describe('Serve grpc.health.v1.Health (Check and Watch).'),
        reflection: z
          .boolean()
          .default(true)
          .describe('Serve gRPC server reflection (v1 and v1alpha) so buf curl and grpcurl need no .proto.'),
        limits: serverLimitsSchema.default(DEFAULT_SERVER_LIMITS),
        validation: serverValidationSchema.default(DEFAULT_SERVER_VALIDATION),
        errors: serverErrorsSchema.default(DEFAULT_SERVER_ERRORS),
      })
      .default({
        shutdownTimeoutMs: 10_000,
        health: true,
        reflection: true,
        limits: DEFAULT_SERVER_LIMITS,
        validation: DEFAULT_SERVER_VALIDATION,
        errors: DEFAULT_SERVER_ERRORS,
      })
      .describe('Settings of `grpcforge serve` shared by every service.'),
    codegen: z
      .strictObject({
        annotateVersion: z
          .boolean()
          .default(true)
          .describe(
            'Write the grpcforge and ts-proto versions into the header of generated files. Turn it off when generated code is committed, so an upgrade does not change every file.',
          ),
      })
      .default({ annotateVersion: true })
      .describe('Settings of `grpcforge generate`.'),
    auth: authSchema.default({
      default: 'authenticated',
      methods: {},
      apiKeys: true,
      throttle: { perPeer: { ...DEFAULT_AUTH_THROTTLE.perPeer }, perKey: { ...DEFAULT_AUTH_THROTTLE.perKey } },
    }),
    logStore: logStoreSchema.default({ enabled: true, url: 'sqlite:.grpcforge/grpcforge.db' }),
    tls: tlsSchema.optional(),
    telemetry: telemetrySchema.optional(),
  })
  .describe('grpcforge workspace: which service serves and which consumes which contract.');

/** `grpcforge.yaml` as written, after defaults are applied. */
export type WrittenConfig = z.output<typeof configSchema>;

/** Builds the JSON Schema of `grpcforge.yaml` (draft 2020-12), for editors and the committed schema file. */
export function buildConfigJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, {
    io: 'input',
    target: 'draft-2020-12',
    // The preprocess step is invisible to JSON Schema: say that null is accepted, so editors accept `services:` alone.
    override: ({ zodSchema, jsonSchema }) => {
      if (zodSchema !== servicesSchema) return;
      // The record's own keys (all but the description) move into the first branch.
      const record = { ...jsonSchema };
      delete record.description;
      delete jsonSchema.type;
      delete jsonSchema.propertyNames;
      delete jsonSchema.additionalProperties;
      jsonSchema.anyOf = [record, { type: 'null' }];
    },
  }) as Record<string, unknown>;
  return { ...schema, $id: 'https://grpcforge.dev/schema/grpcforge.schema.json', title: 'grpcforge.yaml' };
}
