/**
 * The storage contract, run unchanged against every engine: a real SQLite file and (when
 * SURFACESCAN_TEST_POSTGRES_URL is set) a real PostgreSQL database. Each test gets a scratch
 * database of its own and drops it afterwards.
 */
import {
  createScanService,
  loadScanCapabilities,
  loadScanData,
} from '#src/discovery/discovery.wiring.js';
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { sql, type Migration } from 'kysely';
import { connectDatabase, DatabaseUnavailableError, type Db } from '#src/storage/database.js';
import { migrate, MigrationError } from '#src/storage/migrations.js';
import { isUniqueViolation } from '#src/storage/dialect.js';
import { AssetRepository, type AssetSighting } from '#src/assets/assets.repository.js';
import { ingestJob } from '#src/assets/assets.jobs.js';
import type { JobContext } from '#src/jobs/registry.js';
import type { CpuPool } from '#src/jobs/pool.js';
import { EnvironmentRepository } from '#src/cloud/environment.repository.js';
import type { CloudEnvironment, FwId, VmId } from '#src/cloud/environment.model.js';
import { engines, type Engine, type ScratchDatabase } from './helpers/databases.js';

/** A time in 2026 as epoch milliseconds: above 2^32, so int4 or a string would show. */
const T = 1_790_000_000_000;

const ALL_MIGRATIONS = [
  '0001_core_tables',
  '0002_job_tables',
  '0003_json_columns_keep_text',
  '0004_discovery',
  '0005_issues',
  '0005a_issues_assignee_sort',
  '0006_attribution',
  '0007_imports',
  '0008_provider_ranges',
  '0009_scan_host_names',
  '0010_scans_by_org',
];
const APP_TABLES = [
  'assets',
  'attributions',
  'cloud_environments',
  'facts',
  'imports',
  'issue_history',
  'issues',
  'jobs',
  'observations',
  'organizations',
  'provider_ranges',
  'workers',
];

/** Registers hooks giving each test of the enclosing suite its own scratch database. */
function scratchPerTest(engine: Engine, migrated: boolean): { readonly db: Db } {
  let current: { db: Db; scratch: ScratchDatabase } | undefined;
  beforeEach(async () => {
    const scratch = await engine.create();
    try {
      const db = await connectDatabase(scratch.url);
      current = { db, scratch };
      if (migrated) await migrate(db);
    } catch (error) {
      await current?.db.close();
      current = undefined;
      await scratch.drop();
      throw error;
    }
  });
  afterEach(async () => {
    const done = current;
    current = undefined;
    if (done === undefined) return;
    try {
      await done.db.close();
    } finally {
      await done.scratch.drop();
    }
  });
  return {
    get db(): Db {
      if (current === undefined) throw new Error('no scratch database (beforeEach failed)');
      return current.db;
    },
  };
}

/** Names of the tables in the database, sorted. */
async function tablesOf(db: Db): Promise<string[]> {
  const query =
    db.dialect === 'sqlite'
      ? sql<{ name: string }>`select name from sqlite_master
          where type = 'table' and name not like 'sqlite_%' order by name`
      : sql<{ name: string }>`select tablename as name from pg_tables
          where schemaname = current_schema() order by tablename`;
  return (await query.execute(db.kysely)).rows.map((r) => r.name);
}

/** An index as the catalog describes it, independent of its (engine-chosen) name. */
interface IndexShape {
  readonly table: string;
  readonly columns: string;
  readonly unique: boolean;
}

/** Every index of the database, from sqlite_master or pg_indexes, sorted. */
async function indexesOf(db: Db): Promise<IndexShape[]> {
  const found: IndexShape[] = [];
  if (db.dialect === 'sqlite') {
    const { rows } = await sql<{ name: string; table: string }>`
      select name, tbl_name as "table" from sqlite_master where type = 'index'`.execute(db.kysely);
    for (const { name, table } of rows) {
      const columns = await sql<{ name: string }>`
        select name from pragma_index_info(${name}) order by seqno`.execute(db.kysely);
      const flags = await sql<{ unique: number }>`
        select "unique" from pragma_index_list(${table}) where name = ${name}`.execute(db.kysely);
      found.push({
        table,
        columns: columns.rows.map((c) => c.name).join(','),
        unique: flags.rows[0]?.unique === 1,
      });
    }
    // An INTEGER PRIMARY KEY is the rowid itself: unique and indexed, with no index entry.
    for (const table of await tablesOf(db)) {
      const { rows: key } = await sql<{ name: string; type: string }>`
        select name, type from pragma_table_info(${table}) where pk > 0`.execute(db.kysely);
      if (key.length === 1 && key[0]!.type.toUpperCase() === 'INTEGER') {
        found.push({ table, columns: key[0]!.name, unique: true });
      }
    }
  } else {
    const { rows } = await sql<{ table: string; def: string }>`
      select tablename as "table", indexdef as def from pg_indexes
      where schemaname = current_schema()`.execute(db.kysely);
    for (const { table, def } of rows) {
      const columns = /\(([^)]*)\)\s*$/.exec(def)?.[1] ?? def;
      found.push({
        table,
        columns: columns.replace(/\s+/g, '').replace(/"/g, ''),
        unique: /^CREATE UNIQUE INDEX/i.test(def),
      });
    }
  }
  return found.sort((a, b) => `${a.table}:${a.columns}`.localeCompare(`${b.table}:${b.columns}`));
}

