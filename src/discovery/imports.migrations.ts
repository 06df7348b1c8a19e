/**
 * Import tables: one row per imported file and organization (a file imported again reuses its
 * row), and the time a service was last closed, so an older file imported later cannot reopen
 * a service that a newer complete run closed.
 */
import type { Kysely, Migration } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the schema as it was then */
/** 0007: imports, services.closed_at. */
export function importTables(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('imports')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) =>
          c.notNull().references('organizations.id').onDelete('cascade'),
        )
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('scanner_name', 'text', (c) => c.notNull())
        .addColumn('scanner_version', 'text')
        .addColumn('scanner_args', 'text')
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .addColumn('observed_at', 'bigint', (c) => c.notNull())
        .addColumn('ports', 'text')
        // 1 or 0: better-sqlite3 binds no booleans.
        .addColumn('complete', 'integer', (c) => c.notNull())
        .addColumn('host_count', 'integer', (c) => c.notNull())
        .addColumn('service_count', 'integer', (c) => c.notNull())
        .addColumn('new_services', 'integer', (c) => c.notNull())
        .addColumn('updated_services', 'integer', (c) => c.notNull())
        .addColumn('closed_services', 'integer', (c) => c.notNull())
        .addColumn('issues_opened', 'integer', (c) => c.notNull())
        .addColumn('imported_at', 'bigint', (c) => c.notNull())
        .addColumn('last_imported_at', 'bigint', (c) => c.notNull())
        .execute();
      // The same file for the same organization is one import.
      await db.schema
        .createIndex('imports_by_file')
        .unique()
        .on('imports')
        .columns(['org_id', 'sha256'])
        .execute();
      await db.schema
        .createIndex('imports_by_last_imported')
        .on('imports')
        .columns(['last_imported_at'])
        .execute();
      await db.schema.alterTable('services').addColumn('closed_at', 'bigint').execute();
    },
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */
