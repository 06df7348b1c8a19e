/**
 * The embedded queue: jobs are rows of the `jobs` table, so they survive restarts and need no
 * other server. Workers claim jobs in batches with a lease; a worker that dies stops renewing
 * its leases, and any other worker's sweep puts those jobs back (or fails them when they have
 * used up their attempts). Completions are written in one transaction per event-loop turn,
 * which is what makes thousands of small jobs per second possible on SQLite.
 *
 * On PostgreSQL claims use FOR UPDATE SKIP LOCKED, so concurrent workers never take the same
 * row; SQLite has a single writer, so its claim statement is atomic by itself.
 */
import { EventEmitter } from 'node:events';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Db } from '#src/storage/database.js';
import { fromJson, jsonType, toJson } from '#src/storage/dialect.js';
import type { Database, JobState } from '#src/storage/schema.js';
import {
  backoffDelay,
  failureMessage,
  type ConsumeOptions,
  type Consumer,
  type FailureRecord,
  type JobRecord,
  type NewJob,
  type Processor,
  type QueueBackend,
  type QueueConsumption,
  type QueueCounts,
  type RunningJob,
} from '#src/jobs/queue.js';

/** Tunables, for tests and benchmarks. */
export interface EmbeddedQueueOptions {
  /** How often an idle consumer looks for new jobs added by other processes (default 50 ms). */
  readonly pollMs?: number;
  /** Most jobs claimed per queue per round (default 100). */
  readonly claimBatch?: number;
  readonly clock?: () => number;
}

const ROWS_PER_INSERT = 400;

/** A queue in the database. */
export class EmbeddedQueue implements QueueBackend {
  readonly kind = 'embedded';
  private readonly added = new EventEmitter();
  private seq = 0;
  readonly pollMs: number;
  readonly claimBatch: number;
  readonly clock: () => number;

  constructor(
    readonly db: Db,
    options: EmbeddedQueueOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 50;
    this.claimBatch = options.claimBatch ?? 100;
    this.clock = options.clock ?? Date.now;
    this.added.setMaxListeners(0);
  }

  /** Enqueue order: microseconds plus a counter, so jobs added in one millisecond keep order. */
  private nextSeq(now: number): number {
    this.seq = (this.seq + 1) % 1000;
    return now * 1000 + this.seq;
  }

