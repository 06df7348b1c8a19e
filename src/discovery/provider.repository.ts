/** SQL for refreshed provider ranges (table provider_ranges, migration 0008). */
import type { Db } from '#src/storage/database.js';
import type { ProviderRange } from '#src/discovery/provider.model.js';

/** One provider's new ranges, read from one or more files. */
export interface ProviderRefresh {
  readonly provider: string;
  /** Each range with the file (base name and SHA-256) it was read from. */
  readonly ranges: readonly { cidr: string; sourceFile: string; sourceSha256: string }[];
}

/** What the database holds for one refreshed provider. */
export interface RefreshedProvider {
  readonly provider: string;
  readonly ranges: number;
  /** The files the ranges came from, sorted. */
  readonly files: readonly string[];
  readonly refreshedAt: number;
}

/** Rows per INSERT: 5 columns each, far below every engine's bound-parameter limit. */
const INSERT_CHUNK = 500;

/** Reads and replaces refreshed provider ranges. */
export class ProviderRangeRepository {
  constructor(private readonly db: Db) {}

  /**
   * Replaces the stored ranges of every provider in `refreshes` (and only those) in one
   * transaction: a failure leaves every provider's earlier ranges as they were.
   */
  async replace(refreshes: readonly ProviderRefresh[], at: number): Promise<void> {
    await this.db.kysely.transaction().execute(async (tx) => {
      for (const refresh of refreshes) {
        await tx.deleteFrom('provider_ranges').where('provider', '=', refresh.provider).execute();
        // A list may name one block twice (AWS lists a prefix once per service): keep the first.
        const seen = new Set<string>();
        const rows = refresh.ranges
          .filter((r) => !seen.has(r.cidr) && seen.add(r.cidr))
          .map((r) => ({
            provider: refresh.provider,
            cidr: r.cidr,
            source_file: r.sourceFile,
            source_sha256: r.sourceSha256,
            refreshed_at: at,
          }));
        for (let i = 0; i < rows.length; i += INSERT_CHUNK)
          await tx
            .insertInto('provider_ranges')
            .values(rows.slice(i, i + INSERT_CHUNK))
            .execute();
      }
    });
  }

  /** Every refreshed range. */
  async ranges(): Promise<ProviderRange[]> {
    const rows = await this.db.kysely
      .selectFrom('provider_ranges')
      .select(['provider', 'cidr'])
      .orderBy('provider')
      .orderBy('cidr')
      .execute();
    return rows.map((r) => ({ provider: r.provider, cidr: r.cidr }));
  }

  /** Each refreshed provider with its range count, files and time, by name. */
  async providers(): Promise<RefreshedProvider[]> {
    const rows = await this.db.kysely
      .selectFrom('provider_ranges')
      .select((eb) => [
        'provider',
        'source_file',
        eb.fn.countAll<number | string>().as('ranges'),
        eb.fn.max('refreshed_at').as('refreshed_at'),
      ])
      .groupBy(['provider', 'source_file'])
      .orderBy('provider')
      .orderBy('source_file')
      .execute();
    const out = new Map<string, { ranges: number; files: string[]; refreshedAt: number }>();
    for (const row of rows) {
      const entry = out.get(row.provider) ?? { ranges: 0, files: [], refreshedAt: 0 };
      entry.ranges += Number(row.ranges);
      entry.files.push(row.source_file);
      entry.refreshedAt = Math.max(entry.refreshedAt, row.refreshed_at);
      out.set(row.provider, entry);
    }
    return [...out].map(([provider, e]) => ({ provider, ...e }));
  }
}
