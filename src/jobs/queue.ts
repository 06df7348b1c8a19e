/**
 * The queue interface both backends implement: the embedded one (jobs in the database) and
 * BullMQ on Redis. It knows nothing about job types; the registry and the runner add those.
 * Every job type has a queue of its own, named after it.
 */

/** How long to wait before retry n (1-based): delayMs, or delayMs * 2^(n-1). */
export interface Backoff {
  readonly type: 'fixed' | 'exponential';
  readonly delayMs: number;
}

/** At most `max` job starts per `durationMs`, across every worker of the queue. */
export interface RateLimit {
  readonly max: number;
  readonly durationMs: number;
}

/** A job to add. */
export interface NewJob {
  /** Unique per job: adding an id that exists already adds nothing (dedup). */
  readonly id: string;
  readonly queue: string;
  readonly payload: unknown;
  /** 1 runs first. */
  readonly priority: number;
  readonly delayMs: number;
  readonly maxAttempts: number;
  readonly backoff: Backoff;
}

/** Where a job is in its life. */
export type JobStatus = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';

/** A job as the API shows it. */
export interface JobRecord {
  readonly id: string;
  readonly queue: string;
  readonly status: JobStatus;
  readonly payload: unknown;
  readonly priority: number;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly error: string | null;
  readonly result: unknown;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
}

/** Jobs of one queue by status. */
export interface QueueCounts {
  readonly queue: string;
  readonly waiting: number;
  readonly delayed: number;
  readonly active: number;
  readonly completed: number;
  readonly failed: number;
}

/** A job that failed for good. */
export interface FailureRecord {
  readonly id: string;
  readonly queue: string;
  readonly error: string;
  readonly attempts: number;
  readonly failedAt: number;
}

/** A job handed to a processor. */
export interface RunningJob {
  readonly id: string;
  readonly queue: string;
  readonly payload: unknown;
  /** 1 on the first run. */
  readonly attempt: number;
}

/** Runs one job; resolves with its result or rejects with why it failed. */
export type Processor = (job: RunningJob) => Promise<unknown>;

/** How a worker consumes one queue. */
export interface QueueConsumption {
  readonly queue: string;
  /** Jobs of this queue run at once by this worker process. */
  readonly concurrency: number;
  readonly backoff: Backoff;
  readonly rateLimit?: RateLimit | undefined;
}

/** A consumer's settings. */
export interface ConsumeOptions {
  readonly workerId: string;
  readonly queues: readonly QueueConsumption[];
  /** A job whose worker has not renewed its lease for this long is retried elsewhere. */
  readonly leaseMs: number;
}

/** A started consumer. */
export interface Consumer {
  /** Ids of the jobs running now. */
  activeJobs(): string[];
  /**
   * Stops taking jobs, lets running ones finish for up to `timeoutMs`, then hands the rest
   * back to the queue so another worker runs them. Resolves with how many were handed back.
   */
  stop(timeoutMs: number): Promise<number>;
}

/** A queue backend. */
export interface QueueBackend {
  readonly kind: 'embedded' | 'bullmq';
  /** Adds jobs; ids that exist already are skipped. */
  add(jobs: readonly NewJob[]): Promise<void>;
  /** One job, by id (searching the given queues). */
  get(id: string, queues: readonly string[]): Promise<JobRecord | undefined>;
  counts(queues: readonly string[]): Promise<QueueCounts[]>;
  /** Most recent terminal failures, newest first. */
  failures(queues: readonly string[], limit: number): Promise<FailureRecord[]>;
  consume(options: ConsumeOptions, processor: Processor): Consumer;
  /** Rejects when the backing store is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The delay before retry number `attempt` + 1, after `attempt` failed runs. */
export function backoffDelay(backoff: Backoff, attempt: number): number {
  return backoff.type === 'fixed'
    ? backoff.delayMs
    : backoff.delayMs * 2 ** Math.max(0, Math.min(attempt - 1, 20));
}

/** A short, single-line description of why a job failed. */
export function failureMessage(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > 2000 ? `${text.slice(0, 2000)}...` : text;
}
