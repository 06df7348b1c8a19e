/**
 * What the API does with jobs: enqueue (validated against the registry), look one up, and the
 * scheduler view of queues, workers and recent failures.
 */
import type { Static } from 'typebox';
import { AppError } from '#src/http/errors.js';
import type { JobRegistry, EnqueueRequest } from '#src/jobs/registry.js';
import type { QueueBackend } from '#src/jobs/queue.js';
import type { WorkerRepository } from '#src/jobs/workers.repository.js';
import type { JobAnswer, SchedulerAnswer } from '#src/jobs/jobs.schema.js';

/** How many missed heartbeats make a worker "gone". */
export const MISSED_HEARTBEATS = 3;
/** Workers silent for longer than this drop out of the view. */
const WORKER_HISTORY_MS = 10 * 60_000;
const RECENT_FAILURES = 20;

/** Jobs as the API sees them. */
export class JobService {
  constructor(
    private readonly deps: {
      readonly backend: QueueBackend;
      readonly registry: JobRegistry;
      readonly workers: WorkerRepository;
      readonly heartbeatMs: number;
      readonly clock: () => number;
    },
  ) {}

  /** Validates every request, then adds them all (nothing is added when one is bad). */
  async enqueue(requests: readonly EnqueueRequest[]): Promise<string[]> {
    const jobs = this.deps.registry.prepare(requests);
    await this.deps.backend.add(jobs);
    return jobs.map((job) => job.id);
  }

  /** One job by id; 404 not_found when no queue has it. */
  async get(id: string): Promise<Static<typeof JobAnswer>> {
    const job = await this.deps.backend.get(id, this.deps.registry.names());
    if (job === undefined)
      throw new AppError('not_found', 404, `no job with id ${JSON.stringify(id)}`);
    return {
      id: job.id,
      type: job.queue,
      status: job.status,
      payload: job.payload,
      priority: job.priority,
      attempts: job.attempts,
      max_attempts: job.maxAttempts,
      error: job.error,
      result: job.result ?? null,
      created_at: iso(job.createdAt),
      started_at: job.startedAt === null ? null : iso(job.startedAt),
      finished_at: job.finishedAt === null ? null : iso(job.finishedAt),
    };
  }

  /** Queues, workers and recent failures, for /api/v1/scheduler and the metrics. */
  async scheduler(): Promise<Static<typeof SchedulerAnswer>> {
    const { backend, registry, workers, heartbeatMs, clock } = this.deps;
    const names = registry.names();
    const now = clock();
    const [counts, rows, failures] = await Promise.all([
      backend.counts(names),
      workers.list(now - WORKER_HISTORY_MS),
      backend.failures(names, RECENT_FAILURES),
    ]);
    const goneAfter = heartbeatMs * MISSED_HEARTBEATS;
    const view = rows.map((w) => {
      const age = Math.max(0, now - w.heartbeatAt);
      const status: 'alive' | 'gone' | 'stopped' =
        w.stoppedAt !== null ? 'stopped' : age > goneAfter ? 'gone' : 'alive';
      return { row: w, status, age };
    });
    const rates = new Map<string, number>();
    for (const { row, status } of view) {
      if (status !== 'alive') continue;
      for (const [queue, rate] of Object.entries(row.queueRates)) {
        rates.set(queue, (rates.get(queue) ?? 0) + rate);
      }
    }
    return {
      backend: backend.kind,
      generated_at: iso(now),
      queues: counts.map((c) => ({
        name: c.queue,
        description: registry.get(c.queue)?.description ?? '',
        waiting: c.waiting,
        delayed: c.delayed,
        active: c.active,
        completed: c.completed,
        failed: c.failed,
        rate: round(rates.get(c.queue) ?? 0),
      })),
      workers: view.map(({ row, status, age }) => ({
        id: row.id,
        host: row.host,
        pid: row.pid,
        queues: row.queues,
        status,
        current_jobs: status === 'alive' ? row.currentJobs : [],
        heartbeat_age_ms: age,
        jobs_per_second: status === 'alive' ? round(row.rate) : 0,
        processed: row.processed,
        failed: row.failed,
        started_at: iso(row.startedAt),
      })),
      recent_failures: failures.map((f) => ({
        id: f.id,
        type: f.queue,
        error: f.error,
        attempts: f.attempts,
        failed_at: iso(f.failedAt),
      })),
    };
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
