/**
 * Request statistics for /api/v1/stats. A request is counted synchronously just before its
 * response is written (Fastify's onSend), so any client that has seen a response can rely on it
 * being in the next /stats answer: counts are exact under any concurrency. The /stats call that
 * asks is not in its own answer (it is counted in the following ones).
 */

/** Totals since start-up. */
export interface StatsTotals {
  readonly count: number;
  /** Sum of processing times, in seconds. */
  readonly seconds: number;
}

/** Where /stats gets cluster-wide or process-wide totals from. */
export interface StatsSource {
  totals(): Promise<StatsTotals>;
}

/**
 * Counts a finished request. A promise means "write the response only after it settles"
 * (shared statistics in Redis); undefined means it was counted already.
 */
export type RecordStats = (ms: number) => Promise<void> | undefined;

/** Per-process counters. */
export class RequestStats implements StatsSource {
  private count = 0;
  private seconds = 0;

  /** Records one finished request that took `ms` milliseconds. */
  record(ms: number): void {
    this.count++;
    this.seconds += ms / 1000;
  }

  /** The totals of this process. */
  local(): StatsTotals {
    return { count: this.count, seconds: this.seconds };
  }

  /** Same as local(); the async shape matches cluster-wide sources. */
  totals(): Promise<StatsTotals> {
    return Promise.resolve(this.local());
  }
}