  async add(jobs: readonly NewJob[]): Promise<void> {
    if (jobs.length === 0) return;
    const now = this.clock();
    const rows = jobs.map((job) => ({
      id: job.id,
      queue: job.queue,
      payload: toJson(job.payload),
      priority: job.priority,
      seq: this.nextSeq(now),
      state: 'waiting' as const,
      attempts: 0,
      max_attempts: job.maxAttempts,
      run_at: now + job.delayMs,
      created_at: now,
    }));
    const insert = async (executor: Kysely<Database>): Promise<void> => {
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        await executor
          .insertInto('jobs')
          .values(rows.slice(i, i + ROWS_PER_INSERT))
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
      }
    };
    // One statement is atomic by itself; only a multi-statement add needs the transaction.
    if (rows.length <= ROWS_PER_INSERT) await insert(this.db.kysely);
    else await this.db.kysely.transaction().execute(insert);
    // Consumers in this process start at once; others find the jobs on their next poll.
    this.added.emit('added');
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const row = await this.db.kysely
      .selectFrom('jobs')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const now = this.clock();
    return {
      id: row.id,
      queue: row.queue,
      status: row.state === 'waiting' && row.run_at > now ? 'delayed' : row.state,
      payload: fromJson(row.payload),
      priority: row.priority,
      attempts: row.attempts,
      maxAttempts: row.max_attempts,
      error: row.error,
      result: row.result === null ? null : fromJson(row.result),
      createdAt: row.created_at,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
    };
  }

  async counts(queues: readonly string[]): Promise<QueueCounts[]> {
    if (queues.length === 0) return [];
    const now = this.clock();
    const rows = await this.db.kysely
      .selectFrom('jobs')
      .select((eb) => [
        'queue',
        'state',
        eb.case().when('run_at', '>', now).then(1).else(0).end().as('later'),
        eb.fn.countAll<number>().as('n'),
      ])
      .where('queue', 'in', queues)
      .groupBy(['queue', 'state', 'later'])
      .execute();
    const byQueue = new Map<string, { -readonly [K in keyof QueueCounts]: QueueCounts[K] }>();
    for (const queue of queues) {
      byQueue.set(queue, { queue, waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 });
    }
    for (const row of rows) {
      const counts = byQueue.get(row.queue);
      if (counts === undefined) continue;
      const n = row.n;
      if (row.state === 'waiting') {
        if (row.later === 1) counts.delayed += n;
        else counts.waiting += n;
      } else counts[row.state] += n;
    }
    return [...byQueue.values()];
  }

  async failures(queues: readonly string[], limit: number): Promise<FailureRecord[]> {
    if (queues.length === 0) return [];
    const rows = await this.db.kysely
      .selectFrom('jobs')
      .select(['id', 'queue', 'error', 'attempts', 'finished_at'])
      .where('state', '=', 'failed')
      .where('queue', 'in', queues)
      .orderBy('finished_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      queue: r.queue,
      error: r.error ?? '',
      attempts: r.attempts,
      failedAt: r.finished_at ?? 0,
    }));
  }

  consume(options: ConsumeOptions, processor: Processor): Consumer {
    const consumer = new EmbeddedConsumer(this, options, processor);
    const wake = (): void => {
      consumer.wake();
    };
    this.added.on('added', wake);
    consumer.onStop(() => this.added.off('added', wake));
    consumer.start();
    return consumer;
  }

  ping(): Promise<void> {
    return this.db.ping();
  }

  close(): Promise<void> {
    // The database belongs to whoever opened it.
    return Promise.resolve();
  }

  /**
   * Puts back jobs whose lease expired (their worker died or hung): waiting again if they have
   * attempts left, failed otherwise. Returns how many were recovered.
   */
  async recoverExpired(now = this.clock()): Promise<number> {
    const failed = await this.db.kysely
      .updateTable('jobs')
      .set({
        state: 'failed',
        finished_at: now,
        error: 'worker lost: its lease expired and the job has no attempts left',
        worker_id: null,
        lease_until: null,
      })
      .where('state', '=', 'active')
      .where('lease_until', '<', now)
      .where((eb) => eb('attempts', '>=', eb.ref('max_attempts')))
      .executeTakeFirst();
    const retried = await this.db.kysely
      .updateTable('jobs')
      .set({
        state: 'waiting',
        run_at: now,
        error: 'worker lost: its lease expired; retried',
        worker_id: null,
        lease_until: null,
      })
      .where('state', '=', 'active')
      .where('lease_until', '<', now)
      .executeTakeFirst();
    return Number(failed.numUpdatedRows) + Number(retried.numUpdatedRows);
  }

  /** Claims up to `limit` ready jobs of a queue for a worker, honouring the rate limit. */
  async claim(
    consumption: QueueConsumption,
    workerId: string,
    limit: number,
    leaseMs: number,
  ): Promise<RunningJob[]> {
    const now = this.clock();
    const rate = consumption.rateLimit;
    const run = async (trx: Kysely<Database>): Promise<RunningJob[]> => {
      let allowed = limit;
      if (rate !== undefined) {
        if (this.db.dialect === 'postgres') {
          // Serialises rate-limited claims of this queue across workers.
          await sql`select pg_advisory_xact_lock(hashtext(${consumption.queue}))`.execute(trx);
        }
        const started = await trx
          .selectFrom('jobs')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('queue', '=', consumption.queue)
          .where('started_at', '>', now - rate.durationMs)
          .executeTakeFirstOrThrow();
        allowed = Math.min(allowed, rate.max - started.n);
      }
      if (allowed <= 0) return [];
      const ready = trx
        .selectFrom('jobs')
        .select('id')
        .where('queue', '=', consumption.queue)
        .where('state', '=', 'waiting')
        .where('run_at', '<=', now)
        .orderBy('priority')
        .orderBy('seq')
        .limit(allowed)
        .$if(this.db.dialect === 'postgres', (q) => q.forUpdate().skipLocked());
      const rows = await trx
        .updateTable('jobs')
        .set((eb) => ({
          state: 'active',
          attempts: eb('attempts', '+', 1),
          worker_id: workerId,
          lease_until: now + leaseMs,
          started_at: now,
        }))
        .where('id', 'in', ready)
        .returning(['id', 'payload', 'attempts', 'priority', 'seq'])
        .execute();
      rows.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
      return rows.map((r) => ({
        id: r.id,
        queue: consumption.queue,
        payload: fromJson(r.payload),
        attempt: r.attempts,
      }));
    };
    // Without a rate limit the claim is one UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP
    // LOCKED), atomic by itself on both engines: a transaction around it would only add a BEGIN
    // and a COMMIT round trip per claim. The rate limit's count and claim must share one.
    return rate === undefined ? run(this.db.kysely) : this.db.kysely.transaction().execute(run);
  }

  /** Whether any of the queues has a job ready to run (a cheap indexed probe for idle polls). */
  async hasReady(queues: readonly string[]): Promise<boolean> {
    const row = await this.db.kysely
      .selectFrom('jobs')
      .select('id')
      .where('queue', 'in', queues)
      .where('state', '=', 'waiting')
      .where('run_at', '<=', this.clock())
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }
}

