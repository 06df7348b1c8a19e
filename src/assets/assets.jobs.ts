/**
 * assets.ingest: records a batch of sightings (assets upserted by kind and key, plus one
 * observation each). Idempotent: observation ids derive from the job id, so a job that runs
 * twice (its worker died after writing) writes each observation once.
 */
import { Type, type TLiteral } from 'typebox';
import { defineJob } from '#src/jobs/registry.js';
import { ASSET_KINDS, OBSERVATION_SOURCES } from '#src/storage/schema.js';

/**
 * One literal schema per value, as a tuple: `Type.Union` over a plain array (what `.map` gives)
 * has the static type `never`, which would type every payload field built from it as `never`.
 */
function literals<const T extends readonly string[]>(
  values: T,
): { -readonly [K in keyof T]: TLiteral<T[K]> } {
  return values.map((v) => Type.Literal(v)) as { -readonly [K in keyof T]: TLiteral<T[K]> };
}

const Sighting = Type.Object(
  {
    kind: Type.Union(literals(ASSET_KINDS)),
    key: Type.String({ minLength: 1, maxLength: 2048 }),
    provider: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    seen_at: Type.Optional(Type.Integer({ minimum: 0, description: 'epoch ms; default now' })),
    source: Type.Optional(Type.Union(literals(OBSERVATION_SOURCES))),
    data: Type.Optional(Type.Unknown({ description: 'what was observed (JSON)' })),
  },
  { additionalProperties: false },
);

/** The ingest job type. */
export const ingestJob = defineJob({
  name: 'assets.ingest',
  description: 'Upserts a batch of asset sightings and records an observation for each.',
  payload: Type.Object(
    { assets: Type.Array(Sighting, { minItems: 1, maxItems: 10_000 }) },
    { additionalProperties: false },
  ),
  attempts: 5,
  backoff: { type: 'exponential', delayMs: 500 },
  timeoutMs: 60_000,
  concurrency: 4,
  priority: 10,
  run: async (payload, ctx) => {
    const now = ctx.now();
    const ids = await ctx.assets.upsertAssets(
      payload.assets.map((a) => ({
        kind: a.kind,
        key: a.key,
        seenAt: a.seen_at ?? now,
        provider: a.provider ?? null,
      })),
    );
    const inserted = await ctx.assets.recordObservations(
      payload.assets.map((a, i) => ({
        id: `${ctx.jobId}#${String(i)}`,
        assetId: ids[i]!,
        source: a.source ?? 'import',
        data: a.data ?? {},
        observedAt: a.seen_at ?? now,
      })),
    );
    return { assets: ids.length, observations_written: inserted };
  },
});
