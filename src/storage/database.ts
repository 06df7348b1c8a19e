/**
 * The Kysely database factory: one query layer over embedded SQLite (better-sqlite3) and
 * PostgreSQL (pg). Every dialect difference the queries meet is in this file and dialect.ts.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import {
  Kysely,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  sql,
  type DialectAdapter,
} from 'kysely';
import { parseDatabaseUrl, redactUrl } from '#src/storage/database-url.js';
import type { Database } from '#src/storage/schema.js';
import { StartupError } from '#src/startup-error.js';

/** Which engine a Db runs on. */
export type DialectName = 'sqlite' | 'postgres';

/** An open database. */
export interface Db {
  readonly kysely: Kysely<Database>;
  readonly dialect: DialectName;
  /** The URL with any password hidden, for messages. */
  readonly label: string;
  /** Resolves when the engine answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The database cannot be reached or opened. */
export class DatabaseUnavailableError extends StartupError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

// SQLite runs DDL inside transactions perfectly well; Kysely's adapter says it cannot, which
// would make a failed migration leave half a schema behind.
class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}
class TransactionalSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalSqliteAdapter();
  }
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;
const JSON_OID = 114;
const JSONB_OID = 3802;
// pg's own parsers, called with any OID (its typings only admit the TypeId enum).
const builtinParser = (oid: number, format: 'text' | 'binary'): unknown =>
  (pg.types.getTypeParser as (oid: number, format: 'text' | 'binary') => unknown)(oid, format);

/** Options for tests and tools. */
export interface OpenOptions {
  /** PostgreSQL pool size (default 10). */
  readonly poolSize?: number;
  /** How long to wait for a PostgreSQL connection before failing (default 5000 ms). */
  readonly connectTimeoutMs?: number;
  /** Called for errors of idle pooled connections (a restarted server, say). */
  readonly onIdleError?: (error: Error) => void;
}

/** Opens (without querying) the database the URL names; throws on a bad URL. */
export function openDatabase(url: string, options: OpenOptions = {}): Db {
  const target = parseDatabaseUrl(url);
  if ('problem' in target) throw new Error(`database URL ${target.problem}`);
  const label = redactUrl(url);
  if (target.dialect === 'sqlite') {
    let native: SqliteDatabase.Database;
    try {
      if (target.path !== ':memory:') makeDirectories(dirname(target.path));
      native = new SqliteDatabase(target.path);
      // WAL: readers never block the writer; NORMAL sync is durable across process crashes
      // (not power loss), which is the usual trade for an embedded server database.
      native.pragma('journal_mode = WAL');
      native.pragma('synchronous = NORMAL');
      native.pragma('busy_timeout = 10000');
      native.pragma('foreign_keys = ON');
    } catch (error) {
      throw new DatabaseUnavailableError(
        `cannot open SQLite database ${target.path}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const kysely = new Kysely<Database>({
      dialect: new TransactionalSqliteDialect({ database: native }),
    });
    return {
      kysely,
      dialect: 'sqlite',
      label,
      ping: () => Promise.resolve(),
      close: () => kysely.destroy(),
    };
  }
  const pool = new pg.Pool({
    connectionString: target.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    // Counts and epoch-millisecond times are int8: JavaScript numbers hold them exactly.
    // JSON columns come back as text, as on SQLite, so `fromJson` has one meaning on both
    // engines (a parsed JSON string "ok" would be indistinguishable from JSON text).
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
        if (oid === INT8_OID || oid === NUMERIC_OID) return Number;
        if (oid === JSON_OID || oid === JSONB_OID) return (text: string) => text;
        return builtinParser(oid, format ?? 'text');
      }) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client whose server went away emits 'error'; unhandled, it would kill the process.
  pool.on('error', (error) => options.onIdleError?.(error));
  // The pool listens only while a client is idle. A checked-out client whose server goes away
  // (pg_ctl stop, a failover) emits 'error' too: on a socket error even while its query runs,
  // or when the server ends the session inside a transaction. Unhandled, that kills the process.
  // Its queries fail with the error anyway, and the pool drops a broken client on release.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    kysely,
    dialect: 'postgres',
    label,
    ping: async () => {
      await sql`select 1`.execute(kysely);
    },
    close: () => kysely.destroy(),
  };
}

/**
 * Creates a folder and its missing parents. Not `mkdirSync(dir, { recursive: true })`: Node 20's
 * recursive mkdir spins forever where mkdir says ENOENT under an existing parent (/proc/x).
 */
function makeDirectories(dir: string): void {
  const missing: string[] = [];
  for (let current = resolve(dir); !existsSync(current); current = dirname(current)) {
    missing.push(current);
    if (dirname(current) === current) break;
  }
  for (const folder of missing.reverse()) {
    try {
      mkdirSync(folder);
    } catch (error) {
      // Another process may have made it meanwhile.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** Opens the database and checks that it answers; a clear DatabaseUnavailableError if not. */
export async function connectDatabase(url: string, options: OpenOptions = {}): Promise<Db> {
  const db = openDatabase(url, options);
  try {
    await db.ping();
  } catch (error) {
    await db.close().catch(() => undefined);
    throw new DatabaseUnavailableError(
      `cannot reach the database at ${db.label}: ${describeError(error)}`,
      { cause: error },
    );
  }
  return db;
}

/** A one-line description of a driver error (AggregateError from net has an empty message). */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return describeError(error.errors[0]);
  }
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = error.message !== '' ? error.message : (code ?? error.name);
    return code !== undefined && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(error);
}
