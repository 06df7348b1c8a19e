/**
 * Keyset paging of the inventory lists (services, assets): most recently seen first, with an
 * opaque cursor holding the (last_seen, id) of the last row handed out, and a total.
 */
import {
  sql,
  type RawBuilder,
  type Selectable,
  type SelectQueryBuilder,
  type SqlBool,
} from 'kysely';
import type { Database } from '#src/storage/schema.js';

/** A malformed paging cursor. */
export class CursorError extends Error {}

/** Opaque cursor text of a keyset position. */
export function encodeCursor(position: readonly [number, string]): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** The keyset position in a cursor; throws CursorError when it is not one of ours. */
export function decodeCursor(cursor: string): [number, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') {
      return [value[0], value[1]];
    }
  } catch {
    // fall through
  }
  throw new CursorError('the cursor is not one this API handed out');
}

/** Tables listed by last_seen, id (both have those columns and an index on them). */
type LastSeenTable = 'services' | 'assets';

/** One page of a list, the cursor of the next (null on the last) and the number matching. */
export interface LastSeenPage<T> {
  items: T[];
  nextCursor: string | null;
  total: number;
}

/**
 * One page of `base` (a filtered select of services or assets), newest last_seen first, ties
 * by id, starting after `page.cursor`. Throws CursorError for a cursor it did not hand out.
 */
export async function pageByLastSeen<
  TB extends LastSeenTable,
  T extends { readonly lastSeen: number; readonly id: string },
>(
  base: SelectQueryBuilder<Database, TB, object>,
  page: { readonly limit: number; readonly cursor?: string | undefined },
  toItem: (row: Selectable<Database[TB]>) => T,
): Promise<LastSeenPage<T>> {
  const total = await base
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  const rows = await base
    .selectAll()
    .$if(after !== undefined, (q) => q.where(before(after!)))
    .orderBy('last_seen', 'desc')
    .orderBy('id', 'desc')
    // One row more than asked tells whether another page exists without a second query.
    .limit(page.limit + 1)
    .execute();
  // selectAll of one table is its Selectable row; TypeScript cannot see that for a generic TB.
  const items = (rows as unknown as Selectable<Database[TB]>[]).slice(0, page.limit).map(toItem);
  const last = items.at(-1);
  return {
    items,
    nextCursor:
      rows.length > page.limit && last !== undefined
        ? encodeCursor([last.lastSeen, last.id])
        : null,
    total: total.n,
  };
}

/**
 * (last_seen, id) < position, written out as an OR: the same predicate the two lists had, as
 * raw SQL because Kysely cannot type a column comparison over a generic table.
 */
function before(position: readonly [number, string]): RawBuilder<SqlBool> {
  const [lastSeen, id] = position;
  return sql<SqlBool>`(${sql.ref('last_seen')} < ${lastSeen} or (${sql.ref('last_seen')} = ${lastSeen} and ${sql.ref('id')} < ${id}))`;
}
