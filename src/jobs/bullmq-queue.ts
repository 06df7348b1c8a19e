/**
 * The BullMQ backend: jobs live in Redis and any number of worker processes on any number of
 * machines consume them. BullMQ brings the hard parts (atomic moves in Lua, locks renewed
 * while a job runs, stalled-job recovery when a worker dies, a global rate limiter); this
 * file maps them onto the queue interface.
 */
import { Queue, Worker, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { connectRedis } from '#src/storage/redis.js';
import {
  type ConsumeOptions,
  type Consumer,
  type FailureRecord,
  type JobRecord,
  type JobStatus,
  type NewJob,
  type Processor,
  type QueueBackend,
  type QueueCounts,
} from '#src/jobs/queue.js';

/** How long finished jobs are kept (they back dedup by id and the scheduler's history). */
const KEEP_COMPLETED = { age: 24 * 3600, count: 200_000 };
const KEEP_FAILED = { age: 7 * 24 * 3600, count: 50_000 };

/** Jobs in BullMQ on one Redis. */
export class BullmqQueue implements QueueBackend {
  readonly kind = 'bullmq';
  private readonly queues = new Map<string, Queue>();
  private readonly workerConnections: Redis[] = [];

  /** Use `connect`, which checks that Redis answers. */
  private constructor(
    private readonly url: string,
    private readonly prefix: string,
    private readonly client: Redis,
    private readonly onError: (error: Error) => void,
  ) {}

  /** Connects the producer client; a RedisUnavailableError when Redis does not answer. */
  static async connect(
    url: string,
    prefix: string,
    onError: (error: Error) => void,
  ): Promise<BullmqQueue> {
    const client = await connectRedis(url, onError);
    return new BullmqQueue(url, `${prefix}:bull`, client, onError);
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (queue === undefined) {
      queue = new Queue(name, { connection: this.client, prefix: this.prefix });
      queue.on('error', this.onError);
      this.queues.set(name, queue);
    }
    return queue;
  }

  async add(jobs: readonly NewJob[]): Promise<void> {
    const byQueue = new Map<string, NewJob[]>();
    for (const job of jobs) {
      let list = byQueue.get(job.queue);
      if (list === undefined) byQueue.set(job.queue, (list = []));
      list.push(job);
    }
    await Promise.all(
      [...byQueue].map(([name, list]) =>
        this.queue(name).addBulk(
          list.map((job) => ({
            name: job.queue,
            data: job.payload,
            opts: {
              jobId: job.id,
              priority: job.priority,
              delay: job.delayMs,
              attempts: job.maxAttempts,
              backoff: { type: job.backoff.type, delay: job.backoff.delayMs },
              removeOnComplete: KEEP_COMPLETED,
              removeOnFail: KEEP_FAILED,
            } satisfies JobsOptions,
          })),
        ),
      ),
    );
  }

  async get(id: string, queues: readonly string[]): Promise<JobRecord | undefined> {
    for (const name of queues) {
      const job = await this.queue(name).getJob(id);
      if (job === undefined) continue;
      const state = await job.getState();
      return {
        id,
        queue: name,
        status: statusOf(state),
        payload: job.data,
        priority: job.opts.priority ?? 0,
        attempts: job.attemptsStarted,
        maxAttempts: job.opts.attempts ?? 1,
        // failedReason is absent (not '') on jobs that never failed, whatever its type says.
        error: job.failedReason || null,
        result: job.returnvalue ?? null,
        createdAt: job.timestamp,
        startedAt: job.processedOn ?? null,
        finishedAt: job.finishedOn ?? null,
      };
    }
    return undefined;
  }

  async counts(queues: readonly string[]): Promise<QueueCounts[]> {
    return Promise.all(
      queues.map(async (name) => {
        const c = await this.queue(name).getJobCounts(
          'wait',
          'prioritized',
          'paused',
          'active',
          'delayed',
          'completed',
          'failed',
        );
        return {
          queue: name,
          waiting: (c.wait ?? 0) + (c.prioritized ?? 0) + (c.paused ?? 0),
          delayed: c.delayed ?? 0,
          active: c.active ?? 0,
          completed: c.completed ?? 0,
          failed: c.failed ?? 0,
        };
      }),
    );
  }

  async failures(queues: readonly string[], limit: number): Promise<FailureRecord[]> {
    const lists = await Promise.all(
      queues.map(async (name) => {
        const jobs = await this.queue(name).getFailed(0, limit - 1);
        return jobs.map((job) => ({
          id: job.id ?? '',
          queue: name,
          error: job.failedReason,
          attempts: job.attemptsStarted,
          failedAt: job.finishedOn ?? 0,
        }));
      }),
    );
    return lists
      .flat()
      .sort((a, b) => b.failedAt - a.failedAt)
      .slice(0, limit);
  }

  consume(options: ConsumeOptions, processor: Processor): Consumer {
    /** Running jobs by id, with the lock token that lets us hand them back. */
    const active = new Map<string, { job: Job; token: string }>();
    const workers = options.queues.map((consumption) => {
      const worker = new Worker(
        consumption.queue,
        async (job: Job, token?: string) => {
          const id = job.id ?? '';
          active.set(id, { job, token: token ?? '' });
          try {
            return await processor({
              id,
              queue: consumption.queue,
              payload: job.data,
              attempt: job.attemptsStarted,
            });
          } finally {
            active.delete(id);
          }
        },
        {
          // Workers block on Redis, so each gets its own connection that retries forever.
          connection: this.workerConnection(),
          prefix: this.prefix,
          concurrency: consumption.concurrency,
          lockDuration: options.leaseMs,
          stalledInterval: Math.max(500, Math.floor(options.leaseMs / 2)),
          maxStalledCount: 1,
          ...(consumption.rateLimit === undefined
            ? {}
            : {
                limiter: {
                  max: consumption.rateLimit.max,
                  duration: consumption.rateLimit.durationMs,
                },
              }),
        },
      );
      worker.on('error', this.onError);
      return worker;
    });
    return {
      activeJobs: () => [...active.keys()],
      stop: async (timeoutMs) => {
        // Take no new jobs, but keep renewing the locks of running ones while they finish.
        // (A graceful close() cannot be turned into a forced one later: BullMQ returns the
        // pending graceful close to a second call, which would wait for a hung job forever.)
        await Promise.all(workers.map((w) => w.pause(true)));
        const deadline = Date.now() + timeoutMs;
        while (active.size > 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        const late = [...active.values()];
        // Still running: put them back in the queue now rather than when their locks lapse.
        // A job whose move fails (Redis away) is recovered by BullMQ's stalled-job check.
        await Promise.all(late.map(({ job, token }) => job.moveToWait(token).catch(() => 0)));
        // Without Redis no job can report back, and BullMQ's graceful close would wait for a
        // reconnect forever (it awaits an 'end' that a reconnecting client never emits).
        const force = late.length > 0 || this.client.status !== 'ready';
        await Promise.all(workers.map((w) => w.close(force)));
        return late.length;
      },
    };
  }

  private workerConnection(): Redis {
    const connection = this.client.duplicate({
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
    });
    connection.on('error', this.onError);
    this.workerConnections.push(connection);
    return connection;
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    for (const connection of this.workerConnections) connection.disconnect();
    this.client.disconnect();
  }

  /** The Redis URL (for messages). */
  get label(): string {
    return this.url;
  }
}

function statusOf(state: string): JobStatus {
  switch (state) {
    case 'active':
      return 'active';
    case 'completed':
      return 'completed';
    case 'failed':
      return 'failed';
    case 'delayed':
      return 'delayed';
    default:
      return 'waiting';
  }
}
