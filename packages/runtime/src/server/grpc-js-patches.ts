import type {
  Http2SecureServer,
  Http2Server,
  ServerOptions as Http2ServerOptions,
  IncomingHttpHeaders,
  ServerHttp2Stream,
} from 'node:http2';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { Server as GrpcServer } from '@grpc/grpc-js';
import { ServiceHostError } from '../host/host-error.js';

/**
 * Every place grpcforge reaches into grpc-js's private internals, each with the hook it wraps and what needs it. This
 * module owns them all: each patch checks that its hook exists with the shape it expects, marks what it patched (so
 * a second copy of this module reuses the first one's patch) and returns whether it applied, as nice-grpc's
 * `connectTimeoutPatch` does. A server feature whose hook is missing refuses to start (see
 * {@link requireGrpcJsServerPatches}) instead of silently doing nothing. The hooks are those of @grpc/grpc-js
 * {@link SUPPORTED_GRPC_JS_RANGE}, the range package.json pins.
 */
export const GRPC_JS_PATCHES = {
  setupHandlers: {
    hook: 'Server.prototype._setupHandlers',
    serves: "hands each node:http2 server grpc-js creates to grpcforge's observers, before grpc-js's stream handler",
  },
  createHttp2Server: {
    hook: 'Server.prototype.createHttp2Server',
    serves: 'merges node:http2 options grpc-js does not expose (header list size and pairs) into the ones it uses',
  },
  secureConnector: {
    hook: 'ChannelCredentials._createSecureConnector',
    serves: 'sends no TLS SNI for an IP address target (RFC 6066 §3), which grpc-js sends and Node warns about',
  },
} as const;

/** The name of one of {@link GRPC_JS_PATCHES}. */
export type GrpcJsPatchName = keyof typeof GRPC_JS_PATCHES;

/** The grpc-js versions whose private hooks these patches are written against (package.json's range). */
export const SUPPORTED_GRPC_JS_RANGE = '~1.14';

/** Server features built on a patch, each with how an operator knows it and the patches it needs. */
export const SERVER_FEATURE_PATCHES = {
  'metadata-budget': { label: 'the metadata budget (limits.maxMetadataBytes)', needs: ['setupHandlers', 'createHttp2Server'] },
  'keepalive-enforcement': { label: 'keepalive enforcement (limits.keepalive)', needs: ['setupHandlers'] },
  'connection-defences': {
    label:
      'the connection defences (limits.handshakeTimeoutMs, headerTimeoutMs, maxConnections, maxConnectionsPerPeer, streamResets)',
    needs: ['setupHandlers'],
  },
  'call-accounting': {
    label: 'call accounting (recording the calls grpc-js answers itself: unknown methods, oversize requests)',
    needs: ['setupHandlers'],
  },
  'request-stream-closing': {
    label: 'closing answered request streams at shutdown (the drain of client- and bidi-streaming calls)',
    needs: ['setupHandlers'],
  },
} as const satisfies Record<string, { label: string; needs: readonly GrpcJsPatchName[] }>;

/** A server feature built on a grpc-js patch (see {@link SERVER_FEATURE_PATCHES}). */
export type ServerPatchFeature = keyof typeof SERVER_FEATURE_PATCHES;

/** Which of the server's patches applied to a grpc-js `Server` class. */
export interface GrpcJsServerPatches {
  readonly setupHandlers: boolean;
  readonly createHttp2Server: boolean;
}

/** What a grpc-js server's HTTP/2 servers are given and observed with; see {@link observeHttp2Servers}. */
export interface Http2ServerObserver {
  /** Merged into the options grpc-js creates each node:http2 server with (`settings` merged on their own). */
  readonly http2Options?: Http2ServerOptions;
  /**
   * Decides, for each new stream and before grpc-js sees it, whether grpc-js handles it; a stream it refuses must
   * have been answered. Listeners added by {@link Http2ServerObserver.observe} run before it.
   */
  readonly admit?: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]) => boolean;
  /** Called with each HTTP/2 server once grpc-js set it up. */
  readonly observe?: (http2Server: Http2Server | Http2SecureServer) => void;
}

