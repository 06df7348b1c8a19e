/**
 * discovery.scan-shard: runs one shard of a scan. A scan keeps at most `parallelism` shards
 * queued or running: each finished shard queues the next pending one, so the scan's rate
 * (split evenly between its running shards) holds however many workers there are, while the
 * shards still spread over them. A worker that dies mid-shard loses its lease; the job runs
 * again elsewhere and redoes the shard (its writes are idempotent).
 */
import { Type } from 'typebox';
import { defineJob, type EnqueueRequest } from '#src/jobs/registry.js';

/** The queue and job type of scan shards. */
export const SCAN_SHARD_JOB = 'discovery.scan-shard';

/** Job requests for shards of a scan. */
export function shardJobs(scanId: string, shards: readonly number[]): EnqueueRequest[] {
  return shards.map((shard) => ({
    type: SCAN_SHARD_JOB,
    id: `scan:${scanId}:${String(shard)}`,
    payload: { scanId, shard },
  }));
}

const ATTEMPTS = 5;

/** The scan-shard job type. */
export const scanShardJob = defineJob({
  name: SCAN_SHARD_JOB,
  description: 'Probes one shard of a scan (TCP connect + service identification) and stores it.',
  payload: Type.Object(
    {
      scanId: Type.String({ minLength: 1, maxLength: 64 }),
      shard: Type.Integer({ minimum: 0 }),
    },
    { additionalProperties: false },
  ),
  attempts: ATTEMPTS,
  backoff: { type: 'exponential', delayMs: 1000 },
  timeoutMs: 30 * 60_000,
  concurrency: 2,
  priority: 20,
  run: async (payload, ctx) => {
    const scans = ctx.scans;
    try {
      const outcome = await scans.runShard(payload.scanId, payload.shard, { signal: ctx.signal });
      if (outcome.finished && !outcome.scanCompleted) {
        const next = await scans.repository.queueShards(payload.scanId, 1);
        await ctx.enqueue(shardJobs(payload.scanId, next));
      }
      return outcome;
    } catch (error) {
      if (ctx.attempt >= ATTEMPTS) {
        const message = error instanceof Error ? error.message : String(error);
        await scans.fail(payload.scanId, `shard ${String(payload.shard)} failed: ${message}`);
      }
      throw error;
    }
  },
});
