/**
 * Service identification of one open TCP port, the way nmap does it: connect and listen for a
 * banner (the "null" probe); if that names no product, try protocol probes, each on a fresh
 * connection, those the port hint table names first. A rule that names a product ends probing;
 * one that names only a service (a soft match) narrows the remaining probes to those that can
 * confirm that service. Every connection, read and the whole port are bounded in time and
 * bytes, and network trouble is part of the answer, never an exception.
 *
 * Concurrency: identifyService keeps no state outside one call (the fingerprint database is
 * immutable), so the scanner may run any number of calls at once; each holds at most one
 * connection and about maxBytes (plus faviconMaxBytes) of buffers at any moment.
 */
import type { TLSSocket } from 'node:tls';
import type { HttpInfo, ServiceFinding, TlsInfo } from '#src/discovery/discovery.model.js';
import { BoundedConnection, type Endpoint } from '#src/discovery/bounded-socket.js';
import { decode, printable } from '#src/discovery/decoders.js';
import {
  matchRules,
  type FingerprintDb,
  type MatchResult,
  type ProbeDef,
} from '#src/discovery/fingerprint.model.js';
import { faviconHashOf, hostHeader, httpGet, httpInfo } from '#src/discovery/http-probe.js';
import { captureTls, DEFAULT_TLS_LIMITS, type TlsCaptureLimits } from '#src/discovery/tls-probe.js';

/** Limits and inputs of identifyService. */
export interface ProbeOptions {
  /** TCP connect timeout (default 3000 ms). */
  readonly connectTimeoutMs?: number;
  /** Per-read wait of the null probe, and of probes without their own (default 5000 ms). */
  readonly readTimeoutMs?: number;
  /** After the first byte, a read ends when nothing more comes for this long (default 500). */
  readonly idleMs?: number;
  /** Everything spent on this port (default 20000 ms). */
  readonly totalTimeoutMs?: number;
  /** Most bytes of one read (default 16 KiB). */
  readonly maxBytes?: number;
  /** Most bytes of /favicon.ico; a larger icon gets no hash (default 128 KiB). */
  readonly faviconMaxBytes?: number;
  /** Chain length and certificate size bounds. */
  readonly tlsLimits?: TlsCaptureLimits;
  /** The loaded fingerprint database. */
  readonly fingerprints: FingerprintDb;
  /** Aborting ends probing; the finding so far is returned. */
  readonly signal?: AbortSignal;
}

/** The port to identify. */
export type ProbeTarget = Endpoint;

/** Service names of a protocol spoken inside TLS, as nmap's "ssl/x" would be named. */
const OVER_TLS: Record<string, string> = {
  http: 'https',
  smtp: 'smtps',
  ftp: 'ftps',
  imap: 'imaps',
  pop3: 'pop3s',
  telnet: 'telnets',
};

interface State {
  match: MatchResult | undefined;
  matchViaTls: boolean;
  banner: string | undefined;
  tls: TlsInfo | undefined;
  http: { info: HttpInfo; tls: boolean } | undefined;
  extra: Record<string, string>;
}

/** A greeting of numbered lines (SMTP, FTP) ends with a line "NNN text", not "NNN-text". */
function greetingComplete(data: Buffer): boolean {
  return /(?:^|\n)\d{3}(?: [^\n]*)?\r?\n$/.test(
    data.toString('latin1', Math.max(0, data.length - 512)),
  );
}

/** Better = the first hard match, else the first soft match naming more than "ssl". */
function better(current: MatchResult | undefined, next: MatchResult): boolean {
  if (current === undefined) return true;
  if (current.hard) return false;
  return next.hard || (current.service === 'ssl' && next.service !== 'ssl');
}

/**
 * The probes to try on a port, each once. Normally the null probe (wait for a banner) comes
 * first, then the port's hints, then the default order. When the port's first hint is a
 * protocol in which the client speaks first (HTTP, TLS, Redis, PostgreSQL, ...), the hints go
 * before the null probe: such a server never sends a banner, and waiting the null probe's
 * read timeout on every web port would cost seconds per port for nothing. A server that does
 * greet on such a port is still named, by the null probe after the hints.
 */
