/**
 * The bundled cloud range data (data/cloud-ranges.json at the package root, shipped in the npm
 * package) and the ranges refreshed into the database. Reading them is the one side effect of
 * provider lookup, kept out of the pure model.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  ProviderIndex,
  rangesFromFile,
  sourcesFromFile,
  type CloudRangeSource,
  type ProviderRange,
} from '#src/discovery/provider.model.js';
import { ProviderRangeRepository } from '#src/discovery/provider.repository.js';
import type { Db } from '#src/storage/database.js';

/** Absolute path of the bundled file; this module runs from dist/src/discovery/. */
export const BUNDLED_CLOUD_RANGES = fileURLToPath(
  new URL('../../../data/cloud-ranges.json', import.meta.url),
);

/** A cloud-ranges.json file read and validated. */
interface RangesFile {
  readonly ranges: ProviderRange[];
  readonly sources: CloudRangeSource[];
}

async function readRangesFile(path: string): Promise<RangesFile> {
  const doc: unknown = JSON.parse(await readFile(path, 'utf8'));
  return { ranges: rangesFromFile(doc), sources: sourcesFromFile(doc) };
}

/** The index built from the bundled file (or another cloud-ranges.json, e.g. a refreshed one). */
export async function loadProviderIndex(path = BUNDLED_CLOUD_RANGES): Promise<ProviderIndex> {
  return ProviderIndex.fromRanges((await readRangesFile(path)).ranges);
}

/** The bundled ranges, with every provider that has refreshed ranges in `db` taking those
 * instead (a refresh replaces a provider's list; it does not add to it). */
async function effectiveRanges(db: Db, path: string): Promise<ProviderRange[]> {
  const [file, refreshed] = await Promise.all([
    readRangesFile(path),
    new ProviderRangeRepository(db).ranges(),
  ]);
  const replaced = new Set(refreshed.map((r) => r.provider));
  return [...file.ranges.filter((r) => !replaced.has(r.provider)), ...refreshed];
}

/** The lookup index for `db`: bundled ranges, each refreshed provider's replaced by its
 * refreshed ranges. */
export async function loadProviderIndexFor(
  db: Db,
  path = BUNDLED_CLOUD_RANGES,
): Promise<ProviderIndex> {
  return ProviderIndex.fromRanges(await effectiveRanges(db, path));
}

/** One provider as `providers list` and GET /api/v1/providers show it. */
export interface ProviderOverview {
  readonly provider: string;
  /** CIDR blocks in force for the provider. */
  readonly ranges: number;
  /** Bundled with the release, or refreshed into the database. */
  readonly source: 'bundled' | 'refreshed';
  /** Refreshed: when (epoch ms). Bundled: null. */
  readonly refreshedAt: number | null;
  /** Refreshed: the files read. Bundled: the origin recorded in the bundled file. */
  readonly origin: string;
  /** The date of the data: the refresh day, or the bundled list's own date. */
  readonly dated: string | null;
}

/** Every provider in force for `db`, by name. */
export async function providerOverview(
  db: Db,
  path = BUNDLED_CLOUD_RANGES,
): Promise<ProviderOverview[]> {
  const [file, refreshed] = await Promise.all([
    readRangesFile(path),
    new ProviderRangeRepository(db).providers(),
  ]);
  const out = new Map<string, ProviderOverview>();
  const counts = new Map<string, number>();
  for (const r of file.ranges) counts.set(r.provider, (counts.get(r.provider) ?? 0) + 1);
  for (const [provider, ranges] of counts) {
    const source = file.sources.find((s) => s.provider === provider);
    out.set(provider, {
      provider,
      ranges,
      source: 'bundled',
      refreshedAt: null,
      origin: source?.origin ?? 'bundled data/cloud-ranges.json',
      dated: source?.dated ?? source?.retrieved ?? null,
    });
  }
  for (const r of refreshed)
    out.set(r.provider, {
      provider: r.provider,
      ranges: r.ranges,
      source: 'refreshed',
      refreshedAt: r.refreshedAt,
      origin: r.files.join(', '),
      dated: new Date(r.refreshedAt).toISOString().slice(0, 10),
    });
  return [...out.values()].sort((a, b) => a.provider.localeCompare(b.provider));
}