/** Tables with their columns and types, plus every index: what "the schema" means here. */
async function schemaSnapshot(db: Db): Promise<unknown> {
  const columns: Record<string, string[]> = {};
  for (const table of await tablesOf(db)) {
    const query =
      db.dialect === 'sqlite'
        ? sql<{ name: string; type: string }>`
            select name, type from pragma_table_info(${table}) order by cid`
        : sql<{ name: string; type: string }>`
            select column_name as name, data_type as type from information_schema.columns
            where table_schema = current_schema() and table_name = ${table}
            order by ordinal_position`;
    columns[table] = (await query.execute(db.kysely)).rows.map((c) => `${c.name} ${c.type}`);
  }
  return { columns, indexes: await indexesOf(db) };
}

/** Names recorded in schema_migrations, or none when the table does not exist. */
async function appliedMigrations(db: Db): Promise<string[]> {
  if (!(await tablesOf(db)).includes('schema_migrations')) return [];
  const { rows } = await sql<{ name: string }>`
    select name from schema_migrations order by name`.execute(db.kysely);
  return rows.map((r) => r.name);
}

/** A migration that creates a table and then fails. */
function brokenMigration(table: string): Migration {
  return {
    async up(kysely) {
      await kysely.schema.createTable(table).addColumn('id', 'text').execute();
      await sql`this is not sql at all`.execute(kysely);
    },
  };
}

function environment(vms: number, rules: number, seed = ''): CloudEnvironment {
  return {
    vms: Array.from({ length: vms }, (_, i) => ({
      vm_id: `vm-${seed}${String(i)}` as VmId,
      name: `host ${String(i)} ✓`,
      tags: [`t${String(i % 3)}`],
    })),
    fw_rules: Array.from({ length: rules }, (_, i) => ({
      fw_id: `fw-${seed}${String(i)}` as FwId,
      source_tag: `t${String(i % 3)}`,
      dest_tag: `t${String((i + 1) % 3)}`,
    })),
  };
}

/** The values observation data must survive unchanged, on both engines. */
const JSON_VALUES: readonly unknown[] = [
  { banner: 'SSH-2.0-OpenSSH_9.6', ports: [22, 443], tls: { alpn: ['h2', 'http/1.1'] } },
  { deep: { deeper: { deepest: [1, { x: null, y: [true, false] }] } }, empty: {}, none: [] },
  [1, 'two', { three: 3 }, [], {}],
  [],
  {},
  'ok',
  '"ok"',
  '{"looks":"like an object"}',
  '[1,2]',
  '42',
  '',
  42,
  0,
  -17.25,
  1.5e300,
  Number.MAX_SAFE_INTEGER,
  true,
  false,
  null,
  'Zürich — 東京 — Москва — العربية — עברית — 🔥🛡️ — e\u0301 — \u00a0',
  { ключ: 'значение', '🔑': '🔒', 'a"b\\c': 'line1\nline2\t"quoted"' },
  // A binary banner and a string cut in the middle of a surrogate pair: jsonb refused both.
  'SMB\u0000\u0001\u00ff',
  { '\u0000key': 'cut 🔥'.slice(0, 5) },
];

