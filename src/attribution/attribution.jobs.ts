/**
 * attribution.filter: one batch of an attribution run (facts whose subject is in [from, to)).
 * Idempotent: running a batch again recomputes the same decisions and keeps confirmations.
 */
import { Type } from 'typebox';
import { defineJob } from '#src/jobs/registry.js';
import { attributeBatch } from '#src/attribution/attribution.service.js';
import { loadModel } from '#src/attribution/predict.service.js';

/** The filter job type. */
export const filterJob = defineJob({
  name: 'attribution.filter',
  description:
    'Attribution over one batch of facts: candidate pairs from the seeds, scored, stored as attributions.',
  payload: Type.Object(
    {
      from: Type.String({ description: 'First subject of the batch (inclusive).' }),
      to: Type.Union([Type.String(), Type.Null()], {
        description: 'Subject the batch stops before; null = to the end.',
      }),
      model: Type.Optional(
        Type.String({ minLength: 1, description: 'Model artefact path; default: bundled.' }),
      ),
    },
    { additionalProperties: false },
  ),
  attempts: 3,
  backoff: { type: 'exponential', delayMs: 1000 },
  timeoutMs: 300_000,
  concurrency: 1,
  priority: 20,
  run: async (payload, ctx) => {
    return attributeBatch({
      db: ctx.db,
      assets: ctx.assets,
      model: loadModel(payload.model ?? null),
      pool: ctx.cpu,
      now: ctx.now(),
      from: payload.from,
      to: payload.to,
    });
  },
});
