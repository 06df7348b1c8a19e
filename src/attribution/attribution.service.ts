/**
 * Attribution runs: the filter over one batch of stored facts, the model over its pairs, and
 * the decisions stored with their reasons. A run is split into batches by subject so that all
 * facts of an asset meet in one batch; each batch is one job.
 */
import type { AssetRepository } from '#src/assets/assets.repository.js';
import type { Db } from '#src/storage/database.js';
import type { CpuPool } from '#src/jobs/pool.js';
import { FactRepository } from '#src/attribution/facts.repository.js';
import { AttributionRepository, type Decision } from '#src/attribution/attribution.repository.js';
import {
  SeedIndex,
  emptyStats,
  generateCandidates,
  type FilterStats,
} from '#src/attribution/filter.model.js';
import { bundledStopList } from '#src/attribution/bulk-entities.js';
import { PredictService } from '#src/attribution/predict.service.js';
import type { ModelArtefact } from '#src/attribution/model.js';

/** What one batch did. */
export interface BatchReport {
  readonly filter: FilterStats;
  readonly decisions: Record<Decision, number>;
  readonly model_version: string;
}

/** Runs the filter and the model over facts with from <= subject < to, and stores decisions. */
export async function attributeBatch(deps: {
  readonly db: Db;
  readonly assets: AssetRepository;
  readonly model: ModelArtefact;
  readonly pool: CpuPool | null;
  readonly now: number;
  readonly from: string;
  readonly to: string | null;
}): Promise<BatchReport> {
  const facts = new FactRepository(deps.db);
  const [batch, network, orgs] = await Promise.all([
    facts.inRange(deps.from, deps.to),
    facts.networkFacts(),
    deps.assets.listOrganizations(),
  ]);
  const index = new SeedIndex(orgs, bundledStopList());
  index.addNetworkFacts(network);
  const stats = emptyStats();
  const candidates = generateCandidates(index, batch, stats);
  const decisions: Record<Decision, number> = { owned: 0, candidate: 0, not_owned: 0 };
  if (candidates.length > 0) {
    const predict = new PredictService({ model: deps.model, pool: deps.pool });
    const predictions = await predict.predict(candidates, { asOf: deps.now });
    const ids = await deps.assets.upsertAssets(
      candidates.map((c) => ({
        kind: c.asset_kind,
        key: c.asset,
        seenAt: Math.max(...c.evidence.map((e) => e.seen_at)),
      })),
    );
    await new AttributionRepository(deps.db).save(
      predictions.map((p, i) => {
        decisions[p.decision]++;
        return {
          assetId: ids[i]!,
          orgId: p.org_id,
          score: p.probability,
          decision: p.decision,
          reasons: p.reasons,
          modelVersion: deps.model.version,
          decidedAt: deps.now,
        };
      }),
    );
  }
  return { filter: stats, decisions, model_version: deps.model.version };
}
