/**
 * The worker registry behind the scheduler view: each worker process keeps a row fresh with
 * its heartbeat, what it runs and how fast. Rows live in the database for both queue backends,
 * so one query shows every worker on every machine.
 */
import type { Db } from '#src/storage/database.js';
import { fromJson, toJson } from '#src/storage/dialect.js';

/** What a worker reports on each heartbeat. */
export interface WorkerReport {
  readonly currentJobs: readonly string[];
  readonly processed: number;
  readonly failed: number;
  readonly rate: number;
  readonly queueRates: Readonly<Record<string, number>>;
}

/** A worker as stored. */
export interface WorkerRow {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly queues: string[];
  readonly currentJobs: string[];
  readonly processed: number;
  readonly failed: number;
  readonly rate: number;
  readonly queueRates: Record<string, number>;
  readonly startedAt: number;
  readonly heartbeatAt: number;
  readonly stoppedAt: number | null;
}

/** SQL for the workers table. */
export class WorkerRepository {
  constructor(private readonly db: Db) {}

  async register(
    worker: { id: string; host: string; pid: number; queues: readonly string[] },
    now: number,
  ): Promise<void> {
    await this.db.kysely
      .insertInto('workers')
      .values({
        id: worker.id,
        host: worker.host,
        pid: worker.pid,
        queues: toJson(worker.queues),
        current_jobs: toJson([]),
        queue_rates: toJson({}),
        processed: 0,
        failed: 0,
        rate: 0,
        started_at: now,
        heartbeat_at: now,
        stopped_at: null,
      })
      .execute();
  }

  async heartbeat(id: string, report: WorkerReport, now: number): Promise<void> {
    await this.db.kysely
      .updateTable('workers')
      .set({
        current_jobs: toJson(report.currentJobs),
        processed: report.processed,
        failed: report.failed,
        rate: report.rate,
        queue_rates: toJson(report.queueRates),
        heartbeat_at: now,
      })
      .where('id', '=', id)
      .execute();
  }

  async markStopped(id: string, now: number): Promise<void> {
    await this.db.kysely
      .updateTable('workers')
      .set({ stopped_at: now, current_jobs: toJson([]), rate: 0, queue_rates: toJson({}) })
      .where('id', '=', id)
      .execute();
  }

  /** Workers seen since `since` (older rows are history), newest first. */
  async list(since: number): Promise<WorkerRow[]> {
    const rows = await this.db.kysely
      .selectFrom('workers')
      .selectAll()
      .where('heartbeat_at', '>=', since)
      .orderBy('started_at', 'desc')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      host: r.host,
      pid: r.pid,
      queues: fromJson<string[]>(r.queues),
      currentJobs: fromJson<string[]>(r.current_jobs),
      processed: r.processed,
      failed: r.failed,
      rate: r.rate,
      queueRates: fromJson<Record<string, number>>(r.queue_rates),
      startedAt: r.started_at,
      heartbeatAt: r.heartbeat_at,
      stoppedAt: r.stopped_at,
    }));
  }

  /** Forgets workers not heard of since `before`. */
  async prune(before: number): Promise<void> {
    await this.db.kysely.deleteFrom('workers').where('heartbeat_at', '<', before).execute();
  }
}
