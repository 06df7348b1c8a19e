/**
 * SQL for facts. A fact's id is its content key, so importing it again only widens its
 * first_seen/last_seen window; an import is one transaction, so it lands whole or not at all.
 */
import type { Db } from '#src/storage/database.js';
import { fromJson, greatest, least } from '#src/storage/dialect.js';
import { canonicalJson, contentKey, type Fact } from '#src/attribution/facts.model.js';

/** A stored fact. */
export type StoredFact = Fact & { readonly id: string; readonly firstSeen: number };

/** What an import did. */
export interface ImportReport {
  /** Facts in the input. */
  readonly received: number;
  /** New rows. */
  readonly added: number;
  /** Facts that were known: only their seen window moved. */
  readonly updated: number;
}

// Both engines cap bound parameters per statement; 7 columns per row.
const ROWS_PER_STATEMENT = 1000;

/** Facts on one database. */
export class FactRepository {
  constructor(private readonly db: Db) {}

  /** Stores facts in one transaction (all or nothing). */
  async importFacts(facts: readonly Fact[]): Promise<ImportReport> {
    const rows = new Map<string, { fact: Fact; first: number; last: number }>();
    for (const fact of facts) {
      const id = contentKey(fact);
      const seen = rows.get(id);
      if (seen === undefined) rows.set(id, { fact, first: fact.seenAt, last: fact.seenAt });
      else {
        seen.first = Math.min(seen.first, fact.seenAt);
        seen.last = Math.max(seen.last, fact.seenAt);
      }
    }
    const entries = [...rows.entries()];
    const dialect = this.db.dialect;
    let existing = 0;
    await this.db.kysely.transaction().execute(async (trx) => {
      for (let i = 0; i < entries.length; i += ROWS_PER_STATEMENT) {
        const chunk = entries.slice(i, i + ROWS_PER_STATEMENT);
        const found = await trx
          .selectFrom('facts')
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .where(
            'id',
            'in',
            chunk.map(([id]) => id),
          )
          .executeTakeFirstOrThrow();
        existing += Number(found.n);
        await trx
          .insertInto('facts')
          .values(
            chunk.map(([id, { fact, first, last }]) => ({
              id,
              kind: fact.kind,
              subject: fact.subject,
              value: canonicalJson(fact.value),
              source: fact.source,
              first_seen: first,
              last_seen: last,
            })),
          )
          .onConflict((oc) =>
            oc.column('id').doUpdateSet((eb) => ({
              first_seen: least(dialect, eb.ref('facts.first_seen'), eb.ref('excluded.first_seen')),
              last_seen: greatest(dialect, eb.ref('facts.last_seen'), eb.ref('excluded.last_seen')),
            })),
          )
          .execute();
      }
    });
    return { received: facts.length, added: entries.length - existing, updated: existing };
  }

  /** Number of stored facts. */
  async count(): Promise<number> {
    const row = await this.db.kysely
      .selectFrom('facts')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** One fact by id (its content key). */
  async get(id: string): Promise<StoredFact | undefined> {
    const row = await this.db.kysely
      .selectFrom('facts')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : toStored(row);
  }

  /**
   * Subjects that split the facts into batches of about `size` facts each, never splitting the
   * facts of one subject: batch i covers subjects in [bounds[i], bounds[i+1]).
   */
  async batchBounds(size: number): Promise<string[]> {
    const rows = await this.db.kysely
      .selectFrom('facts')
      .select(['subject', (eb) => eb.fn.countAll<number | string>().as('n')])
      .groupBy('subject')
      .orderBy('subject')
      .execute();
    const bounds: string[] = [];
    let inBatch = size;
    for (const row of rows) {
      if (inBatch >= size) {
        bounds.push(row.subject);
        inBatch = 0;
      }
      inBatch += Number(row.n);
    }
    return bounds;
  }

  /** Facts with from <= subject < to (to null = no upper bound), by subject. */
  async inRange(from: string, to: string | null): Promise<StoredFact[]> {
    const rows = await this.db.kysely
      .selectFrom('facts')
      .selectAll()
      .where('subject', '>=', from)
      .$if(to !== null, (q) => q.where('subject', '<', to!))
      .orderBy('subject')
      .orderBy('id')
      .execute();
    return rows.map(toStored);
  }

  /** Facts the filter needs for every batch: prefix tables and IP network registrations. */
  async networkFacts(): Promise<StoredFact[]> {
    const rows = await this.db.kysely
      .selectFrom('facts')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb('kind', '=', 'prefix'),
          eb.and([eb('kind', '=', 'registration'), eb('subject', 'like', '%/%')]),
        ]),
      )
      .execute();
    return rows.map(toStored);
  }

  /** Facts about the given subjects. */
  async about(subjects: readonly string[]): Promise<StoredFact[]> {
    const out: StoredFact[] = [];
    for (let i = 0; i < subjects.length; i += ROWS_PER_STATEMENT) {
      const rows = await this.db.kysely
        .selectFrom('facts')
        .selectAll()
        .where('subject', 'in', subjects.slice(i, i + ROWS_PER_STATEMENT))
        .execute();
      out.push(...rows.map(toStored));
    }
    return out;
  }
}

function toStored(row: {
  id: string;
  kind: string;
  subject: string;
  value: unknown;
  source: string;
  first_seen: number;
  last_seen: number;
}): StoredFact {
  return {
    id: row.id,
    kind: row.kind,
    subject: row.subject,
    value: fromJson(row.value),
    source: row.source,
    seenAt: row.last_seen,
    firstSeen: row.first_seen,
  } as StoredFact;
}
