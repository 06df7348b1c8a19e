/**
 * Discovery tables: scans and their shards (so a scan is resumable and spread over workers),
 * and services (the latest finding per ip:port, beside the assets and observations that keep
 * the history).
 */
import type { Kysely, Migration } from 'kysely';
import type { DialectName } from '#src/storage/database.js';
import { jsonType } from '#src/storage/dialect.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the schema as it was then */
/** 0004: scans, scan_shards, services. */
export function discoveryTables(dialect: DialectName): Migration {
  const json = jsonType(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('scans')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id'))
        .addColumn('hosts', json, (c) => c.notNull())
        .addColumn('ports', 'text', (c) => c.notNull())
        .addColumn('options', json, (c) => c.notNull())
        .addColumn('seed', 'bigint', (c) => c.notNull())
        .addColumn('probes_total', 'bigint', (c) => c.notNull())
        .addColumn('shard_size', 'integer', (c) => c.notNull())
        .addColumn('shard_count', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .execute();
      await db.schema.createIndex('scans_by_created').on('scans').columns(['created_at']).execute();
      await db.schema
        .createTable('scan_shards')
        .addColumn('scan_id', 'text', (c) => c.notNull().references('scans.id').onDelete('cascade'))
        .addColumn('shard', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('probes_done', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('open_found', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('runs', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .addPrimaryKeyConstraint('scan_shards_pk', ['scan_id', 'shard'])
        .execute();
      await db.schema
        .createTable('services')
        .addColumn('id', 'text', (c) => c.primaryKey().references('assets.id').onDelete('cascade'))
        .addColumn('org_id', 'text', (c) => c.references('organizations.id').onDelete('set null'))
        .addColumn('ip', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('protocol', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('service', 'text')
        .addColumn('product', 'text')
        .addColumn('version', 'text')
        .addColumn('finding', json, (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('first_seen', 'bigint', (c) => c.notNull())
        .addColumn('last_seen', 'bigint', (c) => c.notNull())
        .addColumn('last_scan_id', 'text')
        .execute();
      await db.schema
        .createIndex('services_by_endpoint')
        .unique()
        .on('services')
        .columns(['ip', 'port', 'protocol'])
        .execute();
      await db.schema
        .createIndex('services_by_org')
        .on('services')
        .columns(['org_id', 'ip'])
        .execute();
      await db.schema
        .createIndex('services_by_product')
        .on('services')
        .columns(['product'])
        .execute();
      await db.schema
        .createIndex('services_by_last_seen')
        .on('services')
        .columns(['last_seen'])
        .execute();
    },
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the schema as it was then */
/** 0009: scans.host_names, the names each address was resolved from (null on older scans). */
export function scanHostNames(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('scans').addColumn('host_names', jsonType(dialect)).execute();
    },
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the schema as it was then */
/** 0010: scans by organization, newest first (GET /api/v1/scans?org=, the org foreign key). */
export function scansByOrg(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createIndex('scans_by_org')
        .on('scans')
        .columns(['org_id', 'created_at'])
        .execute();
    },
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */
