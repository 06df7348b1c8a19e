/**
 * Request statistics shared by every API replica through Redis, so /api/v1/stats is exact for
 * the whole deployment. A response is written only after its request is counted in Redis (the
 * onSend hook waits), which keeps the promise of stats.ts across replicas: whoever has seen a
 * response finds it in the next /stats answer of any replica. Requests finishing in the same
 * event-loop turn share one HINCRBY round trip, so the cost is one pipelined write per turn,
 * not per request. Times are summed as integer microseconds: HINCRBYFLOAT would drift.
 *
 * If Redis is away, counts are kept in this process and written when it returns; responses
 * are not held back, and /stats answers 503 until the totals are exact again.
 */
import type { Redis } from 'ioredis';
import type { StatsSource, StatsTotals } from '#src/http/stats.js';
import { AppError } from '#src/http/errors.js';

const RETRY_MS = 200;

/** Cluster-wide counters in one Redis hash. */
export class SharedStats implements StatsSource {
  private pendingCount = 0;
  private pendingMicros = 0;
  private flushing: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = `${prefix}:stats`;
  }

  /** Counts one request; resolves once it is in Redis (or kept for later if Redis is away). */
  record(ms: number): Promise<void> {
    this.pendingCount++;
    this.pendingMicros += Math.round(ms * 1000);
    this.flushing ??= new Promise<void>((resolve) => {
      // Let every request finishing in this turn join the same write.
      setImmediate(() => {
        void this.flush().finally(() => {
          this.flushing = undefined;
          resolve();
        });
      });
    });
    return this.flushing;
  }

  /** Writes what is pending; on failure keeps it and retries in the background. */
  private async flush(): Promise<void> {
    const count = this.pendingCount;
    const micros = this.pendingMicros;
    if (count === 0) return;
    this.pendingCount = 0;
    this.pendingMicros = 0;
    try {
      const results = await this.redis
        .multi()
        .hincrby(this.key, 'count', count)
        .hincrby(this.key, 'micros', micros)
        .exec();
      const failed = results?.find(([error]) => error !== null);
      if (results === null || failed !== undefined) throw failed?.[0] ?? new Error('aborted');
    } catch {
      this.pendingCount += count;
      this.pendingMicros += micros;
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = undefined;
        if (this.pendingCount > 0 && this.flushing === undefined) void this.record(0);
      }, RETRY_MS);
      this.retryTimer.unref();
    }
  }

  /** Counts kept in this process because Redis was away. */
  get pending(): number {
    return this.pendingCount;
  }

  /** Totals over every replica; 503 unavailable while Redis cannot give exact ones. */
  async totals(): Promise<StatsTotals> {
    if (this.flushing !== undefined) await this.flushing;
    if (this.pendingCount > 0) {
      await this.flush();
    }
    if (this.pendingCount > 0) {
      throw new AppError(
        'unavailable',
        503,
        'request statistics are unavailable: Redis cannot be reached',
      );
    }
    let values: (string | null)[];
    try {
      values = await this.redis.hmget(this.key, 'count', 'micros');
    } catch (error) {
      throw new AppError(
        'unavailable',
        503,
        `request statistics are unavailable: Redis: ${(error as Error).message}`,
      );
    }
    return { count: Number(values[0] ?? 0), seconds: Number(values[1] ?? 0) / 1e6 };
  }

  /** Stops retrying (the process is exiting). */
  close(): void {
    clearTimeout(this.retryTimer);
  }
}
