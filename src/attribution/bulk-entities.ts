/** The bundled stop list of bulk entities (data/bulk-entities.json), read once. */
import { readFileSync } from 'node:fs';
import type { StopList } from '#src/attribution/filter.model.js';

/** Where the bundled list lives, resolved against the installed package. */
export const BULK_ENTITIES_PATH = new URL('../../../data/bulk-entities.json', import.meta.url);

let cached: StopList | undefined;

/** The bundled stop list. */
export function bundledStopList(): StopList {
  if (cached === undefined) {
    const json = JSON.parse(readFileSync(BULK_ENTITIES_PATH, 'utf8')) as StopList;
    cached = { names: json.names, domains: json.domains, asns: json.asns };
  }
  return cached;
}
