import { connect, createServer, type Socket } from 'node:net';

/** A running {@link startPeerProxy}. */
export interface PeerProxy {
  /** `127.0.0.1:<port>`: a client connecting here reaches the target from the proxy's local address. */
  readonly address: string;
  /** Closes the listener and every forwarded connection. */
  close(): Promise<void>;
}

/**
 * A TCP forwarder on 127.0.0.1:0 whose connections reach `127.0.0.1:targetPort` from `localAddress`: a second peer
 * address for per-address tests on one machine. Linux routes all of 127.0.0.0/8 to the loopback interface, so
 * `127.0.0.2` can be bound without any setup; the server then sees the peer `127.0.0.2:<port>`.
 */
export async function startPeerProxy(targetPort: number, localAddress: string): Promise<PeerProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = createServer((inbound) => {
    const outbound = connect({ host: '127.0.0.1', port: targetPort, localAddress });
    track(inbound);
    track(outbound);
    inbound.pipe(outbound).pipe(inbound);
    // Either side's end or error ends both: a forwarder holds no connection of its own.
    for (const [side, other] of [
      [inbound, outbound],
      [outbound, inbound],
    ] as const) {
      side.on('error', () => other.destroy());
      side.on('close', () => other.destroy());
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
