/**
 * Many issues opened through the real lifecycle (service assets upserted, then reconcileIssues
 * with the bundled policies), for the end-to-end UI tests and the issue list benchmark.
 */
import { AssetRepository } from '#src/assets/assets.repository.js';
import type { ServiceFinding } from '#src/discovery/discovery.model.js';
import { reconcileIssues } from '#src/issues/issues.service.js';
import { loadPolicies } from '#src/issues/policy.model.js';
import type { Db } from '#src/storage/database.js';

const PROVIDERS = ['AWS', 'GCP', 'Azure', 'Hetzner', 'OVH'];
const DAY = 86_400_000;

/** One finding per index, spread over four policies of different priority. */
function findingFor(i: number): ServiceFinding {
  const ip = `10.${String((i >> 16) & 255)}.${String((i >> 8) & 255)}.${String(i & 255)}`;
  switch (i % 4) {
    case 0:
      return { ip, port: 23, protocol: 'tcp', service: 'telnet' };
    case 1:
      return { ip, port: 6379, protocol: 'tcp', service: 'redis', extra: { auth: 'none' } };
    case 2:
      return { ip, port: 3306, protocol: 'tcp', service: 'mysql' };
    default:
      return { ip, port: 22, protocol: 'tcp', service: 'ssh' };
  }
}

/** How seedIssues spreads its issues. */
export interface SeedOptions {
  /** Issues to open (one per finding). */
  readonly count: number;
  /** Findings per reconcile transaction. */
  readonly batch: number;
  /** Each batch is observed a day before the previous one, cycling over this many days. */
  readonly days: number;
}

/**
 * Opens `count` issues in the migrated database `db`, spread over providers and over the last
 * `days` days. Returns the milliseconds spent in reconcileIssues (what the benchmark times).
 */
export async function seedIssues(db: Db, options: SeedOptions): Promise<number> {
  const { count, batch, days } = options;
  const assets = new AssetRepository(db);
  const policies = loadPolicies();
  const now = Date.now();
  let spent = 0;
  for (let start = 0; start < count; start += batch) {
    const findings = Array.from({ length: Math.min(batch, count - start) }, (_, k) =>
      findingFor(start + k),
    );
    const ids = await assets.upsertAssets(
      findings.map((f) => ({
        kind: 'service' as const,
        key: `${f.ip}:${String(f.port)}/tcp`,
        seenAt: now,
      })),
    );
    const began = performance.now();
    await db.kysely.transaction().execute((trx) =>
      reconcileIssues(trx, {
        orgId: null,
        observedAt: now - ((start / batch) % days) * DAY,
        findings: findings.map((finding, k) => ({
          serviceId: ids[k]!,
          finding,
          provider: PROVIDERS[(start + k) % PROVIDERS.length]!,
        })),
        policies,
      }),
    );
    spent += performance.now() - began;
  }
  return spent;
}
