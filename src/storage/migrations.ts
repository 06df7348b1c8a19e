/**
 * Migrations as code. Each is applied once, in name order; all pending ones run in a single
 * transaction on both engines, so a failed migration leaves the schema exactly as it was.
 * Never edit a released migration: add the next one.
 */
import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import {
  connectDatabase,
  describeError,
  type Db,
  type DialectName,
} from '#src/storage/database.js';
import { jsonType } from '#src/storage/dialect.js';
import { discoveryTables, scanHostNames, scansByOrg } from '#src/discovery/discovery.migrations.js';
import { issueAssigneeSortIndex, issueTables } from '#src/issues/issues.migrations.js';
import { providerRangesTable } from '#src/discovery/provider.migrations.js';
import { StartupError } from '#src/startup-error.js';
import { importTables } from '#src/discovery/imports.migrations.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the schema as it was then */
type AnyDb = Kysely<any>;

/** JSON columns as 0001 and 0002 create them (jsonb on PostgreSQL until 0003). */
function releasedJsonType(dialect: DialectName): 'jsonb' | 'text' {
  return dialect === 'postgres' ? 'jsonb' : 'text';
}

/** Every JSON column, as [table, column]. */
const JSON_COLUMNS = [
  ['organizations', 'seeds'],
  ['observations', 'data'],
  ['jobs', 'payload'],
  ['jobs', 'result'],
  ['workers', 'queues'],
  ['workers', 'current_jobs'],
  ['workers', 'queue_rates'],
] as const;