for (const engine of engines()) {
  describe(`storage on ${engine.name}: migrations`, () => {
    const s = scratchPerTest(engine, false);

    it('applies every migration to a fresh database and nothing on a second run', async () => {
      const first = await migrate(s.db);
      assert.deepEqual(first, { applied: ALL_MIGRATIONS, total: ALL_MIGRATIONS.length });
      const second = await migrate(s.db);
      assert.deepEqual(second, { applied: [], total: ALL_MIGRATIONS.length });
      assert.deepEqual(await appliedMigrations(s.db), ALL_MIGRATIONS);
    });

    it('creates every table and the indexes the queries need', async () => {
      await migrate(s.db);
      const tables = await tablesOf(s.db);
      for (const table of [...APP_TABLES, 'schema_migrations']) {
        assert.ok(tables.includes(table), `table ${table} exists (have ${tables.join(', ')})`);
      }
      const indexes = await indexesOf(s.db);
      const has = (table: string, columns: string, unique = false): void => {
        assert.ok(
          indexes.some((i) => i.table === table && i.columns === columns && i.unique === unique),
          `${unique ? 'unique ' : ''}index on ${table}(${columns}); have ${JSON.stringify(indexes)}`,
        );
      };
      has('organizations', 'id', true);
      has('organizations', 'name', true);
      has('assets', 'id', true);
      has('assets', 'kind,key', true);
      has('assets', 'org_id');
      has('assets', 'last_seen');
      has('observations', 'id', true);
      has('observations', 'asset_id,observed_at');
      has('cloud_environments', 'version', true);
      has('jobs', 'id', true);
      has('jobs', 'queue,state,priority,seq');
      has('jobs', 'state,lease_until');
      has('jobs', 'worker_id');
      has('jobs', 'queue,started_at');
      has('jobs', 'state,finished_at');
      has('workers', 'id', true);
      has('imports', 'org_id,sha256', true);
      has('scans', 'org_id,created_at');
    });

    it('a failing migration leaves the schema exactly as it was and names itself', async () => {
      await migrate(s.db);
      const before = await schemaSnapshot(s.db);
      await assert.rejects(
        migrate(s.db, { '0099_broken': brokenMigration('half_done') }),
        (error: unknown) => {
          assert.ok(error instanceof MigrationError, `a MigrationError, got ${String(error)}`);
          assert.match(error.message, /0099_broken/);
          return true;
        },
      );
      assert.ok(!(await tablesOf(s.db)).includes('half_done'));
      assert.deepEqual(await schemaSnapshot(s.db), before);
      assert.deepEqual(await appliedMigrations(s.db), ALL_MIGRATIONS);
    });

    it('a failing migration undoes every migration of the same run', async () => {
      const good: Migration = {
        async up(kysely) {
          await kysely.schema.createTable('good_one').addColumn('id', 'text').execute();
        },
      };
      await assert.rejects(
        migrate(s.db, { '0098_good': good, '0099_broken': brokenMigration('half_done') }),
        (error: unknown) =>
          error instanceof MigrationError && error.message.includes('0099_broken'),
      );
      const tables = await tablesOf(s.db);
      for (const table of [...APP_TABLES, 'good_one', 'half_done']) {
        assert.ok(!tables.includes(table), `table ${table} was rolled back`);
      }
      assert.deepEqual(await appliedMigrations(s.db), []);
      // Once the broken migration is gone, the same database migrates normally.
      const report = await migrate(s.db, { '0098_good': good });
      assert.deepEqual(report.applied, [...ALL_MIGRATIONS, '0098_good']);
    });
  });

  describe(`storage on ${engine.name}: organizations`, () => {
    const s = scratchPerTest(engine, true);

    it('creates organizations and lists them by name with their seeds', async () => {
      const repo = new AssetRepository(s.db);
      const seeds = {
        domains: ['example.com', 'bücher.example'],
        cidrs: ['192.0.2.0/24', '2001:db8::/32'],
        asns: [64_496, 4_200_000_000],
        names: ['Example Corp', 'Exämple GmbH'],
      };
      const zeta = await repo.createOrganization('Zeta', seeds, T);
      await repo.createOrganization(
        'Alpha',
        { domains: [], cidrs: [], asns: [], names: [] },
        T + 1,
      );
      await repo.createOrganization('Mu', { domains: [], cidrs: [], asns: [], names: [] }, T + 2);
      const listed = await repo.listOrganizations();
      assert.deepEqual(
        listed.map((o) => o.name),
        ['Alpha', 'Mu', 'Zeta'],
      );
      assert.deepEqual(
        listed.find((o) => o.name === 'Zeta'),
        { id: zeta.id, name: 'Zeta', seeds, created_at: T },
      );
    });

    it('rejects a second organization with the same name as a unique violation', async () => {
      const repo = new AssetRepository(s.db);
      const seeds = { domains: [], cidrs: [], asns: [], names: [] };
      await repo.createOrganization('Acme', seeds, T);
      await assert.rejects(repo.createOrganization('Acme', seeds, T + 1), (error: unknown) => {
        assert.equal(isUniqueViolation(error), true, `unique violation, got ${String(error)}`);
        return true;
      });
      assert.equal((await repo.listOrganizations()).length, 1);
    });
  });

  describe(`storage on ${engine.name}: assets`, () => {
    const s = scratchPerTest(engine, true);

    it('a first sighting creates the asset with first_seen equal to last_seen', async () => {
      const repo = new AssetRepository(s.db);
      const [id] = await repo.upsertAssets([
        { kind: 'ip', key: '192.0.2.10', seenAt: T, provider: 'aws' },
      ]);
      const asset = await repo.findAsset('ip', '192.0.2.10');
      assert.deepEqual(asset, {
        id,
        kind: 'ip',
        key: '192.0.2.10',
        org_id: null,
        provider: 'aws',
        first_seen: T,
        last_seen: T,
      });
    });

    it('a later sighting moves last_seen forward and keeps first_seen and the id', async () => {
      const repo = new AssetRepository(s.db);
      const [first] = await repo.upsertAssets([{ kind: 'domain', key: 'a.example', seenAt: T }]);
      const [again] = await repo.upsertAssets([
        { kind: 'domain', key: 'a.example', seenAt: T + 5_000 },
      ]);
      assert.equal(again, first);
      const asset = await repo.findAsset('domain', 'a.example');
      assert.equal(asset?.first_seen, T);
      assert.equal(asset.last_seen, T + 5_000);
      assert.equal(await repo.countAssets(), 1);
    });

    it('an older sighting moves first_seen back but never last_seen', async () => {
      const repo = new AssetRepository(s.db);
      await repo.upsertAssets([{ kind: 'ip', key: '192.0.2.20', seenAt: T }]);
      await repo.upsertAssets([{ kind: 'ip', key: '192.0.2.20', seenAt: T - 60_000 }]);
      let asset = await repo.findAsset('ip', '192.0.2.20');
      assert.equal(asset?.first_seen, T - 60_000);
      assert.equal(asset.last_seen, T);
      // A sighting in between changes neither end.
      await repo.upsertAssets([{ kind: 'ip', key: '192.0.2.20', seenAt: T - 30_000 }]);
      asset = await repo.findAsset('ip', '192.0.2.20');
      assert.equal(asset?.first_seen, T - 60_000);
      assert.equal(asset.last_seen, T);
    });

    it('sightings of the same kind and key in one batch are merged into one asset', async () => {
      const repo = new AssetRepository(s.db);
      const ids = await repo.upsertAssets([
        { kind: 'ip', key: '192.0.2.30', seenAt: T, provider: 'aws' },
        { kind: 'ip', key: '192.0.2.30', seenAt: T - 1_000 },
        { kind: 'ip', key: '192.0.2.30', seenAt: T + 1_000 },
      ]);
      assert.equal(new Set(ids).size, 1);
      assert.equal(await repo.countAssets(), 1);
      const asset = await repo.findAsset('ip', '192.0.2.30');
      assert.equal(asset?.id, ids[0]);
      assert.equal(asset?.first_seen, T - 1_000);
      assert.equal(asset.last_seen, T + 1_000);
      assert.equal(asset.provider, 'aws');
    });

    it('a sighting without a provider or organization keeps the known ones', async () => {
      const repo = new AssetRepository(s.db);
      const org = await repo.createOrganization(
        'Owner',
        { domains: [], cidrs: [], asns: [], names: [] },
        T,
      );
      await repo.upsertAssets([
        { kind: 'vm', key: 'vm-1', seenAt: T, provider: 'gcp', orgId: org.id },
      ]);
      await repo.upsertAssets([{ kind: 'vm', key: 'vm-1', seenAt: T + 1 }]);
      await repo.upsertAssets([{ kind: 'vm', key: 'vm-1', seenAt: T + 2, provider: null }]);
      const asset = await repo.findAsset('vm', 'vm-1');
      assert.equal(asset?.provider, 'gcp');
      assert.equal(asset.org_id, org.id);
      assert.equal(asset.last_seen, T + 2);
      // A newer sighting with a provider does replace it.
      await repo.upsertAssets([{ kind: 'vm', key: 'vm-1', seenAt: T + 3, provider: 'azure' }]);
      assert.equal((await repo.findAsset('vm', 'vm-1'))?.provider, 'azure');
    });

    it('an older sighting does not replace the provider of a newer one', async () => {
      const repo = new AssetRepository(s.db);
      await repo.upsertAssets([{ kind: 'ip', key: '192.0.2.40', seenAt: T, provider: 'azure' }]);
      await repo.upsertAssets([
        { kind: 'ip', key: '192.0.2.40', seenAt: T - 86_400_000, provider: 'aws' },
      ]);
      const stored = await repo.findAsset('ip', '192.0.2.40');
      assert.equal(stored?.provider, 'azure');
      assert.equal(stored.first_seen, T - 86_400_000);
      // The same two sightings in one batch give the same answer.
      await repo.upsertAssets([
        { kind: 'ip', key: '192.0.2.41', seenAt: T, provider: 'azure' },
        { kind: 'ip', key: '192.0.2.41', seenAt: T - 86_400_000, provider: 'aws' },
      ]);
      assert.equal((await repo.findAsset('ip', '192.0.2.41'))?.provider, 'azure');
    });

    it('returns the ids in input order, repeats and existing assets included', async () => {
      const repo = new AssetRepository(s.db);
      const [existing] = await repo.upsertAssets([{ kind: 'ip', key: '198.51.100.1', seenAt: T }]);
      const batch: AssetSighting[] = [
        { kind: 'domain', key: 'z.example', seenAt: T },
        { kind: 'ip', key: '198.51.100.1', seenAt: T + 1 },
        { kind: 'domain', key: '198.51.100.1', seenAt: T },
        { kind: 'service', key: '198.51.100.1:443/tcp', seenAt: T },
        { kind: 'domain', key: 'z.example', seenAt: T + 2 },
        { kind: 'certificate', key: 'ab'.repeat(32), seenAt: T },
      ];
      const ids = await repo.upsertAssets(batch);
      assert.equal(ids.length, batch.length);
      for (const [i, sighting] of batch.entries()) {
        const asset = await repo.findAsset(sighting.kind, sighting.key);
        assert.equal(ids[i], asset?.id, `id of sighting ${String(i)}`);
      }
      assert.equal(ids[1], existing);
      assert.equal(ids[0], ids[4]);
      assert.notEqual(ids[1], ids[2], 'same key, different kind: different assets');
      assert.equal(new Set(ids).size, 5);
      assert.deepEqual(await repo.upsertAssets([]), []);
    });

    it('upserts a batch larger than one statement (above 500 rows)', async () => {
      const repo = new AssetRepository(s.db);
      const key = (i: number): string => `10.1.${String(i >> 8)}.${String(i & 255)}`;
      // Some of the batch exists already, in the first and in a later chunk.
      const [early, late] = await repo.upsertAssets([
        { kind: 'ip', key: key(3), seenAt: T - 10 },
        { kind: 'ip', key: key(1_100), seenAt: T + 10 },
      ]);
      const batch = Array.from({ length: 1_234 }, (_, i) => ({
        kind: 'ip' as const,
        key: key(i),
        seenAt: T + i,
      }));
      const ids = await repo.upsertAssets(batch);
      assert.equal(ids.length, 1_234);
      assert.equal(new Set(ids).size, 1_234);
      assert.equal(ids[3], early);
      assert.equal(ids[1_100], late);
      assert.equal(await repo.countAssets('ip'), 1_234);
      for (const i of [0, 499, 500, 501, 999, 1_000, 1_233]) {
        const asset = await repo.findAsset('ip', key(i));
        assert.equal(asset?.id, ids[i]);
        assert.equal(asset?.last_seen, T + i);
      }
      assert.equal((await repo.findAsset('ip', key(3)))?.first_seen, T - 10);
      assert.equal((await repo.findAsset('ip', key(1_100)))?.last_seen, T + 1_100);
    });

    it('upserts 5,000 sightings in one batch, and again as updates', async () => {
      const repo = new AssetRepository(s.db);
      const batch = (at: number): AssetSighting[] =>
        Array.from({ length: 5_000 }, (_, i) => ({
          kind: 'domain' as const,
          key: `host-${String(i)}.example`,
          seenAt: at,
          provider: i % 2 === 0 ? 'cloudflare' : null,
        }));
      const ids = await repo.upsertAssets(batch(T));
      assert.equal(new Set(ids).size, 5_000);
      const again = await repo.upsertAssets(batch(T + 1_000));
      assert.deepEqual(again, ids);
      assert.equal(await repo.countAssets(), 5_000);
      const last = await repo.findAsset('domain', 'host-4999.example');
      assert.equal(last?.id, ids[4_999]);
      assert.equal(last?.first_seen, T);
      assert.equal(last.last_seen, T + 1_000);
      assert.equal((await repo.findAsset('domain', 'host-4998.example'))?.provider, 'cloudflare');
    });

    it('allows one asset per kind and key', async () => {
      const repo = new AssetRepository(s.db);
      await repo.upsertAssets([{ kind: 'ip', key: '203.0.113.7', seenAt: T }]);
      const row = {
        id: 'another-id',
        kind: 'ip' as const,
        key: '203.0.113.7',
        org_id: null,
        provider: null,
        first_seen: T,
        last_seen: T,
      };
      await assert.rejects(
        s.db.kysely.insertInto('assets').values(row).execute(),
        (error: unknown) => isUniqueViolation(error),
      );
      await s.db.kysely
        .insertInto('assets')
        .values({ ...row, kind: 'domain' })
        .execute();
      assert.equal(await repo.countAssets(), 2);
    });
  });

  describe(`storage on ${engine.name}: observations and JSON columns`, () => {
    const s = scratchPerTest(engine, true);

    it('recording the same observation ids twice writes them once', async () => {
      const repo = new AssetRepository(s.db);
      const [assetId] = await repo.upsertAssets([{ kind: 'ip', key: '192.0.2.50', seenAt: T }]);
      const observations = Array.from({ length: 1_200 }, (_, i) => ({
        id: `obs-${String(i)}`,
        assetId: assetId!,
        source: 'scan' as const,
        data: { port: i },
        observedAt: T + i,
      }));
      assert.equal(await repo.recordObservations(observations), 1_200);
      const changed = observations.map((o) => ({ ...o, data: { port: -1 } }));
      assert.equal(await repo.recordObservations(changed), 0);
      assert.equal(await repo.countObservations(assetId), 1_200);
      const stored = await repo.observationsOf(assetId!);
      assert.deepEqual(stored[7], {
        id: 'obs-7',
        source: 'scan',
        data: { port: 7 },
        observed_at: T + 7,
      });
    });

    it('observation data comes back decoded exactly as it was written', async () => {
      const repo = new AssetRepository(s.db);
      const [assetId] = await repo.upsertAssets([{ kind: 'ip', key: '192.0.2.60', seenAt: T }]);
      await repo.recordObservations(
        JSON_VALUES.map((data, i) => ({
          id: `v${String(i).padStart(2, '0')}`,
          assetId: assetId!,
          source: 'import' as const,
          data,
          observedAt: T + i,
        })),
      );
      const stored = await repo.observationsOf(assetId!);
      assert.equal(stored.length, JSON_VALUES.length);
      for (const [i, value] of JSON_VALUES.entries()) {
        assert.deepStrictEqual(stored[i]?.data, value, `value ${String(i)}`);
        assert.equal(stored[i]?.observed_at, T + i);
      }
    });

    it('JSON columns hand back JSON text, so a JSON string is not taken for a document', async () => {
      const repo = new AssetRepository(s.db);
      const [assetId] = await repo.upsertAssets([{ kind: 'ip', key: '192.0.2.70', seenAt: T }]);
      // Keys in an order jsonb would change (it sorts them by length, then bytes).
      const nested = { zz: { b: { c: ['ok', { d: 1.25 }] } }, a: 1, b: 2 };
      await repo.recordObservations([
        { id: 'str', assetId: assetId!, source: 'rdap', data: 'ok', observedAt: T },
        { id: 'obj', assetId: assetId!, source: 'rdap', data: nested, observedAt: T + 1 },
      ]);
      const raw = await s.db.kysely
        .selectFrom('observations')
        .select(['id', 'data'])
        .orderBy('id')
        .execute();
      assert.deepEqual(
        raw.map((r) => [r.id, typeof r.data]),
        [
          ['obj', 'string'],
          ['str', 'string'],
        ],
      );
      assert.equal(raw[1]?.data, '"ok"');
      assert.equal(raw[0]?.data, JSON.stringify(nested));
      const decoded = await repo.observationsOf(assetId!);
      assert.deepEqual(
        decoded.map((o) => o.data),
        ['ok', nested],
      );
    });

    it('an observation without data is stored as JSON null', async () => {
      const repo = new AssetRepository(s.db);
      const [assetId] = await repo.upsertAssets([{ kind: 'ip', key: '192.0.2.80', seenAt: T }]);
      await repo.recordObservations([
        { id: 'none', assetId: assetId!, source: 'scan', data: undefined, observedAt: T },
      ]);
      assert.deepEqual(
        (await repo.observationsOf(assetId!)).map((o) => o.data),
        [null],
      );
    });

    it('epoch-millisecond and count columns come back as JavaScript numbers', async () => {
      const repo = new AssetRepository(s.db);
      const far = 8_640_000_000_000_000; // the last instant a Date can hold
      const org = await repo.createOrganization(
        'Clock',
        { domains: [], cidrs: [], asns: [], names: [] },
        T,
      );
      const [assetId] = await repo.upsertAssets([
        { kind: 'ip', key: '192.0.2.90', seenAt: T, orgId: org.id },
      ]);
      await repo.upsertAssets([{ kind: 'ip', key: '192.0.2.90', seenAt: far }]);
      await repo.recordObservations([
        { id: 'o', assetId: assetId!, source: 'ct', data: {}, observedAt: T },
      ]);
      const asset = await repo.findAsset('ip', '192.0.2.90');
      assert.strictEqual(asset?.first_seen, T);
      assert.strictEqual(asset.last_seen, far);
      assert.strictEqual((await repo.listOrganizations())[0]?.created_at, T);
      assert.strictEqual((await repo.observationsOf(assetId!))[0]?.observed_at, T);
      assert.strictEqual(await repo.countAssets(), 1);
      assert.strictEqual(await repo.countObservations(), 1);
      const raw = await s.db.kysely
        .selectFrom('assets')
        .select(['first_seen', 'last_seen'])
        .executeTakeFirstOrThrow();
      assert.deepStrictEqual(raw, { first_seen: T, last_seen: far });
    });
  });

  describe(`storage on ${engine.name}: stored cloud environments`, () => {
    const s = scratchPerTest(engine, true);

    it('saving twice stores versions 1 and 2 with their hash and counts', async () => {
      const repo = new EnvironmentRepository(s.db);
      assert.equal(await repo.latestVersion(), 0);
      const one = await repo.save(environment(3, 2), T);
      const two = await repo.save(environment(5, 4), T + 1);
      const sha = (env: CloudEnvironment): string =>
        createHash('sha256')
          .update(JSON.stringify({ vms: env.vms, fw_rules: env.fw_rules }))
          .digest('hex');
      assert.deepStrictEqual(one, {
        version: 1,
        sha256: sha(environment(3, 2)),
        vm_count: 3,
        rule_count: 2,
        created_at: T,
      });
      assert.deepStrictEqual(two, {
        version: 2,
        sha256: sha(environment(5, 4)),
        vm_count: 5,
        rule_count: 4,
        created_at: T + 1,
      });
      assert.equal(await repo.latestVersion(), 2);
    });

    it('document() returns the canonical JSON of a stored version', async () => {
      const repo = new EnvironmentRepository(s.db);
      const env = environment(2, 1);
      // Key order of the input does not matter: vms come first, then fw_rules.
      const reordered = { fw_rules: env.fw_rules, vms: env.vms };
      const info = await repo.save(reordered, T);
      const text = await repo.document(info.version);
      assert.equal(text, JSON.stringify({ vms: env.vms, fw_rules: env.fw_rules }));
      assert.equal(createHash('sha256').update(text).digest('hex'), info.sha256);
      assert.equal(await repo.document(99), undefined);
    });

    it('list() returns the stored versions newest first', async () => {
      const repo = new EnvironmentRepository(s.db);
      for (let i = 1; i <= 4; i++) await repo.save(environment(i, i), T + i);
      const listed = await repo.list();
      assert.deepEqual(
        listed.map((v) => [v.version, v.vm_count, v.created_at]),
        [
          [4, 4, T + 4],
          [3, 3, T + 3],
          [2, 2, T + 2],
          [1, 1, T + 1],
        ],
      );
      assert.deepEqual(
        (await repo.list(2)).map((v) => v.version),
        [4, 3],
      );
    });

    it('eight concurrent saves all succeed with versions 1 to 8', async () => {
      const repo = new EnvironmentRepository(s.db);
      const saved = await Promise.all(
        Array.from({ length: 8 }, (_, i) => repo.save(environment(2, 1, `c${String(i)}`), T)),
      );
      assert.deepEqual(
        saved.map((v) => v.version).sort((a, b) => a - b),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
      const stored = await repo.list();
      assert.equal(stored.length, 8);
      // Each version holds the document its save reported.
      for (const info of saved) {
        const text = await repo.document(info.version);
        assert.equal(createHash('sha256').update(String(text)).digest('hex'), info.sha256);
      }
    });

    it('more concurrent saves than a retry budget would allow all succeed', async () => {
      const repo = new EnvironmentRepository(s.db);
      const saved = await Promise.all(
        Array.from({ length: 30 }, (_, i) => repo.save(environment(1, 1, `r${String(i)}`), T)),
      );
      assert.deepEqual(
        saved.map((v) => v.version).sort((a, b) => a - b),
        Array.from({ length: 30 }, (_, i) => i + 1),
      );
      assert.equal(await repo.latestVersion(), 30);
    });
  });

  describe(`storage on ${engine.name}: the assets.ingest job`, () => {
    const s = scratchPerTest(engine, true);

    it('run twice with the same job id, it writes each observation once', async () => {
      const assets = new AssetRepository(s.db);
      const capabilities = loadScanCapabilities(
        s.db,
        loadScanData({ policies: [], fingerprints: [] }),
      );
      const cpu: CpuPool = {
        threads: 0,
        run: () => Promise.reject(new Error('assets.ingest needs no CPU pool')),
        close: () => Promise.resolve(),
      };
      const context = (jobId: string, attempt: number): JobContext => ({
        jobId,
        attempt,
        signal: new AbortController().signal,
        assets,
        cpu,
        now: () => T,
        db: s.db,
        scans: createScanService(
          s.db,
          assets,
          { scanMaxRate: 1, scanDefaultRate: 1, scanMaxHosts: 1 },
          capabilities,
        ),
        enqueue: () => Promise.reject(new Error('assets.ingest enqueues nothing')),
      });
      const payload = {
        assets: [
          { kind: 'ip' as const, key: '192.0.2.100', provider: 'aws', data: { port: 22 } },
          { kind: 'domain' as const, key: 'b.example', seen_at: T - 5, source: 'ct' as const },
          { kind: 'ip' as const, key: '192.0.2.100', data: 'banner' },
        ],
      };
      const first = await ingestJob.run(payload, context('job-1', 1));
      const second = await ingestJob.run(payload, context('job-1', 2));
      assert.deepEqual(first, { assets: 3, observations_written: 3 });
      assert.deepEqual(second, { assets: 3, observations_written: 0 });
      assert.equal(await assets.countAssets(), 2);
      assert.equal(await assets.countObservations(), 3);
      const ip = await assets.findAsset('ip', '192.0.2.100');
      assert.equal(ip?.provider, 'aws');
      assert.deepEqual(
        (await assets.observationsOf(ip.id)).map((o) => [o.id, o.source, o.data]),
        [
          ['job-1#0', 'import', { port: 22 }],
          ['job-1#2', 'import', 'banner'],
        ],
      );
      // Another job with the same sightings is another set of observations.
      await ingestJob.run(payload, context('job-2', 1));
      assert.equal(await assets.countObservations(), 6);
    });
  });
}

describe('storage: connecting', () => {
  it('a PostgreSQL port where nothing listens fails fast, naming the URL', async () => {
    const started = Date.now();
    await assert.rejects(connectDatabase('postgres://postgres@127.0.0.1:1/x'), (error: unknown) => {
      assert.ok(error instanceof DatabaseUnavailableError, `got ${String(error)}`);
      assert.match(error.message, /postgres:\/\/postgres@127\.0\.0\.1:1\/x/);
      return true;
    });
    assert.ok(Date.now() - started < 5_000, `failed after ${String(Date.now() - started)} ms`);
  });

  it('a SQLite path in an unwritable place gives DatabaseUnavailableError', async () => {
    await assert.rejects(connectDatabase('sqlite:/proc/x/y.db'), (error: unknown) => {
      assert.ok(error instanceof DatabaseUnavailableError, `got ${String(error)}`);
      assert.match(error.message, /\/proc\/x\/y\.db/);
      return true;
    });
  });

  it('a password in the URL never appears in the error message', async () => {
    const cases = [
      { url: 'postgres://postgres:s3cret-pw@127.0.0.1:1/x', secret: 's3cret-pw' },
      { url: 'postgresql://postgres:p%40ss%2Fw0rd@127.0.0.1:1/x', secret: 'w0rd' },
      { url: 'postgres://postgres:hun@ter42@127.0.0.1:1/x', secret: 'ter42' },
      { url: 'postgres://postgres:sl/ash9z@127.0.0.1:1/x', secret: 'ash9z' },
      { url: 'postgres://postgres@127.0.0.1:1/x?password=qu3ry-pw', secret: 'qu3ry-pw' },
    ];
    for (const { url, secret } of cases) {
      await assert.rejects(connectDatabase(url, { connectTimeoutMs: 2_000 }), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.ok(!error.message.includes(secret), `${secret} shown in: ${error.message}`);
        assert.ok(!String(error.stack).includes(secret), `${secret} shown in the stack`);
        return true;
      });
    }
  });
});