/**
 * "The row is still this worker's job": writes of outcomes touch nothing else (a job whose lease
 * expired may be running elsewhere now). Written as one opaque boolean on purpose, so the
 * planner finds the rows by primary key. As two plain conditions, PostgreSQL chose the worker_id
 * and state indexes instead while the table's statistics were stale (a new or fast-growing jobs
 * table): their ranges are full of dead row versions until vacuum, and a completion of 2 to 64
 * jobs read 35,000-55,000 index entries (1.0-1.5 ms instead of about 0.1 ms).
 */
function heldBy(workerId: string): RawBuilder<boolean> {
  return sql<boolean>`(${sql.ref('worker_id')} = ${workerId} and ${sql.ref('state')} = 'active') is true`;
}

interface Outcome {
  readonly id: string;
  readonly queue: string;
  readonly attempt: number;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

/** One process's consumer of some queues of the embedded backend. */
class EmbeddedConsumer implements Consumer {
  private readonly active = new Map<string, string>();
  private readonly activeByQueue = new Map<string, number>();
  private outcomes: Outcome[] = [];
  private stopping = false;
  private stopped = false;
  private looping = false;
  /** The last claim round found jobs. */
  private busy = false;
  private again = false;
  private flushing: Promise<void> | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly stopHooks: (() => void)[] = [];

  constructor(
    private readonly queue: EmbeddedQueue,
    private readonly options: ConsumeOptions,
    private readonly processor: Processor,
  ) {}

  onStop(hook: () => void): void {
    this.stopHooks.push(hook);
  }

  start(): void {
    const { leaseMs } = this.options;
    // Renew leases well before they run out; sweep expired ones of dead workers.
    this.timers.push(
      setInterval(
        () => {
          this.renewLeases().catch(() => undefined);
        },
        Math.max(100, Math.floor(leaseMs / 3)),
      ),
      setInterval(
        () => {
          void this.sweep();
        },
        Math.max(100, Math.floor(leaseMs / 2)),
      ),
    );
    for (const timer of this.timers) timer.unref();
    this.wake();
  }

  activeJobs(): string[] {
    return [...this.active.keys()];
  }

  /** Puts back the jobs of dead workers, and looks for work at once if there were any. */
  private async sweep(): Promise<void> {
    const recovered = await this.queue.recoverExpired().catch(() => 0);
    if (recovered > 0) this.wake();
  }

  /** Looks for jobs now (coalesced: one claim loop at a time). */
  wake(): void {
    if (this.stopping) return;
    if (this.looping) {
      this.again = true;
      return;
    }
    if (this.pollTimer !== undefined) {
      clearTimeout(this.pollTimer);
      this.pollTimer = undefined;
    }
    this.looping = true;
    void this.loop();
  }

