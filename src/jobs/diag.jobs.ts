/**
 * Diagnostic job types: a job that does nothing and one that burns CPU in the pool. They
 * measure the queue itself (bench:jobs) and show that workers are alive and draining.
 */
import { Type } from 'typebox';
import { defineJob } from '#src/jobs/registry.js';

/** Does nothing; measures the queue's own cost per job. */
export const noopJob = defineJob({
  name: 'diag.noop',
  description: 'Does nothing: measures the queue overhead per job.',
  payload: Type.Object({}, { additionalProperties: true }),
  attempts: 3,
  backoff: { type: 'fixed', delayMs: 100 },
  timeoutMs: 10_000,
  concurrency: 64,
  priority: 10,
  run: () => Promise.resolve(undefined),
});

/** Burns `ms` of CPU in the worker-thread pool. */
export const cpuJob = defineJob({
  name: 'diag.cpu',
  description: 'Burns ms milliseconds of CPU in the worker-thread pool.',
  payload: Type.Object(
    { ms: Type.Integer({ minimum: 0, maximum: 60_000 }) },
    { additionalProperties: false },
  ),
  attempts: 3,
  backoff: { type: 'fixed', delayMs: 100 },
  timeoutMs: 120_000,
  concurrency: 8,
  priority: 10,
  run: (payload, ctx) => ctx.cpu.run('burn', payload, ctx.signal),
});

/** Fails until its attempt number reaches `succeed_on` (never when absent). */
export const flakyJob = defineJob({
  name: 'diag.flaky',
  description: 'Fails with the given message until attempt succeed_on; tests retries and failures.',
  payload: Type.Object(
    {
      message: Type.String({ maxLength: 500 }),
      succeed_on: Type.Optional(Type.Integer({ minimum: 1 })),
      sleep_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
    },
    { additionalProperties: false },
  ),
  attempts: 3,
  backoff: { type: 'exponential', delayMs: 100 },
  timeoutMs: 30_000,
  concurrency: 4,
  priority: 10,
  run: async (payload, ctx) => {
    if (payload.sleep_ms !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, payload.sleep_ms));
    }
    if (payload.succeed_on !== undefined && ctx.attempt >= payload.succeed_on) {
      return { attempt: ctx.attempt };
    }
    throw new Error(payload.message);
  },
});
