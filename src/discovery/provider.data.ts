/**
 * The bundled cloud range data (data/cloud-ranges.json at the package root, shipped in the npm
 * package). Reading it is the one side effect of provider lookup, kept out of the pure model.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ProviderIndex, rangesFromFile } from '#src/discovery/provider.model.js';

/** Absolute path of the bundled file; this module runs from dist/src/discovery/. */
export const BUNDLED_CLOUD_RANGES = fileURLToPath(
  new URL('../../../data/cloud-ranges.json', import.meta.url),
);

/** The index built from the bundled file (or another cloud-ranges.json, e.g. a refreshed one). */
export async function loadProviderIndex(path = BUNDLED_CLOUD_RANGES): Promise<ProviderIndex> {
  const doc: unknown = JSON.parse(await readFile(path, 'utf8'));
  return ProviderIndex.fromRanges(rangesFromFile(doc));
}