  /** One claim round, then the next one right away (work found) or after the poll interval. */
  private async loop(): Promise<void> {
    const claimed = await this.claimRound().catch(() => 0);
    this.looping = false;
    if (this.stopping) return;
    if (claimed > 0 || this.again) {
      this.again = false;
      setImmediate(() => {
        this.wake();
      });
    } else {
      this.pollTimer = setTimeout(() => {
        this.pollTimer = undefined;
        this.wake();
      }, this.queue.pollMs);
      this.pollTimer.unref();
    }
  }

  private async claimRound(): Promise<number> {
    const free = this.options.queues.filter(
      (q) => (this.activeByQueue.get(q.queue) ?? 0) < q.concurrency,
    );
    if (free.length === 0) return 0;
    // While the last round found jobs, more are likely: claim straight away. The one-query probe
    // is for idle polls, where it is cheaper than one claim per queue.
    if (!this.busy && !(await this.queue.hasReady(free.map((q) => q.queue)))) return 0;
    let claimed = 0;
    for (const consumption of free) {
      if (this.stopping) break;
      const slots = consumption.concurrency - (this.activeByQueue.get(consumption.queue) ?? 0);
      if (slots <= 0) continue;
      const jobs = await this.queue.claim(
        consumption,
        this.options.workerId,
        Math.min(slots, this.queue.claimBatch),
        this.options.leaseMs,
      );
      claimed += jobs.length;
      for (const job of jobs) this.run(job);
    }
    this.busy = claimed > 0;
    return claimed;
  }

  private run(job: RunningJob): void {
    this.active.set(job.id, job.queue);
    this.activeByQueue.set(job.queue, (this.activeByQueue.get(job.queue) ?? 0) + 1);
    const settle = (outcome: Outcome): void => {
      this.active.delete(job.id);
      this.activeByQueue.set(job.queue, (this.activeByQueue.get(job.queue) ?? 1) - 1);
      this.outcomes.push(outcome);
      this.scheduleFlush();
    };
    // The processor is called synchronously here, and a synchronous throw counts as a failure.
    void (async () => {
      const { id, queue, attempt } = job;
      try {
        const result = await this.processor(job);
        settle({ id, queue, attempt, ok: true, result });
      } catch (error) {
        settle({ id, queue, attempt, ok: false, error: failureMessage(error) });
      }
    })();
  }

  private scheduleFlush(): void {
    if (this.flushing !== undefined) return;
    this.flushing = new Promise<void>((resolve) => {
      setImmediate(() => {
        void this.flushAndContinue(resolve);
      });
    });
  }

  /** Flushes, then flushes again if more finished meanwhile, and looks for new work. */
  private async flushAndContinue(done: () => void): Promise<void> {
    await this.flush().catch(() => undefined);
    this.flushing = undefined;
    done();
    if (this.outcomes.length > 0) this.scheduleFlush();
    this.wake();
  }

