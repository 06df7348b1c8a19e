/** Loopback TCP listeners that greet like a service, for scanner tests. */
import { createServer, type Server } from 'node:net';

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
