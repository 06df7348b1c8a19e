/**
 * The TCP connect scan: a full handshake per (host, port), so it needs no raw sockets or
 * privileges, works through any kernel, and is what nmap -sT does. Concurrency, rate, timeout
 * and retries are bounded by the caller; the probe order is a keyed permutation of the
 * (host, port) space, and a call scans one slice of that order (a shard).
 */
import { defaultConnector, type Connector } from '#src/discovery/tcp-connect.js';
import { Permutation } from '#src/discovery/permutation.model.js';

/** What one probe found. */
export type PortState = 'open' | 'closed' | 'filtered';

/** A token bucket: `rate` tokens per second, at most `burst` saved up. Shared by the shards a
 * process runs, so one global cap holds across them. */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    readonly rate: number,
    private readonly burst = Math.max(1, Math.ceil(rate / 50)),
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.tokens = this.burst;
    this.last = this.clock();
  }

  /** Takes up to `wanted` tokens now; returns how many it got. */
  take(wanted: number): number {
    const now = this.clock();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    const got = Math.min(wanted, Math.floor(this.tokens));
    this.tokens -= got;
    return got;
  }

  /** Milliseconds until the next token. */
  waitMs(): number {
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.rate));
  }
}

/** Several limiters taken together (the scan's own rate and the process-wide cap). */
export class CombinedLimiter {
  constructor(private readonly limiters: readonly RateLimiter[]) {}

  /** Takes up to `wanted` tokens from every limiter (the smallest grant wins; the others get
   * the surplus back on their next refill, which errs on the slow side). */
  take(wanted: number): number {
    let got = wanted;
    for (const l of this.limiters) got = l.take(got);
    return got;
  }

  /** Milliseconds until every limiter has a token. */
  waitMs(): number {
    return Math.max(...this.limiters.map((l) => l.waitMs()));
  }
}

/** One slice of a scan. */
export interface ConnectScanOptions {
  readonly hosts: readonly string[];
  readonly ports: readonly number[];
  /** Key of the probe order; every shard of a scan uses the same one. */
  readonly seed: number;
  /** First position in the permuted order (inclusive). */
  readonly start: number;
  /** Last position (exclusive). */
  readonly end: number;
  readonly limiter: RateLimiter | CombinedLimiter;
  /** Connections in flight at most. */
  readonly concurrency: number;
  /** A connect that neither completes nor fails in this time counts as filtered. */
  readonly timeoutMs: number;
  /** Filtered ports are tried this many more times (a lost SYN is not a closed port). */
  readonly retries: number;
  readonly signal?: AbortSignal;
  /** Called for every open port as soon as it is found. */
  readonly onOpen?: (ip: string, port: number) => void;
  /** Called with the number of probes finished so far, at most every 100 ms and at the end. */
  readonly onProgress?: (done: number) => void;
  /** How to connect (default: the fastest this Node offers). */
  readonly connector?: Connector;
}

/** Counts of one slice. */
export interface ConnectScanResult {
  readonly open: { ip: string; port: number }[];
  readonly closed: number;
  readonly filtered: number;
  /** Probes finished; equals end - start unless aborted. */
  readonly done: number;
  readonly aborted: boolean;
}

let connectorOfProcess: Connector | undefined;
function sharedConnector(): Connector {
  connectorOfProcess ??= defaultConnector();
  return connectorOfProcess;
}

/** Scans positions [start, end) of the permuted (host, port) order. Never throws for network
 * trouble: every error of a connect is a port state. */
export function connectScan(options: ConnectScanOptions): Promise<ConnectScanResult> {
  const { hosts, ports, limiter, signal } = options;
  const connector = options.connector ?? sharedConnector();
  const total = hosts.length * ports.length;
  const permutation = new Permutation(Math.max(total, 1), options.seed);
  const open: { ip: string; port: number }[] = [];
  let closed = 0;
  let filtered = 0;
  let next = options.start;
  let done = 0;
  let inFlight = 0;
  const retryQueue: { index: number; tries: number }[] = [];
  let lastProgress = 0;
  let timer: NodeJS.Timeout | undefined;

  return new Promise((resolve) => {
    let finished = false;
    const finish = (aborted: boolean): void => {
      if (finished) return;
      finished = true;
      if (timer !== undefined) clearTimeout(timer);
      clearInterval(sweeper);
      for (const entry of deadlines.values()) entry.cancel();
      deadlines.clear();
      signal?.removeEventListener('abort', onAbort);
      options.onProgress?.(done);
      resolve({ open, closed, filtered, done, aborted });
    };
    const onAbort = (): void => {
      finish(true);
    };

    const settle = (index: number, tries: number, state: PortState): void => {
      inFlight--;
      if (state === 'filtered' && tries < options.retries) {
        retryQueue.push({ index, tries: tries + 1 });
      } else {
        done++;
        if (state === 'open') {
          const ip = hosts[Math.floor(index / ports.length)]!;
          const port = ports[index % ports.length]!;
          open.push({ ip, port });
          options.onOpen?.(ip, port);
        } else if (state === 'closed') closed++;
        else filtered++;
      }
      if (options.onProgress !== undefined) {
        const now = performance.now();
        if (now - lastProgress >= 100) {
          lastProgress = now;
          options.onProgress(done);
        }
      }
      pump();
    };

    // One sweep for every connection in flight instead of a timer each: at tens of thousands
    // of connects per second, timers are a measurable share of the cost.
    const deadlines = new Map<
      number,
      { at: number; cancel: () => void; index: number; tries: number }
    >();
    let probeId = 0;
    const sweepEvery = Math.max(10, Math.min(100, Math.floor(options.timeoutMs / 4)));
    const sweeper = setInterval(() => {
      const now = performance.now();
      for (const [id, entry] of deadlines) {
        if (entry.at > now) continue;
        deadlines.delete(id);
        entry.cancel();
        settle(entry.index, entry.tries, 'filtered');
      }
    }, sweepEvery);
    const families = hosts.map((h): 4 | 6 => (h.includes(':') ? 6 : 4));
    if (signal?.aborted === true) {
      finish(true);
      return;
    }
    signal?.addEventListener('abort', onAbort);

    const probe = (index: number, tries: number): void => {
      inFlight++;
      const host = Math.floor(index / ports.length);
      const port = ports[index % ports.length]!;
      const id = probeId++;
      const cancel = connector(hosts[host]!, families[host]!, port, (state) => {
        if (!deadlines.delete(id)) return;
        settle(index, tries, state);
      });
      deadlines.set(id, { at: performance.now() + options.timeoutMs, cancel, index, tries });
    };

    const pump = (): void => {
      if (finished) return;
      if (timer !== undefined) return;
      while (inFlight < options.concurrency) {
        const pending = retryQueue.length + (options.end - next);
        if (pending === 0) break;
        const granted = limiter.take(Math.min(pending, options.concurrency - inFlight));
        if (granted === 0) {
          timer = setTimeout(() => {
            timer = undefined;
            pump();
          }, limiter.waitMs());
          return;
        }
        for (let g = 0; g < granted; g++) {
          const retry = retryQueue.shift();
          if (retry !== undefined) probe(retry.index, retry.tries);
          else probe(permutation.at(next++), 0);
        }
      }
      if (inFlight === 0 && retryQueue.length === 0 && next >= options.end) finish(false);
    };
    pump();
  });
}
