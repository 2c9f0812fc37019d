import type { Socket } from 'node:net';
import type { DefenceCounters } from './defence-counters.js';

/** Caps of open connections; 0 is no cap. */
export interface ConnectionCapLimits {
  /** Most connections open at once over all the server's listening sockets. */
  readonly maxConnections: number;
  /** Most connections open at once from one remote IP address. */
  readonly maxConnectionsPerPeer: number;
}

/**
 * Admits or refuses each accepted connection against the caps of open connections, server-wide and per remote IP
 * address. Call {@link ConnectionCaps.admit} with the raw socket before anything else listens to it (the server's
 * `connection` event, prepended: before node:http2 sets up TLS or a session on it).
 */
export interface ConnectionCaps {
  /**
   * Counts `socket` as open until it closes, or, over a cap, destroys it at once, counts `connectionsRefused` and
   * returns false.
   */
  admit(socket: Socket): boolean;
}

/** {@link ConnectionCaps} for `limits`, shared by every HTTP/2 server of one gRPC server. */
export function createConnectionCaps(limits: ConnectionCapLimits, defences: DefenceCounters): ConnectionCaps {
  const { maxConnections, maxConnectionsPerPeer } = limits;
  let open = 0;
  const perPeer = new Map<string, number>();
  return {
    admit(socket) {
      const peer = socket.remoteAddress ?? '';
      const fromPeer = perPeer.get(peer) ?? 0;
      if ((maxConnections > 0 && open >= maxConnections) || (maxConnectionsPerPeer > 0 && fromPeer >= maxConnectionsPerPeer)) {
        socket.destroy();
        defences.count('connectionsRefused');
        return false;
      }
      open += 1;
      perPeer.set(peer, fromPeer + 1);
      socket.once('close', () => {
        open -= 1;
        const left = (perPeer.get(peer) ?? 1) - 1;
        if (left > 0) perPeer.set(peer, left);
        else perPeer.delete(peer);
      });
      return true;
    },
  };
}
