/**
 * Provider ranges refreshed at run time (`surfacescan providers refresh`): each replaces the
 * bundled ranges of its provider. One row per (provider, CIDR), with the file it came from.
 */
import type { Kysely, Migration } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the schema as it was then */
/** 0008: provider_ranges. */
export function providerRangesTable(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('provider_ranges')
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('cidr', 'text', (c) => c.notNull())
        .addColumn('source_file', 'text', (c) => c.notNull())
        .addColumn('source_sha256', 'text', (c) => c.notNull())
        .addColumn('refreshed_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('provider_ranges_pk', ['provider', 'cidr'])
        .execute();
    },
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */
