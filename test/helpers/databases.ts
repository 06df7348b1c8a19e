/**
 * The engines the storage and queue suites run against: SQLite always, PostgreSQL when
 * SURFACESCAN_TEST_POSTGRES_URL is set (.ci/run sets it). Each test gets its own database, so
 * suites can run in parallel and leave nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The admin URL of the test PostgreSQL server, if any. */
export const POSTGRES_URL = process.env.SURFACESCAN_TEST_POSTGRES_URL;
/** The test Redis, if any. */
export const REDIS_URL = process.env.SURFACESCAN_TEST_REDIS_URL;

/** A fresh, empty database and how to get rid of it. */
export interface ScratchDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/** An engine a suite can run on. */
export interface Engine {
  readonly name: 'sqlite' | 'postgres';
  create(): Promise<ScratchDatabase>;
}

/** A fresh SQLite file in a temp dir. */
export function scratchSqlite(): Promise<ScratchDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'surfacescan-db-'));
  return Promise.resolve({
    url: `sqlite:${join(dir, 'test.db')}`,
    drop: () => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  });
}

/** A fresh PostgreSQL database on the test server. */
export async function scratchPostgres(adminUrl: string): Promise<ScratchDatabase> {
  const name = `surfacescan_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** SQLite, plus PostgreSQL when configured. */
export function engines(): Engine[] {
  const list: Engine[] = [{ name: 'sqlite', create: scratchSqlite }];
  const url = POSTGRES_URL;
  if (url !== undefined && url !== '') {
    list.push({ name: 'postgres', create: () => scratchPostgres(url) });
  }
  return list;
}
