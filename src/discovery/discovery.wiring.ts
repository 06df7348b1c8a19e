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
import { loadPolicies, type Policy } from '#src/issues/policy.model.js';

/** Resolves a host name to all its addresses. */
async function resolveAll(hostname: string): Promise<string[]> {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => a.address);
}

/** The data files a process's scans use: issue policies and the fingerprint database. */
export interface ScanData {
  readonly policies: readonly Policy[];
  readonly fingerprints: FingerprintDb;
}

/** What the hooks of a real deployment are built from; each loaded once per process. */
export interface ScanCapabilities extends ScanData {
  /** The cloud ranges; a promise while they load (they load during the sweep, see ready). */
  readonly providers: ProviderIndex | Promise<ProviderIndex>;
  /** Probe time and size limits (the defaults of identifyService when absent). */
  readonly probe?: Omit<ProbeOptions, 'fingerprints' | 'signal'>;
}

/**
 * Reads the bundled policies and fingerprints plus the user's extra files. Call it before
 * opening any database: a bad file throws PolicyError or FingerprintError (StartupError, exit
 * 2) and nothing has been touched. Read once per process; a change needs a restart.
 */
export function loadScanData(files: {
  readonly policies: readonly string[];
  readonly fingerprints: readonly string[];
}): ScanData {
  return {
    policies: loadPolicies(files.policies),
    fingerprints: loadFingerprints(files.fingerprints),
  };
}

/**
 * The capabilities of a process's scans: its scan data and the cloud ranges (bundled, with
 * the providers `surfacescan providers refresh` stored in `db` replacing theirs). The ranges
 * (~0.1 s to read and index) load in the background: a scan's sweep runs meanwhile, and
 * storing its findings waits for them (ScanHooks.ready). Loaded once: a process sees a
 * refresh when it restarts.
 */
export function loadScanCapabilities(db: Db, data: ScanData): ScanCapabilities {
  const providers = loadProviderIndexFor(db);
  // Awaited by the hooks before any lookup; this only keeps an early failure from being
  // reported as unhandled before then.
  providers.catch(() => undefined);
  return { ...data, providers };
}

/** The hooks of a real deployment. */
export function defaultScanHooks(capabilities: ScanCapabilities): ScanHooks {
  const { policies, fingerprints, probe } = capabilities;
  let providers: ProviderIndex | undefined;
  const ready = Promise.resolve(capabilities.providers).then((index) => {
    providers = index;
    return index;
  });
  ready.catch(() => undefined);
  return {
    ready,
    identify: (target, signal) => identifyService(target, { ...probe, fingerprints, signal }),
    providerOf: (ip) => {
      if (providers === undefined) throw new Error('the cloud ranges are still loading');
      return providers.lookup(ip);
    },
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