  /**
   * Writes finished jobs: completions in one UPDATE per ROWS_PER_INSERT jobs (their results in
   * a CASE), failures one by one (they are rare). Several statements share one transaction, so
   * one commit covers the batch; a single statement is atomic without one. Only rows this
   * worker still holds are touched.
   */
  private async flush(): Promise<void> {
    const batch = this.outcomes;
    if (batch.length === 0) return;
    this.outcomes = [];
    const now = this.queue.clock();
    const workerId = this.options.workerId;
    const statements: ((executor: Kysely<Database>) => Promise<unknown>)[] = [];
    const done = batch.filter((o) => o.ok);
    for (let i = 0; i < done.length; i += ROWS_PER_INSERT) {
      const chunk = done.slice(i, i + ROWS_PER_INSERT);
      const results = chunk.filter((o) => o.result !== undefined);
      statements.push((executor) =>
        executor
          .updateTable('jobs')
          .set({
            state: 'completed',
            finished_at: now,
            lease_until: null,
            error: null,
            ...(results.length === 0 ? {} : { result: this.resultsCase(results) }),
          })
          .where(
            'id',
            'in',
            chunk.map((o) => o.id),
          )
          .where(heldBy(workerId))
          .execute(),
      );
    }
    for (const o of batch) {
      if (o.ok) continue;
      const consumption = this.options.queues.find((q) => q.queue === o.queue);
      const delay = consumption === undefined ? 1000 : backoffDelay(consumption.backoff, o.attempt);
      // Retry while attempts remain; the attempt count was raised when the job was claimed.
      statements.push((executor) =>
        executor
          .updateTable('jobs')
          .set((eb) => ({
            state: eb
              .case()
              .when('attempts', '>=', eb.ref('max_attempts'))
              .then(eb.val<JobState>('failed'))
              .else(eb.val<JobState>('waiting'))
              .end(),
            finished_at: eb
              .case()
              .when('attempts', '>=', eb.ref('max_attempts'))
              .then(now)
              .else(null)
              .end(),
            run_at: now + delay,
            lease_until: null,
            worker_id: null,
            error: o.error ?? 'failed',
          }))
          .where('id', '=', o.id)
          .where(heldBy(workerId))
          .execute(),
      );
    }
    const db = this.queue.db.kysely;
    try {
      if (statements.length === 1) await statements[0]!(db);
      else {
        await db.transaction().execute(async (trx) => {
          for (const statement of statements) await statement(trx);
        });
      }
    } catch (error) {
      // The database is unreachable: keep the outcomes and try again shortly. If this process
      // dies first, the leases expire and the jobs run again (handlers are idempotent).
      this.outcomes = batch.concat(this.outcomes);
      await new Promise((resolve) => setTimeout(resolve, 200));
      throw error;
    }
  }

  /** The new `result` of each job in `outcomes`, by id, as one SQL expression. */
  private resultsCase(outcomes: readonly Outcome[]): RawBuilder<string> {
    // A parameter in a CASE has no column type to take on: PostgreSQL needs the cast.
    const dialect = this.queue.db.dialect;
    const json = (text: string): RawBuilder<string> =>
      dialect === 'postgres'
        ? sql<string>`cast(${text} as ${sql.raw(jsonType(dialect))})`
        : sql<string>`${text}`;
    const whens = outcomes.map((o) => sql`when ${o.id} then ${json(toJson(o.result))}`);
    return sql<string>`case ${sql.ref('id')} ${sql.join(whens, sql` `)} else ${sql.ref('result')} end`;
  }

  private async renewLeases(): Promise<void> {
    if (this.active.size === 0) return;
    await this.queue.db.kysely
      .updateTable('jobs')
      .set({ lease_until: this.queue.clock() + this.options.leaseMs })
      .where('worker_id', '=', this.options.workerId)
      .where('state', '=', 'active')
      .execute();
  }

  async stop(timeoutMs: number): Promise<number> {
    if (this.stopped) return 0;
    this.stopping = true;
    if (this.pollTimer !== undefined) clearTimeout(this.pollTimer);
    const deadline = Date.now() + timeoutMs;
    while (this.active.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Write what finished, retrying until the deadline (at least once). Not "until written":
    // while the database is away every attempt fails, and the stop would never end; the
    // leases of unwritten jobs run out instead, and the jobs run again.
    while (this.outcomes.length > 0 || this.flushing !== undefined) {
      if (this.flushing === undefined) this.scheduleFlush();
      await this.flushing;
      if (Date.now() > deadline) break;
    }
    for (const timer of this.timers) clearInterval(timer);
    for (const hook of this.stopHooks) hook();
    this.stopped = true;
    // Whatever still runs goes back to the queue for another worker; its late result is
    // ignored because the row is no longer this worker's.
    const handed = await this.queue.db.kysely
      .updateTable('jobs')
      .set((eb) => ({
        state: 'waiting',
        attempts: eb('attempts', '-', 1),
        worker_id: null,
        lease_until: null,
        started_at: null,
      }))
      .where('worker_id', '=', this.options.workerId)
      .where('state', '=', 'active')
      .executeTakeFirst();
    return Number(handed.numUpdatedRows);
  }
}
