/**
 * The worker runner: consumes queues through a backend, runs each job's handler with its
 * timeout, and reports to the worker registry. One runner per worker process (or inside
 * `serve` when it runs every role); CPU-heavy steps go to the thread pool.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { AssetRepository } from '#src/assets/assets.repository.js';
import type { CpuPool } from '#src/jobs/pool.js';
import type { Consumer, QueueBackend, RunningJob } from '#src/jobs/queue.js';
import type { JobRegistry } from '#src/jobs/registry.js';
import type { WorkerRepository } from '#src/jobs/workers.repository.js';
import type { Db } from '#src/storage/database.js';
import type { ScanService } from '#src/discovery/scan.service.js';

/** What a runner needs. */
export interface RunnerDeps {
  readonly backend: QueueBackend;
  readonly registry: JobRegistry;
  readonly workers: WorkerRepository;
  readonly assets: AssetRepository;
  readonly db: Db;
  readonly scans: ScanService;
  readonly pool: CpuPool;
  readonly logger: Logger;
  /** Queues to consume; null = all. */
  readonly queues: readonly string[] | null;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly clock?: () => number;
}

/** A job ran past its definition's timeout. */
export class JobTimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${String(ms)} ms`);
    this.name = 'JobTimeoutError';
  }
}

const RATE_WINDOW_MS = 10_000;

/** Runs jobs for one process. */
export class JobRunner {
  /** host:pid:random, unique per process start. */
  readonly id = `${hostname()}:${String(process.pid)}:${randomBytes(3).toString('hex')}`;
  private consumer: Consumer | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private processed = 0;
  private failed = 0;
  /** Finish times by queue, pruned to the rate window. */
  private readonly finishes = new Map<string, number[]>();
  private readonly clock: () => number;
  readonly queues: string[];

  constructor(private readonly deps: RunnerDeps) {
    this.clock = deps.clock ?? Date.now;
    this.queues = deps.registry.consumption(deps.queues).map((q) => q.queue);
  }

  /** Registers the worker and starts taking jobs. */
  async start(): Promise<void> {
    const { deps } = this;
    await deps.workers.register(
      { id: this.id, host: hostname(), pid: process.pid, queues: this.queues },
      this.clock(),
    );
    this.consumer = deps.backend.consume(
      { workerId: this.id, queues: deps.registry.consumption(deps.queues), leaseMs: deps.leaseMs },
      (job) => this.runJob(job),
    );
    this.heartbeatTimer = setInterval(() => {
      this.heartbeat().catch((error: unknown) => {
        deps.logger.warn({ err: (error as Error).message }, 'worker heartbeat failed');
      });
    }, deps.heartbeatMs);
    // Not unref'd: a running worker keeps its process alive (`surfacescan worker` has nothing
    // else to); stop() clears it.
    deps.logger.info(
      { worker: this.id, queues: this.queues, backend: deps.backend.kind },
      'worker started',
    );
  }

  private async runJob(job: RunningJob): Promise<unknown> {
    const definition = this.deps.registry.get(job.queue);
    if (definition === undefined) throw new Error(`no handler for job type ${job.queue}`);
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const error = new JobTimeoutError(definition.timeoutMs);
        controller.abort(error);
        reject(error);
      }, definition.timeoutMs);
    });
    try {
      const result = await Promise.race([
        definition.run(job.payload as never, {
          jobId: job.id,
          attempt: job.attempt,
          signal: controller.signal,
          assets: this.deps.assets,
          cpu: this.deps.pool,
          now: this.clock,
          db: this.deps.db,
          scans: this.deps.scans,
          enqueue: async (requests) => {
            const jobs = this.deps.registry.prepare(requests);
            await this.deps.backend.add(jobs);
            return jobs.map((j) => j.id);
          },
        }),
        timeout,
      ]);
      this.count(job.queue, true);
      return result;
    } catch (error) {
      this.count(job.queue, false);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private count(queue: string, ok: boolean): void {
    if (ok) this.processed++;
    else this.failed++;
    let list = this.finishes.get(queue);
    if (list === undefined) this.finishes.set(queue, (list = []));
    list.push(this.clock());
  }

  private rates(): { total: number; byQueue: Record<string, number> } {
    const since = this.clock() - RATE_WINDOW_MS;
    const byQueue: Record<string, number> = {};
    let total = 0;
    for (const [queue, list] of this.finishes) {
      let first = 0;
      while (first < list.length && list[first]! < since) first++;
      list.splice(0, first);
      const rate = list.length / (RATE_WINDOW_MS / 1000);
      if (rate > 0) byQueue[queue] = rate;
      total += rate;
    }
    return { total, byQueue };
  }

  private async heartbeat(): Promise<void> {
    const rates = this.rates();
    await this.deps.workers.heartbeat(
      this.id,
      {
        currentJobs: this.consumer?.activeJobs() ?? [],
        processed: this.processed,
        failed: this.failed,
        rate: rates.total,
        queueRates: rates.byQueue,
      },
      this.clock(),
    );
  }

  /** Ids of the jobs running now. */
  activeJobs(): string[] {
    return this.consumer?.activeJobs() ?? [];
  }

  /**
   * Graceful stop: no new jobs; running ones get `timeoutMs` to finish, the rest are handed
   * back to the queue. Resolves with how many were handed back.
   */
  async stop(timeoutMs: number): Promise<number> {
    if (this.consumer === undefined) return 0;
    clearInterval(this.heartbeatTimer);
    const handedBack = await this.consumer.stop(timeoutMs);
    await this.deps.workers.markStopped(this.id, this.clock()).catch(() => undefined);
    this.deps.logger.info({ worker: this.id, handed_back: handedBack }, 'worker stopped');
    return handedBack;
  }
}
