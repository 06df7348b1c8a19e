/**
 * The one place where the scan service meets its capabilities: service identification,
 * provider lookup, the issue lifecycle and DNS. Everything else takes them as arguments.
 */
import { lookup } from 'node:dns/promises';
import type { AssetRepository } from '#src/assets/assets.repository.js';
import type { Config } from '#src/config/config.js';
import type { Db } from '#src/storage/database.js';
import { ScanService, type ScanHooks } from '#src/discovery/scan.service.js';
import { reconcileIssues } from '#src/issues/issues.service.js';
import { loadPolicies, type Policy } from '#src/issues/policy.model.js';

/** Resolves a host name to all its addresses. */
async function resolveAll(hostname: string): Promise<string[]> {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => a.address);
}

/** The hooks of a real deployment. */
export function defaultScanHooks(policies: readonly Policy[] = loadPolicies()): ScanHooks {
  return {
    identify: (target) => Promise.resolve({ ip: target.ip, port: target.port, protocol: 'tcp' }),
    providerOf: () => 'On Prem',
    reconcile: (trx, input) => reconcileIssues(trx, { ...input, policies }),
    resolve: resolveAll,
  };
}

/** The scan service of a process, with the deployment's limits. */
export function createScanService(
  db: Db,
  assets: AssetRepository,
  config: Pick<Config, 'scanMaxRate' | 'scanDefaultRate' | 'scanMaxHosts'>,
  hooks: ScanHooks = defaultScanHooks(),
): ScanService {
  return new ScanService(db, assets, hooks, {
    maxRate: config.scanMaxRate,
    defaultRate: config.scanDefaultRate,
    maxHosts: config.scanMaxHosts,
  });
}