function probeOrder(db: FingerprintDb, port: number): string[] {
  const hints = db.portHints.get(port) ?? [];
  const first = hints.length > 0 ? db.probes.get(hints[0]!) : undefined;
  const clientFirst = first !== undefined && !first.afterBanner && !first.matchAs.includes('null');
  const order = clientFirst
    ? [...hints, 'null', ...db.defaultOrder]
    : ['null', ...hints, ...db.defaultOrder];
  return [...new Set(order)];
}

/** Identifies the service on an open port. Never throws for network trouble. */
export async function identifyService(
  target: ProbeTarget,
  options: ProbeOptions,
): Promise<ServiceFinding> {
  const db = options.fingerprints;
  const connectTimeoutMs = options.connectTimeoutMs ?? 3000;
  const readTimeoutMs = options.readTimeoutMs ?? 5000;
  const idleMs = options.idleMs ?? 500;
  const totalTimeoutMs = options.totalTimeoutMs ?? 20_000;
  const maxBytes = options.maxBytes ?? 16 * 1024;
  const faviconMaxBytes = options.faviconMaxBytes ?? 128 * 1024;
  const tlsLimits = options.tlsLimits ?? DEFAULT_TLS_LIMITS;
  const deadline = Date.now() + totalTimeoutMs;
  const controller = new AbortController();
  const stop = (): void => {
    controller.abort();
  };
  const totalTimer = setTimeout(stop, totalTimeoutMs);
  // AbortSignal.any links without adding a listener to the caller's signal, which a scanner
  // shares across hundreds of concurrent calls (listeners would trip MaxListeners warnings).
  const signal =
    options.signal === undefined
      ? controller.signal
      : AbortSignal.any([options.signal, controller.signal]);
  const remaining = (): number => Math.max(0, deadline - Date.now());

  const state: State = {
    match: undefined,
    matchViaTls: false,
    banner: undefined,
    tls: undefined,
    http: undefined,
    extra: {},
  };

  // A function, so that TypeScript does not keep a narrowing across the awaits that change it.
  const identified = (): boolean => state.match?.hard === true;

  const consider = (match: MatchResult | undefined, viaTls: boolean): boolean => {
    if (match === undefined || !better(state.match, match)) return false;
    state.match = match;
    state.matchViaTls = viaTls;
    return true;
  };

  /** The best match of one answer and the facts its decoders found; changes nothing. */
  const evaluate = (
    probe: ProbeDef,
    data: Buffer,
  ): { match: MatchResult | undefined; extra: Record<string, string> } => {
    let match: MatchResult | undefined;
    const extra: Record<string, string> = {};
    if (data.length === 0) return { match, extra };
    const take = (candidate: MatchResult | undefined): void => {
      if (candidate !== undefined && better(match, candidate)) match = candidate;
    };
    for (const name of probe.decoders) {
      const decoded = decode(name, data);
      if (decoded === undefined) continue;
      Object.assign(extra, decoded.extra);
      take(matchRules(db, name, decoded.text));
    }
    const text = data.toString('latin1');
    for (const namespace of [probe.name, ...probe.matchAs]) take(matchRules(db, namespace, text));
    return { match, extra };
  };

  /** Records what an answer says; true if its match became the best so far. */
  const matchAnswer = (probe: ProbeDef, data: Buffer): boolean => {
    const { match, extra } = evaluate(probe, data);
    Object.assign(state.extra, extra);
    return consider(match, probe.tls);
  };

  /** Ends a read as soon as the answer names a product: no need to wait for the idle gap. */
  const namesProduct =
    (probe: ProbeDef, before: Buffer) =>
    (data: Buffer): boolean =>
      evaluate(probe, before.length === 0 ? data : Buffer.concat([before, data])).match?.hard ===
      true;

  const open = (tls: boolean, bytes: number) =>
    BoundedConnection.open(target, {
      connectTimeoutMs: Math.min(connectTimeoutMs, remaining()),
      tls,
      handshakeTimeoutMs: Math.min(readTimeoutMs, remaining()),
      maxBytes: bytes,
      signal,
    });

  /** Runs one probe; 'unreachable' when no TCP connection could be made. */
  const runProbe = async (probe: ProbeDef): Promise<'done' | 'unreachable'> => {
    const opened = await open(probe.tls, maxBytes);
    if (!opened.ok) return opened.connected ? 'done' : 'unreachable';
    const connection = opened.connection;
    try {
      if (probe.tls) state.tls ??= captureTls(connection.socket as TLSSocket, tlsLimits);
      const read = {
        timeoutMs: Math.min(probe.readTimeoutMs ?? readTimeoutMs, remaining()),
        idleMs,
      };
      if (probe.kind === 'http') {
        const { raw, response } = await httpGet(
          connection,
          hostHeader(target, probe.tls),
          '/',
          read,
        );
        if (raw.length > 0) state.banner ??= printable(raw);
        const improved = matchAnswer(probe, raw);
        if (response !== undefined && (improved || state.http === undefined))
          state.http = { info: httpInfo(response), tls: probe.tls };
      } else {
        const greeting = probe.afterBanner
          ? await connection.read({ ...read, complete: greetingComplete })
          : Buffer.alloc(0);
        connection.write(probe.send);
        const answer = await connection.read({
          ...read,
          timeoutMs: Math.min(read.timeoutMs, remaining()),
          complete: namesProduct(probe, greeting),
        });
        const data = Buffer.concat([greeting, answer]);
        if (data.length > 0) state.banner ??= printable(data);
        matchAnswer(probe, data);
      }
    } finally {
      connection.close();
    }
    return 'done';
  };

  const fetchFavicon = async (tls: boolean): Promise<number | undefined> => {
    const opened = await open(tls, faviconMaxBytes);
    if (!opened.ok) return undefined;
    const connection = opened.connection;
    try {
      const { response } = await httpGet(connection, hostHeader(target, tls), '/favicon.ico', {
        timeoutMs: Math.min(readTimeoutMs, remaining()),
        idleMs,
      });
      return faviconHashOf(response);
    } finally {
      connection.close();
    }
  };

  try {
    for (const name of probeOrder(db, target.port)) {
      if (signal.aborted || remaining() < 50) break;
      const probe = db.probes.get(name);
      if (probe === undefined) continue;
      const soft = state.match;
      if (soft !== undefined && !probe.services.includes(soft.service)) continue;
      if ((await runProbe(probe)) === 'unreachable') break;
      if (identified()) break;
    }
    if (state.http !== undefined && !signal.aborted && remaining() > 50) {
      const hash = await fetchFavicon(state.http.tls);
      if (hash !== undefined) state.http.info = { ...state.http.info, faviconHash: hash };
    }
  } finally {
    clearTimeout(totalTimer);
  }

  const match = state.match;
  let service = match?.service;
  if (service !== undefined && state.matchViaTls) service = OVER_TLS[service] ?? service;
  if (service === undefined && state.tls !== undefined) service = 'ssl';
  const extra = { ...state.extra };
  if (match?.info !== undefined) extra.info = match.info;
  return {
    ip: target.ip,
    port: target.port,
    protocol: 'tcp',
    ...(service === undefined ? {} : { service }),
    ...(match?.product === undefined ? {} : { product: match.product }),
    ...(match?.version === undefined ? {} : { version: match.version }),
    ...(match?.cpe === undefined ? {} : { cpe: match.cpe }),
    ...(state.banner === undefined ? {} : { banner: state.banner }),
    ...(state.tls === undefined ? {} : { tls: state.tls }),
    ...(state.http === undefined ? {} : { http: state.http.info }),
    ...(Object.keys(extra).length === 0 ? {} : { extra }),
  };
}