type SetupHandlers = (
  this: { options?: object },
  http2Server: Http2Server | Http2SecureServer | null,
  ...rest: unknown[]
) => void;

type CreateHttp2Server = (this: { options?: object; commonServerOptions?: Http2ServerOptions }, ...rest: unknown[]) => unknown;

/** What a patched `Server.prototype` carries under {@link SERVER_PATCH_MARK}. */
interface ServerPatchState extends GrpcJsServerPatches {
  /** Observers of HTTP/2 servers, by the options object the grpc-js server was constructed with. */
  readonly observers: WeakMap<object, Http2ServerObserver[]>;
}

/** Marks a patched `Server.prototype` (a registered symbol: every copy of this module finds the same patch). */
const SERVER_PATCH_MARK = Symbol.for('grpcforge.grpc-js.server-patch');
/** Marks credentials whose `_createSecureConnector` is patched. */
const CREDENTIALS_PATCH_MARK = Symbol.for('grpcforge.grpc-js.secure-connector-patch');

/**
 * Wraps grpc-js's `Server.prototype._setupHandlers` and `createHttp2Server` (once per class) so that
 * {@link observeHttp2Servers} sees the HTTP/2 servers of the grpc-js servers it was asked to observe; inert for the
 * others. Each hook is patched only when it is a function taking the arguments grpc-js 1.14 passes.
 * @param serverClass grpc-js's `Server` (another class only in tests).
 * @returns which patches applied (also when an earlier call applied them).
 */
export function patchGrpcJsServer(serverClass: { readonly prototype: object } = GrpcServer): GrpcJsServerPatches {
  const { setupHandlers, createHttp2Server } = serverPatchState(serverClass);
  return { setupHandlers, createHttp2Server };
}

function serverPatchState(serverClass: { readonly prototype: object }): ServerPatchState {
  const prototype = serverClass.prototype as {
    _setupHandlers?: unknown;
    createHttp2Server?: unknown;
    [SERVER_PATCH_MARK]?: ServerPatchState;
  };
  const marked = prototype[SERVER_PATCH_MARK];
  if (marked) return marked;
  const original = prototype._setupHandlers;
  const originalCreate = prototype.createHttp2Server;
  // `_setupHandlers(http2Server, extraInterceptors)`, `createHttp2Server(credentials)` in grpc-js 1.14.
  const setupHandlers = typeof original === 'function' && original.length >= 1;
  // Merging options into createHttp2Server is useful only when _setupHandlers hands the servers on.
  const createHttp2Server = setupHandlers && typeof originalCreate === 'function' && originalCreate.length >= 1;
  const state: ServerPatchState = { setupHandlers, createHttp2Server, observers: new WeakMap() };
  const { observers } = state;
  if (createHttp2Server) {
    const create = originalCreate as CreateHttp2Server;
    prototype.createHttp2Server = function createHttp2Server(this: ThisParameterType<CreateHttp2Server>, ...rest: unknown[]) {
      for (const { http2Options } of (this.options && observers.get(this.options)) || []) {
        if (!http2Options) continue;
        const common = this.commonServerOptions ?? {};
        this.commonServerOptions = { ...common, ...http2Options, settings: { ...common.settings, ...http2Options.settings } };
      }
      return create.call(this, ...rest);
    } satisfies CreateHttp2Server;
  }
  if (setupHandlers) {
    const setup = original as SetupHandlers;
    prototype._setupHandlers = function setupHandlers(this: ThisParameterType<SetupHandlers>, http2Server, ...rest) {
      const before = http2Server ? new Set(http2Server.listeners('stream')) : new Set();
      setup.call(this, http2Server, ...rest);
      const list = this.options ? observers.get(this.options) : undefined;
      if (!list || !http2Server) return;
      const admits = list.flatMap((entry) => (entry.admit ? [entry.admit] : []));
      if (admits.length > 0) {
        // grpc-js's own stream handler, just added: it runs only for the streams every observer admits.
        for (const listener of http2Server.listeners('stream') as ((...args: unknown[]) => void)[]) {
          if (before.has(listener)) continue;
          http2Server.removeListener('stream', listener);
          http2Server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, raw: string[]) => {
            if (admits.every((admit) => admit(stream, headers, raw))) listener(stream, headers, flags, raw);
          });
        }
      }
      for (const entry of list) entry.observe?.(http2Server);
    } satisfies SetupHandlers;
  }
  Object.defineProperty(prototype, SERVER_PATCH_MARK, { value: state });
  return state;
}

