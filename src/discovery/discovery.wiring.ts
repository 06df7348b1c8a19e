/**
 * The one place where the scan service meets its capabilities: service identification,
 * provider lookup, the issue lifecycle and DNS. Everything else takes them as arguments.
 */
import { lookup } from 'node:dns/promises';
import type { AssetRepository } from '#src/assets/assets.repository.js';
import type { Config } from '#src/config/config.js';
import type { Db } from '#src/storage/database.js';
import { loadFingerprints, type FingerprintDb } from '#src/discovery/fingerprint.model.js';
import { identifyService, type ProbeOptions } from '#src/discovery/probe.service.js';
import { loadProviderIndexFor } from '#src/discovery/provider.data.js';
import type { ProviderIndex } from '#src/discovery/provider.model.js';
import { ScanService, type ScanHooks } from '#src/discovery/scan.service.js';
import { reconcileIssues } from '#src/issues/issues.service.js';
import type { Policy } from '#src/issues/policy.model.js';

/** Resolves a host name to all its addresses. */
async function resolveAll(hostname: string): Promise<string[]> {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => a.address);
}

/** What the hooks of a real deployment are built from; each loaded once per process. */
export interface ScanCapabilities {
  readonly policies: readonly Policy[];
  readonly fingerprints: FingerprintDb;
  readonly providers: ProviderIndex;
  /** Probe time and size limits (the defaults of identifyService when absent). */
  readonly probe?: Omit<ProbeOptions, 'fingerprints' | 'signal'>;
}

/**
 * Loads the fingerprint database (bundled, plus `fingerprintFiles`; a bad file throws
 * FingerprintError) and the cloud ranges (bundled, with the providers `surfacescan providers
 * refresh` stored in `db` replacing theirs). Loaded once: a process sees a refresh when it
 * restarts.
 */
export async function loadScanCapabilities(
  db: Db,
  policies: readonly Policy[],
  fingerprintFiles: readonly string[] = [],
): Promise<ScanCapabilities> {
  const fingerprints = loadFingerprints(fingerprintFiles);
  return { policies, fingerprints, providers: await loadProviderIndexFor(db) };
}

/** The hooks of a real deployment. */
export function defaultScanHooks(capabilities: ScanCapabilities): ScanHooks {
  const { policies, fingerprints, providers, probe } = capabilities;
  return {
    identify: (target, signal) => identifyService(target, { ...probe, fingerprints, signal }),
    providerOf: (ip) => providers.lookup(ip),
    reconcile: (trx, input) => reconcileIssues(trx, { ...input, policies }),
    resolve: resolveAll,
  };
}

/** The scan service of a process, with the deployment's limits. */
export function createScanService(
  db: Db,
  assets: AssetRepository,
  config: Pick<Config, 'scanMaxRate' | 'scanDefaultRate' | 'scanMaxHosts'>,
  capabilities: ScanCapabilities,
): ScanService {
  return new ScanService(db, assets, defaultScanHooks(capabilities), {
    maxRate: config.scanMaxRate,
    defaultRate: config.scanDefaultRate,
    maxHosts: config.scanMaxHosts,
  });
}
