/**
 * One TCP connection attempt, reported as a port state. Two implementations:
 *
 * - libuv's TCP handle, through Node's tcp_wrap binding: a handle and a connect request, and
 *   nothing else. A connect scan opens tens of thousands of connections that carry no data, and
 *   for those a net.Socket (a full duplex stream, its state objects, an Error with a stack per
 *   refused port) costs about three times the CPU of the connect itself: measured 4.8 s against
 *   12.4 s for all 65,535 loopback ports on this machine under the same load, where nmap -sT
 *   took 4.4 s. The binding is internal to Node, so it is feature-detected, and any surprise
 *   (missing, renamed, throwing) falls back to the second implementation for good.
 * - net.connect, the public API: always correct, slower.
 *
 * Timeouts are kept by the caller (one sweep for all connections in flight, not one timer each).
 */
import { connect } from 'node:net';

/** The state a connection attempt found. */
export type ConnectState = 'open' | 'closed' | 'filtered';

/** Starts a connection attempt; `done` is called once. Returns a function that aborts it
 * (after which `done` is not called). */
export type Connector = (
  ip: string,
  family: 4 | 6,
  port: number,
  done: (state: ConnectState) => void,
) => () => void;

interface TcpHandle {
  connect(req: object, address: string, port: number): number;
  connect6(req: object, address: string, port: number): number;
  getsockname(out: Record<string, unknown>): number;
  close(callback?: () => void): void;
}

interface TcpWrapBinding {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => {
    oncomplete: (status: number) => void;
    address: string;
    port: number;
  };
  constants: { SOCKET: number };
}

// libuv error numbers are negated errno values on Linux.
const UV_ECONNREFUSED = -111;
const UV_ECONNRESET = -104;

function loadTcpWrap(): TcpWrapBinding | undefined {
  try {
    // process.binding is deprecated for general use but still ships tcp_wrap in Node 20-24;
    // see the module comment for why it is worth it here.
    const binding = (
      process as unknown as { binding: (name: string) => Partial<TcpWrapBinding> }
    ).binding('tcp_wrap');
    if (
      typeof binding.TCP === 'function' &&
      typeof binding.TCPConnectWrap === 'function' &&
      typeof binding.constants?.SOCKET === 'number'
    ) {
      return binding as TcpWrapBinding;
    }
  } catch {
    // fall back to net.connect
  }
  return undefined;
}

/** The portable connector, on net.connect. */
export const socketConnector: Connector = (ip, _family, port, done) => {
  let settled = false;
  const socket = connect({ host: ip, port, noDelay: true });
  const end = (state: ConnectState | undefined): void => {
    if (settled) return;
    settled = true;
    socket.removeAllListeners();
    socket.on('error', () => undefined);
    socket.destroy();
    if (state !== undefined) done(state);
  };
  socket.once('connect', () => {
    // On loopback a connect to a port in the ephemeral range can pick that same port as its
    // source and "succeed" against itself (TCP simultaneous open): not a service.
    end(
      socket.localPort === port && socket.localAddress === socket.remoteAddress ? 'closed' : 'open',
    );
  });
  socket.once('error', (error: NodeJS.ErrnoException) => {
    end(error.code === 'ECONNREFUSED' || error.code === 'ECONNRESET' ? 'closed' : 'filtered');
  });
  return () => {
    end(undefined);
  };
};

let fallback = false;

function handleConnector(binding: TcpWrapBinding): Connector {
  const { TCP, TCPConnectWrap, constants } = binding;
  return (ip, family, port, done) => {
    if (fallback) return socketConnector(ip, family, port, done);
    let handle: TcpHandle;
    const req = new TCPConnectWrap();
    let live = true;
    try {
      handle = new TCP(constants.SOCKET);
    } catch {
      fallback = true;
      return socketConnector(ip, family, port, done);
    }
    req.address = ip;
    req.port = port;
    req.oncomplete = (status: number) => {
      if (!live) return;
      live = false;
      let state: ConnectState;
      if (status === 0) {
        const local: Record<string, unknown> = {};
        handle.getsockname(local);
        state = local.port === port && local.address === ip ? 'closed' : 'open';
      } else {
        state = status === UV_ECONNREFUSED || status === UV_ECONNRESET ? 'closed' : 'filtered';
      }
      handle.close();
      done(state);
    };
    const error = family === 6 ? handle.connect6(req, ip, port) : handle.connect(req, ip, port);
    if (error !== 0) {
      live = false;
      handle.close();
      // Refused synchronously (no route, no buffer space): report on the next turn, as the
      // asynchronous path does, so callers never re-enter themselves.
      setImmediate(() => {
        done(error === UV_ECONNREFUSED ? 'closed' : 'filtered');
      });
    }
    return () => {
      if (!live) return;
      live = false;
      handle.close();
    };
  };
}

/** The fastest connector this Node offers. */
export function defaultConnector(): Connector {
  const binding = loadTcpWrap();
  return binding === undefined ? socketConnector : handleConnector(binding);
}
