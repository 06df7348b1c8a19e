/**
 * node:cluster support for `serve --workers N`. Workers share the listening port; the primary
 * only supervises and answers cluster-wide questions by asking every worker:
 * - /stats: the exact sum of every worker's counters (each counts synchronously, see stats.ts);
 * - /metrics: prom-client's AggregatorRegistry merges the workers' registries;
 * - reload (SIGHUP to the primary, or POST /environment/reload on any worker): every worker
 *   re-reads the file, and the caller learns whether all of them swapped.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { StatsSource, StatsTotals } from '#src/http/stats.js';
import type { ReloadOutcome } from '#src/cloud/cloud.routes.js';
import { EnvironmentError } from '#src/cloud/environment.loader.js';
import { AppError } from '#src/http/errors.js';

type Op = 'stats' | 'reload' | 'metrics';

/** What a worker reports for one operation. */
type WorkerReply =
  | { readonly op: 'stats'; readonly count: number; readonly seconds: number }
  | { readonly op: 'reload'; readonly version: number; readonly vm_count: number }
  | { readonly op: 'reload'; readonly error: string };

interface DoMessage {
  readonly t: 'ss:do';
  readonly id: number;
  readonly op: Op;
}
interface ReplyMessage {
  readonly t: 'ss:reply';
  readonly id: number;
  readonly reply: WorkerReply;
}
interface AskMessage {
  readonly t: 'ss:ask';
  readonly id: number;
  readonly op: Op;
}
interface AnswerMessage {
  readonly t: 'ss:answer';
  readonly id: number;
  readonly result?: unknown;
  readonly error?: string;
  /** 'environment' when a reload was rejected; anything else is a cluster failure. */
  readonly errorKind?: 'environment' | 'cluster';
}
type Message = DoMessage | ReplyMessage | AskMessage | AnswerMessage;

function isMessage(value: unknown): value is Message {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { t?: unknown }).t === 'string' &&
    (value as { t: string }).t.startsWith('ss:')
  );
}

const GATHER_TIMEOUT_MS = 5000;

/** Local operations a worker performs when the primary asks. */
export interface WorkerLocal {
  stats(): StatsTotals;
  /** Reloads this process; throws EnvironmentError when the file is bad. */
  reload(): Promise<{ version: number; vm_count: number }>;
}

/**
 * Runs the primary: forks `workers` processes, replaces a worker that dies unexpectedly, relays
 * cluster-wide questions, reloads all on SIGHUP, and stops all on SIGTERM/SIGINT.
 */