/**
 * Hands each HTTP/2 server that a grpc-js server constructed with `grpcServerOptions` (nice-grpc's
 * `createServer(options)` hands them on as they are) creates when it binds to `observer`; observers added first run
 * first. Call before `listen`, after {@link requireGrpcJsServerPatches} made sure the patches it needs applied
 * (without `_setupHandlers` nothing is observed; without `createHttp2Server`, {@link Http2ServerObserver.http2Options}
 * alone are not applied).
 */
export function observeHttp2Servers(grpcServerOptions: object, observer: Http2ServerObserver): void {
  const { setupHandlers, observers } = serverPatchState(GrpcServer);
  if (setupHandlers) observers.set(grpcServerOptions, [...(observers.get(grpcServerOptions) ?? []), observer]);
}

/**
 * Makes sure every patch the server's `features` need applied.
 * @throws ServiceHostError `grpc-js-unsupported` naming the first feature whose hook this grpc-js lacks, its version
 *   and the range to install.
 */
export function requireGrpcJsServerPatches(patches: GrpcJsServerPatches, features: readonly ServerPatchFeature[]): void {
  for (const feature of features) {
    const { label, needs } = SERVER_FEATURE_PATCHES[feature];
    const missing = needs.find((patch) => !patches[patch]);
    if (missing === undefined) continue;
    const version = grpcJsVersion();
    throw new ServiceHostError(
      'grpc-js-unsupported',
      `${label} needs grpc-js's ${GRPC_JS_PATCHES[missing].hook}, which @grpc/grpc-js ${version ?? '(version unknown)'} does not have`,
      [
        `pin @grpc/grpc-js ${SUPPORTED_GRPC_JS_RANGE} (the versions grpcforge supports): npm install @grpc/grpc-js@${SUPPORTED_GRPC_JS_RANGE}`,
      ],
    );
  }
}

/**
 * Makes TLS channel credentials send no SNI for an IP address: grpc-js builds the TLS connection options in
 * `_createSecureConnector(channelTarget, options, callCredentials)` and puts the target's host into `servername`
 * even when it is an IP. Patched on these credentials only.
 * @returns false when the credentials have no such method (another grpc-js): they are left as they are, and Node's
 *   DEP0123 warning comes back, nothing else.
 */
export function patchIpServername(credentials: object): boolean {
  const internal = credentials as {
    _createSecureConnector?: unknown;
    [CREDENTIALS_PATCH_MARK]?: true;
  };
  if (internal[CREDENTIALS_PATCH_MARK]) return true;
  const create = internal._createSecureConnector;
  if (typeof create !== 'function' || create.length < 1) return false;
  internal._createSecureConnector = (...args: unknown[]) => {
    const connector = (create as (...rest: unknown[]) => { connectionOptions?: { servername?: string } }).apply(
      credentials,
      args,
    );
    const connection = connector.connectionOptions;
    if (connection?.servername && isIP(connection.servername)) delete connection.servername;
    return connector;
  };
  Object.defineProperty(internal, CREDENTIALS_PATCH_MARK, { value: true });
  return true;
}

/** The installed @grpc/grpc-js's version, or `undefined` when its package.json cannot be read (a bundle). */
export function grpcJsVersion(): string | undefined {
  try {
    return (createRequire(import.meta.url)('@grpc/grpc-js/package.json') as { version?: string }).version;
  } catch {
    return undefined;
  }
}
