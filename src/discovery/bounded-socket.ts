/**
 * One TCP (optionally TLS) connection whose every read is bounded in bytes and time. The
 * probes talk to arbitrary, possibly hostile servers: a server that writes forever, trickles a
 * byte a second, or never answers must cost us a fixed amount of memory and time, and network
 * trouble is a result (an error string), never an exception.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/** Where to connect. */
export interface Endpoint {
  /** IPv4 or IPv6 address. */
  readonly ip: string;
  /** TCP port. */
  readonly port: number;
  /** DNS name the address was found for: TLS SNI and the HTTP Host header use it. */
  readonly hostname?: string;
}

/** Limits of one connection. */
export interface ConnectLimits {
  /** TCP connect timeout. */
  readonly connectTimeoutMs: number;
  /** Wrap in TLS after connecting. */
  readonly tls: boolean;
  /** TLS handshake timeout. */
  readonly handshakeTimeoutMs: number;
  /** Most bytes buffered (and returned by one read). */
  readonly maxBytes: number;
  /** Aborting closes the connection at once. */
  readonly signal?: AbortSignal;
}

/** How long and until what one read waits. */
export interface ReadLimits {
  /** Longest wait for the whole read. */
  readonly timeoutMs: number;
  /** After the first byte, stop when nothing more arrives for this long. */
  readonly idleMs: number;
  /** Stop as soon as this says the answer is whole. */
  readonly complete?: (data: Buffer) => boolean;
}

/** Outcome of opening a connection. */
export type OpenResult =
  | { readonly ok: true; readonly connection: BoundedConnection }
  | {
      readonly ok: false;
      /** "refused", "timeout", "reset", "tls: <reason>", ... */
      readonly error: string;
      /** The TCP connection was made (the TLS handshake failed). */
      readonly connected: boolean;
    };

function errorName(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'reset';
  if (code === 'ETIMEDOUT') return 'timeout';
  if (code !== undefined) return code;
  return error instanceof Error ? error.message.slice(0, 200) : 'error';
}

/** A connected socket with bounded, buffered reads. */
export class BoundedConnection {
  private chunks: Buffer[] = [];
  private size = 0;
  private ended = false;
  private failure: string | undefined;
  private wake: (() => void) | undefined;
  private readonly onAbort = (): void => {
    this.close();
  };