export function runPrimary(options: {
  workers: number;
  logger: Logger;
  shutdownTimeoutMs: number;
}): void {
  const { logger } = options;
  const aggregator = new AggregatorRegistry();
  let nextId = 1;
  let stopping = false;
  const pending = new Map<
    number,
    { expect: Set<number>; replies: WorkerReply[]; done: (r: WorkerReply[]) => void }
  >();

  const liveWorkers = (): Worker[] =>
    Object.values(cluster.workers ?? {}).filter(
      (w): w is Worker => w !== undefined && w.isConnected(),
    );

  const gather = (op: Op): Promise<WorkerReply[]> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const workers = liveWorkers();
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(
          new Error(
            `${String(workers.length - (pending.get(id)?.replies.length ?? 0))} worker(s) did not answer in time`,
          ),
        );
      }, GATHER_TIMEOUT_MS);
      pending.set(id, {
        expect: new Set(workers.map((w) => w.id)),
        replies: [],
        done: (replies) => {
          clearTimeout(timer);
          pending.delete(id);
          resolve(replies);
        },
      });
      const message: DoMessage = { t: 'ss:do', id, op };
      for (const worker of workers) worker.send(message);
    });

  const answer = async (op: Op): Promise<unknown> => {
    if (op === 'metrics') return aggregator.clusterMetrics();
    const replies = await gather(op);
    if (op === 'stats') {
      let count = 0;
      let seconds = 0;
      for (const reply of replies) {
        if (reply.op === 'stats') {
          count += reply.count;
          seconds += reply.seconds;
        }
      }
      return { count, seconds } satisfies StatsTotals;
    }
    const failed = replies.find((r) => r.op === 'reload' && 'error' in r);
    if (failed && 'error' in failed) throw new EnvironmentError(failed.error);
    let version = 0;
    let vmCount = 0;
    for (const reply of replies) {
      if (reply.op === 'reload' && 'version' in reply) {
        version = Math.max(version, reply.version);
        vmCount = reply.vm_count;
      }
    }
    return { version, vm_count: vmCount, workers: replies.length } satisfies ReloadOutcome;
  };

  const respond = async (worker: Worker, message: AskMessage): Promise<void> => {
    let reply: AnswerMessage;
    try {
      reply = { t: 'ss:answer', id: message.id, result: await answer(message.op) };
    } catch (error) {
      reply = {
        t: 'ss:answer',
        id: message.id,
        error: error instanceof Error ? error.message : String(error),
        errorKind: error instanceof EnvironmentError ? 'environment' : 'cluster',
      };
    }
    if (worker.isConnected()) worker.send(reply);
  };

  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage(message)) return;
    if (message.t === 'ss:reply') {
      const entry = pending.get(message.id);
      if (!entry?.expect.delete(worker.id)) return;
      entry.replies.push(message.reply);
      if (entry.expect.size === 0) entry.done(entry.replies);
    } else if (message.t === 'ss:ask') {
      void respond(worker, message);
    }
  });

  const listening = new Set<number>();
  cluster.on('listening', (worker) => {
    listening.add(worker.id);
  });

  // A worker that exits stops being expected in any pending gather.
  cluster.on('exit', (worker, code, signal) => {
    for (const entry of pending.values()) {
      if (entry.expect.delete(worker.id) && entry.expect.size === 0) entry.done(entry.replies);
    }
    if (stopping) return;
    if (!listening.has(worker.id)) {
      // It never served: a replacement would fail the same way (port taken, bad file).
      logger.fatal({ worker: worker.process.pid, code }, 'a worker failed to start; stopping');
      stop('worker-start-failure', 1);
      return;
    }
    logger.error(
      { worker: worker.process.pid, code, signal },
      'worker died; starting a replacement',
    );
    cluster.fork();
  });

  for (let i = 0; i < options.workers; i++) cluster.fork();

  const reloadAll = async (): Promise<void> => {
    try {
      logger.info({ outcome: await answer('reload') }, 'environment reloaded in every worker');
    } catch (error) {
      logger.error({ err: error }, 'reload rejected; the previous environment keeps serving');
    }
  };
  process.on('SIGHUP', () => {
    void reloadAll();
  });

  function stop(signal: string, exitCode = 0): void {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping workers');
    for (const worker of liveWorkers()) worker.process.kill('SIGTERM');
    const force = setTimeout(() => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      process.exit(1);
    }, options.shutdownTimeoutMs + 1000);
    force.unref();
    const check = (): void => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
    };
    cluster.on('exit', check);
    check();
  }
  process.on('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.on('SIGINT', () => {
    stop('SIGINT');
  });
}

/** The worker side: answers the primary's questions and asks cluster-wide ones. */
export class WorkerLink implements StatsSource {
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();

  constructor(local: WorkerLocal, registry: Registry) {
    AggregatorRegistry.setRegistries([registry]);
    // prom-client installs its worker-side IPC listener only when an AggregatorRegistry is made.
    new AggregatorRegistry();
    process.on('message', (message: unknown) => {
      if (!isMessage(message)) return;
      if (message.t === 'ss:do') {
        const send = (reply: WorkerReply): void => {
          process.send?.({ t: 'ss:reply', id: message.id, reply } satisfies ReplyMessage);
        };
        if (message.op === 'stats') {
          send({ op: 'stats', ...local.stats() });
        } else {
          void (async () => {
            try {
              send({ op: 'reload', ...(await local.reload()) });
            } catch (error) {
              send({ op: 'reload', error: error instanceof Error ? error.message : String(error) });
            }
          })();
        }
      } else if (message.t === 'ss:answer') {
        const entry = this.waiting.get(message.id);
        if (!entry) return;
        this.waiting.delete(message.id);
        if (message.error === undefined) entry.resolve(message.result);
        else if (message.errorKind === 'environment')
          entry.reject(new EnvironmentError(message.error));
        else entry.reject(new AppError('unavailable', 503, `cluster: ${message.error}`));
      }
    });
  }

  /** Asks the primary a cluster-wide question. */
  private ask(op: Op): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.waiting.set(id, { resolve, reject });
      process.send?.({ t: 'ss:ask', id, op } satisfies AskMessage);
    });
  }

  /** Exact totals over all workers. */
  async totals(): Promise<StatsTotals> {
    return (await this.ask('stats')) as StatsTotals;
  }

  /** Reloads every worker. */
  async reloadAll(): Promise<ReloadOutcome> {
    return (await this.ask('reload')) as ReloadOutcome;
  }

  /** Prometheus text merged over all workers. */
  async metricsText(): Promise<string> {
    return (await this.ask('metrics')) as string;
  }
}
