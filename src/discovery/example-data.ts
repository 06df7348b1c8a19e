/**
 * The example exposure data of `npm start` (serve --example-data): an organization, Example
 * Corp, and an nmap scan of its made-up networks (examples/example-corp.nmap.xml, written by
 * scripts/make-example-scan.mjs; RFC 5737 documentation addresses that reach no one). Loaded
 * only into a database without organizations, so it never mixes with a user's own data, and
 * loaded through the same import path as a user's file.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { AssetRepository } from '#src/assets/assets.repository.js';
import type { Db } from '#src/storage/database.js';
import { isUniqueViolation } from '#src/storage/dialect.js';
import { ImportService } from '#src/discovery/import.service.js';
import type { ScanService } from '#src/discovery/scan.service.js';

/** The bundled scan; this module runs from dist/src/discovery/. */
export const EXAMPLE_SCAN = fileURLToPath(
  new URL('../../../examples/example-corp.nmap.xml', import.meta.url),
);

const EXAMPLE_ORG = {
  name: 'Example Corp',
  seeds: {
    domains: ['example.com'],
    cidrs: ['203.0.113.0/24', '198.51.100.0/24'],
    asns: [],
    names: ['Example Corp'],
  },
};

/**
 * Loads the example into a database that has no organization yet; does nothing otherwise.
 * Safe when several processes start at once: the organization's unique name lets one win, and
 * an import of the same file is a re-import.
 */
export async function loadExampleData(
  deps: { db: Db; assets: AssetRepository; scans: ScanService; logger: Logger },
  now: number = Date.now(),
): Promise<boolean> {
  if ((await deps.assets.listOrganizations()).length > 0) return false;
  try {
    await deps.assets.createOrganization(EXAMPLE_ORG.name, EXAMPLE_ORG.seeds, now);
  } catch (error) {
    if (isUniqueViolation(error)) return false;
    throw error;
  }
  const outcome = await new ImportService(deps.db, deps.assets, deps.scans).importFile({
    org: EXAMPLE_ORG.name,
    bytes: readFileSync(EXAMPLE_SCAN),
  });
  deps.logger.info(
    {
      org: EXAMPLE_ORG.name,
      hosts: outcome.hosts,
      services: outcome.services,
      issues: outcome.issuesOpened,
    },
    'loaded the example exposure data (serve --example-data)',
  );
  return true;
}
