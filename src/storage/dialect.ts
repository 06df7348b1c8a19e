/**
 * Dialect differences the queries need, in one place: JSON columns, greatest/least, and the
 * connection errors that mean "the database is down" rather than "the query is wrong".
 */
import { sql, type Expression, type RawBuilder } from 'kysely';
import type { DialectName } from '#src/storage/database.js';

/**
 * Encodes a value for a JSON column (json on PostgreSQL, TEXT on SQLite). Values JSON has no
 * text for (undefined, functions, symbols) are stored as null rather than as a missing column.
 */
export function toJson(value: unknown): string {
  const unrepresentable =
    value === undefined || typeof value === 'function' || typeof value === 'symbol';
  return unrepresentable ? 'null' : JSON.stringify(value);
}

/** Decodes a JSON column (both engines return its text: see the pg type parsers). */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names what it stored
export function fromJson<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/** The larger of two values: max(a, b) on SQLite, greatest(a, b) on PostgreSQL. */
export function greatest<T>(
  dialect: DialectName,
  a: Expression<T>,
  b: Expression<T>,
): RawBuilder<T> {
  return dialect === 'sqlite' ? sql<T>`max(${a}, ${b})` : sql<T>`greatest(${a}, ${b})`;
}

/** The smaller of two values. */
export function least<T>(dialect: DialectName, a: Expression<T>, b: Expression<T>): RawBuilder<T> {
  return dialect === 'sqlite' ? sql<T>`min(${a}, ${b})` : sql<T>`least(${a}, ${b})`;
}

/**
 * The column type for JSON documents in DDL. PostgreSQL's `json`, not `jsonb`: jsonb refuses
 * what SQLite and JavaScript accept (a NUL character, a lone surrogate: both occur in scanned
 * banners) and reorders keys, so the same data would fail or read back differently per engine.
 */
export function jsonType(dialect: DialectName): 'json' | 'text' {
  return dialect === 'postgres' ? 'json' : 'text';
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  // PostgreSQL: admin_shutdown, crash_shutdown, cannot_connect_now, connection_* classes.
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
]);

/** True when an error means a backing service (database or Redis) is unreachable. */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof AggregateError) return error.errors.some(isConnectionError);
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && CONNECTION_CODES.has(code)) return true;
  // "Command aborted due to connection close": ioredis rejects the unanswered rest of a pipeline
  // (BullMQ's addBulk) whose connection closed half-way.
  return /Connection terminated|connection timeout|Connection is closed|Stream isn't writeable|timeout exceeded when trying to connect|Client has encountered a connection error|ECONNREFUSED|MaxRetriesPerRequestError|Reached the max retries|Command aborted due to connection close/i.test(
    error.message,
  );
}

/** True for a primary-key or unique violation on either engine. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    code === '23505' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
}
