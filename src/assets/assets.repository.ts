/**
 * SQL for organizations, assets and observations. Assets are identified by (kind, key) and
 * upserted in batches: the first sighting sets first_seen, every later one can only move
 * last_seen forward, so replaying old data never makes an asset look newer or older than it is.
 */
import { randomFillSync } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Db } from '#src/storage/database.js';
import { fromJson, greatest, least, toJson } from '#src/storage/dialect.js';
import type { AssetKind, Database, ObservationSource } from '#src/storage/schema.js';

/** Seeds that tie facts to an organization. */
export interface OrganizationSeeds {
  readonly domains: readonly string[];
  readonly cidrs: readonly string[];
  readonly asns: readonly number[];
  readonly names: readonly string[];
  /** CIDRs or addresses never to scan (optional; absent means none). */
  readonly excludes?: readonly string[];
}

/** A stored organization. */
export interface Organization {
  readonly id: string;
  readonly name: string;
  readonly seeds: OrganizationSeeds;
  readonly created_at: number;
}

/** One sighting of an asset, as an upsert takes it. */
export interface AssetSighting {
  readonly kind: AssetKind;
  readonly key: string;
  readonly seenAt: number;
  readonly orgId?: string | null;
  readonly provider?: string | null;
}

/** A stored asset. */
export interface Asset {
  readonly id: string;
  readonly kind: AssetKind;
  readonly key: string;
  readonly org_id: string | null;
  readonly provider: string | null;
  readonly first_seen: number;
  readonly last_seen: number;
}

/** An observation to record. `id` makes the write idempotent (a retried job writes it once). */
export interface NewObservation {
  readonly id?: string;
  readonly assetId: string;
  readonly source: ObservationSource;
  readonly data: unknown;
  readonly observedAt: number;
}

// Both engines cap bound parameters per statement (SQLite 32766, PostgreSQL 65535).
const ROWS_PER_STATEMENT = 500;

/** The database or a transaction on it. */
export type Executor = Db['kysely'] | Transaction<Database>;

// Random bytes are drawn in blocks: one system call per 256 ids instead of one per id.
const RANDOM_BLOCK = Buffer.alloc(8 * 256);
let randomOffset = RANDOM_BLOCK.length;
let lastMs = 0;
let counter = 0;

/**
 * A time-ordered UUID (version 7, RFC 9562: 48-bit milliseconds, a 12-bit counter, 62 random
 * bits). New rows land at the right edge of the primary-key B-tree instead of on a random page
 * each, which is what made batched upserts with random v4 ids several times slower on both
 * engines (every batch dirtied about one index page per row). The counter keeps ids of one
 * process increasing within a millisecond; ids stay unique across processes by their 62 random
 * bits.
 */
