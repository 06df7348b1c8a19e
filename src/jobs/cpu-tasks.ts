/**
 * CPU-heavy tasks, by name, as the worker-thread pool runs them. Each is a pure function of
 * its input (structured-cloneable in and out). Capabilities add their heavy steps here.
 */
import { createHash } from 'node:crypto';
import { scoreTask } from '#src/attribution/predict.service.js';

/** Burns `ms` of CPU hashing, and returns the digest count; the diagnostic workload. */
function burn(input: unknown): { digests: number } {
  const ms = (input as { ms: number }).ms;
  const until = performance.now() + ms;
  const block = Buffer.alloc(4096, 7);
  let digests = 0;
  do {
    createHash('sha256').update(block).digest();
    digests++;
  } while (performance.now() < until);
  return { digests };
}

/** Every task the pool can run. */
export const CPU_TASKS = {
  burn,
  /** Attribution model probabilities of a batch of pairs (features precomputed). */
  'attribution.score': scoreTask,
} as const satisfies Record<string, (input: unknown) => unknown>;

/** A task name. */
export type CpuTaskName = keyof typeof CPU_TASKS;
