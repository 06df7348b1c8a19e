/** Loopback TCP listeners that greet like a service, for scanner tests. */
import { createServer, type Server, type Socket } from 'node:net';

/** A listener on 127.0.0.1 (a free port) that sends `banner` and hangs up on each connection. */
export async function bannerListener(banner: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    // Read (and drop) what the probes send: a socket nobody reads never sees the client's FIN,
    // so it would stay open and keep server.close() from calling back.
    socket.resume();
    socket.end(banner);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
}

/** A started server whose close() also ends its open connections. */
export interface Listening {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts any net-based server (TCP, HTTP, HTTPS, TLS) on 127.0.0.1 (a free port) and tracks its
 * sockets, so close() ends them all instead of waiting for the clients.
 */
export async function listenTracked(server: Server): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    port: address.port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