  private constructor(
    /** The socket data flows on (the TLS socket when TLS is on). */
    readonly socket: Socket | TLSSocket,
    private readonly maxBytes: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.size += chunk.length;
      if (this.size >= this.maxBytes) socket.pause();
      this.wake?.();
    });
    const finish = (): void => {
      this.ended = true;
      this.wake?.();
    };
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (error) => {
      this.failure ??= errorName(error);
      finish();
    });
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Opens a connection; never throws. */
  static async open(endpoint: Endpoint, limits: ConnectLimits): Promise<OpenResult> {
    if (limits.signal?.aborted === true) return { ok: false, error: 'aborted', connected: false };
    const tcp = await new Promise<{ socket: Socket } | { error: string }>((resolve) => {
      const socket = netConnect({ host: endpoint.ip, port: endpoint.port });
      const done = (result: { socket: Socket } | { error: string }): void => {
        clearTimeout(timer);
        limits.signal?.removeEventListener('abort', abort);
        socket.removeListener('connect', onConnect);
        socket.removeListener('error', onError);
        if ('error' in result) socket.destroy();
        resolve(result);
      };
      const abort = (): void => {
        done({ error: 'aborted' });
      };
      const timer = setTimeout(() => {
        done({ error: 'timeout' });
      }, limits.connectTimeoutMs);
      limits.signal?.addEventListener('abort', abort, { once: true });
      const onConnect = (): void => {
        done({ socket });
      };
      const onError = (error: Error): void => {
        done({ error: errorName(error) });
      };
      socket.once('connect', onConnect);
      socket.once('error', onError);
    });
    if ('error' in tcp) return { ok: false, error: tcp.error, connected: false };
    tcp.socket.setNoDelay(true);
    if (!limits.tls) {
      return {
        ok: true,
        connection: new BoundedConnection(tcp.socket, limits.maxBytes, limits.signal),
      };
    }
    const secure = await new Promise<{ socket: TLSSocket } | { error: string }>((resolve) => {
      const socket = tlsConnect({
        socket: tcp.socket,
        // SNI must be a name, never an address (RFC 6066).
        ...(endpoint.hostname === undefined ? {} : { servername: endpoint.hostname }),
        // We record what is presented, we do not trust it; and old devices speak old TLS.
        rejectUnauthorized: false,
        minVersion: 'TLSv1',
        ciphers: 'DEFAULT:@SECLEVEL=0',
        ALPNProtocols: ['http/1.1'],
      });
      const done = (result: { socket: TLSSocket } | { error: string }): void => {
        clearTimeout(timer);
        limits.signal?.removeEventListener('abort', abort);
        // Only our own listeners: node's TLS code has listeners of its own on both sockets.
        socket.removeListener('secureConnect', onSecure);
        socket.removeListener('error', onError);
        socket.removeListener('close', onClose);
        tcp.socket.removeListener('error', onError);
        if ('error' in result) {
          socket.destroy();
          tcp.socket.destroy();
        }
        resolve(result);
      };
      const abort = (): void => {
        done({ error: 'aborted' });
      };
      const timer = setTimeout(() => {
        done({ error: 'tls: handshake timeout' });
      }, limits.handshakeTimeoutMs);
      limits.signal?.addEventListener('abort', abort, { once: true });
      const onSecure = (): void => {
        done({ socket });
      };
      const onError = (error: Error): void => {
        done({ error: `tls: ${errorName(error)}` });
      };
      const onClose = (): void => {
        done({ error: 'tls: closed during handshake' });
      };
      socket.once('secureConnect', onSecure);
      socket.once('error', onError);
      socket.once('close', onClose);
      tcp.socket.once('error', onError);
    });
    if ('error' in secure) return { ok: false, error: secure.error, connected: true };
    // The raw socket's errors surface on the TLS socket; keep a listener so none is unhandled.
    tcp.socket.on('error', () => undefined);
    return {
      ok: true,
      connection: new BoundedConnection(secure.socket, limits.maxBytes, limits.signal),
    };
  }

  /** Why the connection failed, if it did. */
  get error(): string | undefined {
    return this.failure;
  }

  /** The peer closed (or the connection failed) and every byte it sent has been read. */
  get finished(): boolean {
    return this.ended && this.size === 0;
  }

  /** Writes without waiting; a failure shows up on the next read. */
  write(data: Buffer): void {
    if (this.ended || data.length === 0) return;
    this.socket.write(data, (error) => {
      if (error) this.failure ??= errorName(error);
    });
  }

  private take(): Buffer {
    const all = Buffer.concat(this.chunks, this.size);
    const out = all.subarray(0, this.maxBytes);
    const rest = all.subarray(this.maxBytes);
    this.chunks = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.size = rest.length;
    if (this.size < this.maxBytes && !this.ended) this.socket.resume();
    return out;
  }

  /** Reads what arrives within the limits (at most maxBytes); empty when nothing came. */
  read(limits: ReadLimits): Promise<Buffer> {
    return new Promise((resolve) => {
      const started = Date.now();
      let idleTimer: NodeJS.Timeout | undefined;
      let lastSize = -1;
      const finish = (): void => {
        clearTimeout(totalTimer);
        clearTimeout(idleTimer);
        this.wake = undefined;
        resolve(this.take());
      };
      const check = (): void => {
        if (
          this.size >= this.maxBytes ||
          this.ended ||
          this.signal?.aborted === true ||
          Date.now() - started >= limits.timeoutMs
        ) {
          finish();
          return;
        }
        if (this.size > 0 && limits.complete !== undefined) {
          const data = Buffer.concat(this.chunks, this.size);
          this.chunks = [data];
          if (limits.complete(data)) {
            finish();
            return;
          }
        }
        if (this.size > 0 && this.size !== lastSize) {
          lastSize = this.size;
          clearTimeout(idleTimer);
          idleTimer = setTimeout(finish, limits.idleMs);
        }
      };
      const totalTimer = setTimeout(finish, Math.max(0, limits.timeoutMs));
      this.wake = check;
      check();
    });
  }

  /** Closes the connection now; safe to call twice. */
  close(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.ended = true;
    this.socket.destroy();
  }
}
