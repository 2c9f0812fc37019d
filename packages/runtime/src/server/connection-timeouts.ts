import type { Http2Session } from 'node:http2';
import { constants as http2Constants } from 'node:http2';
import type { Socket } from 'node:net';
import { connectionKey, goAwayAndClose } from './connection-key.js';
import type { DefenceCounters } from './defence-counters.js';

/** The handshake and first-request bounds of a connection, in ms from its acceptance; 0 is no bound. */
export interface ConnectionTimeoutLimits {
  readonly handshakeTimeoutMs: number;
  readonly headerTimeoutMs: number;
}

/**
 * Closes connections that do not finish their handshake, or send no request, in time (slowloris). node:http2's events,
 * as observed on Node 20 with real sockets: a plaintext server emits `session` as soon as the TCP connection is
 * accepted, before any byte arrived (so a silent socket and one that sent only the 24-byte preface both have a session
 * with nothing to tell them apart from a slow client); a TLS server emits it only after the TLS handshake, and
 * `connection` (the raw TCP socket) before. The session emits `remoteSettings` when the client's SETTINGS (the end of
 * its preface, RFC 9113 §3.4) arrived and `localSettings` when the client acknowledged the server's: the handshake is
 * complete when both have. grpc-js's idle timeout (`connectionIdleMs`) closes such sessions with GOAWAY only, which a
 * client that never finished the preface does not answer, so they stayed open.
 *
 * Call {@link ConnectionTimeouts.onConnection} with each accepted raw socket and {@link ConnectionTimeouts.onSession}
 * with each session; they are linked by their TCP 4-tuple.
 */
export interface ConnectionTimeouts {
  /** Starts the handshake and header clocks of an accepted TCP connection. */
  onConnection(socket: Socket): void;
  /** Watches a connection's session for the end of the handshake and its first request. */
  onSession(session: Http2Session): void;
}

interface Pending {
  readonly socket: Socket;
  session?: Http2Session;
  handshaken: boolean;
  requested: boolean;
  handshakeTimer?: NodeJS.Timeout;
  headerTimer?: NodeJS.Timeout;
}

/**
 * {@link ConnectionTimeouts} for `limits`: a connection whose handshake is not complete `handshakeTimeoutMs` after it
 * was accepted is destroyed (nothing can be said to a client that has not spoken HTTP/2), counted
 * `handshakeTimeouts`; one that sent no request's headers `headerTimeoutMs` after it was accepted is sent GOAWAY
 * NO_ERROR `header_timeout` and closed (destroyed when it has not even finished its handshake), counted
 * `headerTimeouts`.
 */
export function createConnectionTimeouts(limits: ConnectionTimeoutLimits, defences: DefenceCounters): ConnectionTimeouts {
  const { handshakeTimeoutMs, headerTimeoutMs } = limits;
  const pending = new Map<string, Pending>();
  const clear = (entry: Pending) => {
    clearTimeout(entry.handshakeTimer);
    clearTimeout(entry.headerTimer);
  };
  return {
    onConnection(socket) {
      const key = connectionKey(socket);
      if (key === undefined || (handshakeTimeoutMs <= 0 && headerTimeoutMs <= 0)) return;
      const entry: Pending = { socket, handshaken: false, requested: false };
      pending.set(key, entry);
      if (handshakeTimeoutMs > 0) {
        entry.handshakeTimer = setTimeout(() => {
          if (entry.handshaken || socket.destroyed) return;
          defences.count('handshakeTimeouts');
          socket.destroy();
        }, handshakeTimeoutMs).unref();
      }
      if (headerTimeoutMs > 0) {
        entry.headerTimer = setTimeout(() => {
          if (entry.requested || socket.destroyed) return;
          defences.count('headerTimeouts');
          if (entry.handshaken && entry.session) {
            goAwayAndClose(entry.session, http2Constants.NGHTTP2_NO_ERROR, 'header_timeout');
          } else {
            socket.destroy();
          }
        }, headerTimeoutMs).unref();
      }
      socket.once('close', () => {
        clear(entry);
        if (pending.get(key) === entry) pending.delete(key);
      });
    },
    onSession(session) {
      const key = connectionKey(session.socket);
      const entry = key === undefined ? undefined : pending.get(key);
      if (!entry) return;
      entry.session = session;
      let remote = false;
      let local = false;
      const settled = () => {
        if (!remote || !local) return;
        entry.handshaken = true;
        clearTimeout(entry.handshakeTimer);
      };
      session.once('remoteSettings', () => {
        remote = true;
        settled();
      });
      session.once('localSettings', () => {
        local = true;
        settled();
      });
      session.once('stream', () => {
        entry.requested = true;
        clearTimeout(entry.headerTimer);
      });
    },
  };
}