function coreTables(dialect: DialectName): Migration {
  const json = releasedJsonType(dialect);
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('organizations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('seeds', json, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('assets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('org_id', 'text', (c) => c.references('organizations.id').onDelete('set null'))
        .addColumn('provider', 'text')
        .addColumn('first_seen', 'bigint', (c) => c.notNull())
        .addColumn('last_seen', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('assets_kind_key', ['kind', 'key'])
        .execute();
      await db.schema.createIndex('assets_org').on('assets').columns(['org_id']).execute();
      await db.schema.createIndex('assets_last_seen').on('assets').columns(['last_seen']).execute();
      await db.schema
        .createTable('observations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('asset_id', 'text', (c) =>
          c.notNull().references('assets.id').onDelete('cascade'),
        )
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('data', json, (c) => c.notNull())
        .addColumn('observed_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('observations_asset_time')
        .on('observations')
        .columns(['asset_id', 'observed_at'])
        .execute();
      await db.schema
        .createTable('cloud_environments')
        .addColumn('version', 'integer', (c) => c.primaryKey())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('vm_count', 'integer', (c) => c.notNull())
        .addColumn('rule_count', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}

function jobTables(dialect: DialectName): Migration {
  const json = releasedJsonType(dialect);
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('queue', 'text', (c) => c.notNull())
        .addColumn('payload', json, (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('max_attempts', 'integer', (c) => c.notNull())
        .addColumn('run_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_until', 'bigint')
        .addColumn('worker_id', 'text')
        .addColumn('error', 'text')
        .addColumn('result', json)
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .execute();
      // Claiming: the next waiting jobs of a queue by priority, then enqueue order.
      await db.schema
        .createIndex('jobs_claim')
        .on('jobs')
        .columns(['queue', 'state', 'priority', 'seq'])
        .execute();
      // Expired leases (stalled jobs) and the jobs a worker holds.
      await db.schema
        .createIndex('jobs_lease')
        .on('jobs')
        .columns(['state', 'lease_until'])
        .execute();
      await db.schema.createIndex('jobs_worker').on('jobs').columns(['worker_id']).execute();
      // Rate limits (jobs started per window) and recent failures.
      await db.schema
        .createIndex('jobs_started')
        .on('jobs')
        .columns(['queue', 'started_at'])
        .execute();
      await db.schema
        .createIndex('jobs_finished')
        .on('jobs')
        .columns(['state', 'finished_at'])
        .execute();
      await db.schema
        .createTable('workers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('queues', json, (c) => c.notNull())
        .addColumn('current_jobs', json, (c) => c.notNull())
        .addColumn('queue_rates', json, (c) => c.notNull())
        .addColumn('processed', 'bigint', (c) => c.notNull())
        .addColumn('failed', 'bigint', (c) => c.notNull())
        .addColumn('rate', 'double precision', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
        .addColumn('stopped_at', 'bigint')
        .execute();
    },
  };
}

// jsonb rejected data the other engine keeps (NUL characters, lone surrogates) and reordered
// keys; json stores the text as written and still checks that it is JSON.
function jsonColumnsKeepText(dialect: DialectName): Migration {
  return {
    async up(db: AnyDb) {
      if (dialect !== 'postgres') return;
      for (const [table, column] of JSON_COLUMNS) {
        await db.schema
          .alterTable(table)
          .alterColumn(column, (c) => c.setDataType(jsonType(dialect)))
          .execute();
      }
    },
  };
}
// Facts keep their content key as id, so a re-import finds its row and only moves last_seen.
function attributionTables(dialect: DialectName): Migration {
  const json = jsonType(dialect);
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('facts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('value', json, (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('first_seen', 'bigint', (c) => c.notNull())
        .addColumn('last_seen', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('facts_subject').on('facts').columns(['subject', 'id']).execute();
      await db.schema.createIndex('facts_kind').on('facts').columns(['kind']).execute();
      await db.schema
        .createTable('attributions')
        .addColumn('asset_id', 'text', (c) =>
          c.notNull().references('assets.id').onDelete('cascade'),
        )
        .addColumn('org_id', 'text', (c) =>
          c.notNull().references('organizations.id').onDelete('cascade'),
        )
        .addColumn('score', 'double precision', (c) => c.notNull())
        .addColumn('decision', 'text', (c) => c.notNull())
        .addColumn('reasons', json, (c) => c.notNull())
        .addColumn('model_version', 'text', (c) => c.notNull())
        .addColumn('decided_at', 'bigint', (c) => c.notNull())
        .addColumn('confirmed_by', 'text')
        .addColumn('confirmed_at', 'bigint')
        .addColumn('confirmation', 'text')
        .addPrimaryKeyConstraint('attributions_pk', ['asset_id', 'org_id'])
        .execute();
      await db.schema
        .createIndex('attributions_org')
        .on('attributions')
        .columns(['org_id', 'decision'])
        .execute();
    },
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Every migration of this version, by name (applied in name order). */
export function migrationsFor(dialect: DialectName): Record<string, Migration> {
  return {
    '0001_core_tables': coreTables(dialect),
    '0002_job_tables': jobTables(dialect),
    '0003_json_columns_keep_text': jsonColumnsKeepText(dialect),
    '0004_discovery': discoveryTables(dialect),
    '0005_issues': issueTables(dialect),
    '0005a_issues_assignee_sort': issueAssigneeSortIndex(),
    '0006_attribution': attributionTables(dialect),
    '0007_imports': importTables(),
    '0008_provider_ranges': providerRangesTable(),
    '0009_scan_host_names': scanHostNames(dialect),
    '0010_scans_by_org': scansByOrg(),
  };
}

/** What `migrate` did. */
export interface MigrationReport {
  readonly applied: readonly string[];
  readonly total: number;
}

/** Raised when a migration fails; nothing of the run was kept. */
export class MigrationError extends StartupError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

/** How often a migration run that lost a SQLite write race is tried again. */
const SQLITE_BUSY_RETRIES = 40;

function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** Applies pending migrations (idempotent). `extra` lets tests append a migration. */
export async function migrate(
  db: Db,
  extra: Record<string, Migration> = {},
): Promise<MigrationReport> {
  const migrations = { ...migrationsFor(db.dialect), ...extra };
  const migrator = new Migrator({
    db: db.kysely,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: 'schema_migrations',
    migrationLockTableName: 'schema_migrations_lock',
  });
  let outcome: MigrationResultSet = await migrator.migrateToLatest();
  // Two processes starting on one new SQLite file (serve and worker, say) race: the loser's
  // transaction cannot upgrade to a writer and fails at once with SQLITE_BUSY, whatever the
  // busy timeout. Its run was rolled back, so it simply tries again and finds the work done.
  for (let attempt = 1; attempt <= SQLITE_BUSY_RETRIES && isSqliteBusy(outcome.error); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 25 * attempt + Math.random() * 50));
    outcome = await migrator.migrateToLatest();
  }
  if (outcome.error !== undefined) {
    const failed = outcome.results?.find((r) => r.status === 'Error')?.migrationName;
    const cause = describeError(outcome.error);
    throw new MigrationError(
      `migration ${failed ?? '(setup)'} failed; the schema was left unchanged: ${cause}`,
      { cause: outcome.error },
    );
  }
  const applied = (outcome.results ?? [])
    .filter((r) => r.status === 'Success')
    .map((r) => r.migrationName);
  return { applied, total: Object.keys(migrations).length };
}

/** Opens the database at `url`, applies pending migrations and closes it again. */
export async function migrateDatabase(url: string): Promise<MigrationReport & { label: string }> {
  const db = await connectDatabase(url);
  try {
    return { label: db.label, ...(await migrate(db)) };
  } finally {
    await db.close();
  }
}