export function timeOrderedId(): string {
  let now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    // Start low in the counter's range, so a burst of ids in one millisecond rarely overflows.
    counter = Math.floor(Math.random() * 0x400);
  } else {
    now = lastMs;
    counter++;
    if (counter > 0xfff) {
      // More than 4096 ids in one millisecond: borrow the next one, keeping the order.
      lastMs = now = lastMs + 1;
      counter = 0;
    }
  }
  if (randomOffset === RANDOM_BLOCK.length) {
    randomFillSync(RANDOM_BLOCK);
    randomOffset = 0;
  }
  const bytes = Buffer.allocUnsafe(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  RANDOM_BLOCK.copy(bytes, 8, randomOffset, randomOffset + 8);
  randomOffset += 8;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Organizations, assets and observations on one database. */
export class AssetRepository {
  constructor(private readonly db: Db) {}

  /** Creates an organization; a taken name is a conflict (the caller maps it). */
  async createOrganization(
    name: string,
    seeds: OrganizationSeeds,
    now: number,
  ): Promise<Organization> {
    const row = { id: timeOrderedId(), name, seeds: toJson(seeds), created_at: now };
    await this.db.kysely.insertInto('organizations').values(row).execute();
    return { id: row.id, name, seeds, created_at: now };
  }

  /** One organization by id or by name. */
  async findOrganization(ref: string): Promise<Organization | undefined> {
    const row = await this.db.kysely
      .selectFrom('organizations')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', ref), eb('name', '=', ref)]))
      .executeTakeFirst();
    return row === undefined
      ? undefined
      : { ...row, seeds: fromJson<OrganizationSeeds>(row.seeds) };
  }

  /** All organizations, by name. */
  async listOrganizations(): Promise<Organization[]> {
    const rows = await this.db.kysely
      .selectFrom('organizations')
      .selectAll()
      .orderBy('name')
      .execute();
    return rows.map((r) => ({ ...r, seeds: fromJson<OrganizationSeeds>(r.seeds) }));
  }

  /**
   * Upserts sightings in one transaction and returns each asset's id in input order.
   * Sightings of the same (kind, key) in one batch are merged first. Given `trx`, it runs inside
   * that transaction (the caller's all-or-nothing import, say).
   */
  async upsertAssets(sightings: readonly AssetSighting[], trx?: Executor): Promise<string[]> {
    if (sightings.length === 0) return [];
    const merged = new Map<string, MergedSighting>();
    for (const s of sightings) {
      const id = `${s.kind}\u0000${s.key}`;
      const seen = merged.get(id);
      merged.set(id, seen === undefined ? { ...s, firstSeen: s.seenAt } : mergeSightings(seen, s));
    }
    const rows = [...merged.values()];
    const ids = new Map<string, string>();
    const upsert = async (executor: Executor): Promise<void> => {
      for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
        const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
        for (const r of await this.upsertChunk(executor, chunk)) {
          ids.set(`${r.kind}\u0000${r.key}`, r.id);
        }
      }
    };
    // One statement is atomic by itself: wrapping it in a transaction would only add a BEGIN
    // and a COMMIT round trip per call, which is a third of the cost of small batches.
    if (trx !== undefined) await upsert(trx);
    else if (rows.length <= ROWS_PER_STATEMENT) await upsert(this.db.kysely);
    else await this.db.kysely.transaction().execute(upsert);
    return sightings.map((s) => ids.get(`${s.kind}\u0000${s.key}`)!);
  }

  private upsertChunk(
    trx: Executor,
    chunk: readonly MergedSighting[],
  ): Promise<{ id: string; kind: AssetKind; key: string }[]> {
    const dialect = this.db.dialect;
    return trx
      .insertInto('assets')
      .values(
        chunk.map((s) => ({
          id: timeOrderedId(),
          kind: s.kind,
          key: s.key,
          org_id: s.orgId ?? null,
          provider: s.provider ?? null,
          first_seen: s.firstSeen,
          last_seen: s.seenAt,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['kind', 'key']).doUpdateSet((eb) => {
          const newer = eb('excluded.last_seen', '>=', eb.ref('assets.last_seen'));
          return {
            first_seen: least(dialect, eb.ref('assets.first_seen'), eb.ref('excluded.first_seen')),
            last_seen: greatest(dialect, eb.ref('assets.last_seen'), eb.ref('excluded.last_seen')),
            // A sighting without an owner or provider does not erase a known one, and an older
            // sighting (replayed data) does not overwrite what a newer one said.
            org_id: eb
              .case()
              .when(newer)
              .then(eb.fn.coalesce('excluded.org_id', 'assets.org_id'))
              .else(eb.fn.coalesce('assets.org_id', 'excluded.org_id'))
              .end(),
            provider: eb
              .case()
              .when(newer)
              .then(eb.fn.coalesce('excluded.provider', 'assets.provider'))
              .else(eb.fn.coalesce('assets.provider', 'excluded.provider'))
              .end(),
          };
        }),
      )
      .returning(['id', 'kind', 'key'])
      .execute();
  }

  /** Records observations; one that exists already (same id) is left as it is. */
  async recordObservations(
    observations: readonly NewObservation[],
    trx?: Executor,
  ): Promise<number> {
    const executor = trx ?? this.db.kysely;
    let inserted = 0;
    for (let i = 0; i < observations.length; i += ROWS_PER_STATEMENT) {
      const chunk = observations.slice(i, i + ROWS_PER_STATEMENT);
      const result = await executor
        .insertInto('observations')
        .values(
          chunk.map((o) => ({
            id: o.id ?? timeOrderedId(),
            asset_id: o.assetId,
            source: o.source,
            data: toJson(o.data),
            observed_at: o.observedAt,
          })),
        )
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      inserted += Number(result.numInsertedOrUpdatedRows ?? 0n);
    }
    return inserted;
  }

  /** One asset by kind and key. */
  async findAsset(kind: AssetKind, key: string): Promise<Asset | undefined> {
    return this.db.kysely
      .selectFrom('assets')
      .selectAll()
      .where('kind', '=', kind)
      .where('key', '=', key)
      .executeTakeFirst();
  }

  /** Number of assets, optionally of one kind. */
  async countAssets(kind?: AssetKind): Promise<number> {
    const row = await this.db.kysely
      .selectFrom('assets')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .$if(kind !== undefined, (q) => q.where('kind', '=', kind!))
      .executeTakeFirstOrThrow();
    return row.n;
  }

  /** Number of observations, optionally of one asset. */
  async countObservations(assetId?: string): Promise<number> {
    const row = await this.db.kysely
      .selectFrom('observations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .$if(assetId !== undefined, (q) => q.where('asset_id', '=', assetId!))
      .executeTakeFirstOrThrow();
    return row.n;
  }

  /** Observations of an asset, oldest first, with their data decoded. */
  async observationsOf(
    assetId: string,
  ): Promise<{ id: string; source: ObservationSource; data: unknown; observed_at: number }[]> {
    const rows = await this.db.kysely
      .selectFrom('observations')
      .select(['id', 'source', 'data', 'observed_at'])
      .where('asset_id', '=', assetId)
      .orderBy('observed_at')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ ...r, data: fromJson(r.data) }));
  }
}

/** Sightings of one asset within a batch, folded: seenAt is the latest, firstSeen the earliest. */
interface MergedSighting extends AssetSighting {
  readonly firstSeen: number;
}

function mergeSightings(a: MergedSighting, b: AssetSighting): MergedSighting {
  const newer = b.seenAt >= a.seenAt ? b : a;
  const older = newer === b ? a : b;
  return {
    kind: a.kind,
    key: a.key,
    firstSeen: Math.min(a.firstSeen, b.seenAt),
    seenAt: newer.seenAt,
    orgId: newer.orgId ?? older.orgId ?? null,
    provider: newer.provider ?? older.provider ?? null,
  };
}
