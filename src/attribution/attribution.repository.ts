/**
 * SQL for attributions: the stored decision per (asset, organization) with its model version
 * and reasons, and an analyst's confirmation, which a new decision never overwrites.
 */
import type { Db } from '#src/storage/database.js';
import { fromJson, toJson } from '#src/storage/dialect.js';

/** Decisions. */
export const DECISIONS = ['owned', 'candidate', 'not_owned'] as const;
/** One of DECISIONS. */
export type Decision = (typeof DECISIONS)[number];
/** An analyst's verdict. */
export type Confirmation = 'owned' | 'not_owned';

/** A decision to store. */
export interface NewAttribution {
  readonly assetId: string;
  readonly orgId: string;
  readonly score: number;
  readonly decision: Decision;
  readonly reasons: unknown;
  readonly modelVersion: string;
  readonly decidedAt: number;
}

/** A stored attribution, with its asset's kind and key. */
export interface Attribution {
  readonly asset_id: string;
  readonly asset_kind: string;
  readonly asset_key: string;
  readonly org_id: string;
  readonly score: number;
  readonly decision: Decision;
  readonly reasons: unknown;
  readonly model_version: string;
  readonly decided_at: number;
  readonly confirmed_by: string | null;
  readonly confirmed_at: number | null;
  readonly confirmation: Confirmation | null;
}

const ROWS_PER_STATEMENT = 500;

/** Attributions on one database. */
export class AttributionRepository {
  constructor(private readonly db: Db) {}

  /** Stores decisions (one transaction); a confirmation already given is kept. */
  async save(rows: readonly NewAttribution[]): Promise<number> {
    if (rows.length === 0) return 0;
    await this.db.kysely.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
        await trx
          .insertInto('attributions')
          .values(
            rows.slice(i, i + ROWS_PER_STATEMENT).map((r) => ({
              asset_id: r.assetId,
              org_id: r.orgId,
              score: r.score,
              decision: r.decision,
              reasons: toJson(r.reasons),
              model_version: r.modelVersion,
              decided_at: r.decidedAt,
              confirmed_by: null,
              confirmed_at: null,
              confirmation: null,
            })),
          )
          .onConflict((oc) =>
            oc.columns(['asset_id', 'org_id']).doUpdateSet((eb) => ({
              score: eb.ref('excluded.score'),
              decision: eb.ref('excluded.decision'),
              reasons: eb.ref('excluded.reasons'),
              model_version: eb.ref('excluded.model_version'),
              decided_at: eb.ref('excluded.decided_at'),
            })),
          )
          .execute();
      }
    });
    return rows.length;
  }

  /** Attributions, best score first, optionally of one organization and decision. */
  async list(filter: {
    orgId?: string | undefined;
    decision?: Decision | undefined;
    limit: number;
  }): Promise<Attribution[]> {
    const rows = await this.db.kysely
      .selectFrom('attributions')
      .innerJoin('assets', 'assets.id', 'attributions.asset_id')
      .selectAll('attributions')
      .select(['assets.kind as asset_kind', 'assets.key as asset_key'])
      .$if(filter.orgId !== undefined, (q) => q.where('attributions.org_id', '=', filter.orgId!))
      .$if(filter.decision !== undefined, (q) =>
        q.where('attributions.decision', '=', filter.decision!),
      )
      .orderBy('attributions.score', 'desc')
      .orderBy('attributions.asset_id')
      .limit(filter.limit)
      .execute();
    return rows.map(toAttribution);
  }

  /** One attribution. */
  async get(assetId: string, orgId: string): Promise<Attribution | undefined> {
    const row = await this.db.kysely
      .selectFrom('attributions')
      .innerJoin('assets', 'assets.id', 'attributions.asset_id')
      .selectAll('attributions')
      .select(['assets.kind as asset_kind', 'assets.key as asset_key'])
      .where('attributions.asset_id', '=', assetId)
      .where('attributions.org_id', '=', orgId)
      .executeTakeFirst();
    return row === undefined ? undefined : toAttribution(row);
  }

  /** Records an analyst's verdict; false when there is no such attribution. */
  async confirm(
    assetId: string,
    orgId: string,
    confirmation: Confirmation,
    by: string,
    at: number,
  ): Promise<boolean> {
    const result = await this.db.kysely
      .updateTable('attributions')
      .set({ confirmation, confirmed_by: by, confirmed_at: at })
      .where('asset_id', '=', assetId)
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Every confirmed attribution, as training labels (asset key, organization, owned). */
  async labels(): Promise<{ asset: string; org_id: string; owned: boolean }[]> {
    const rows = await this.db.kysely
      .selectFrom('attributions')
      .innerJoin('assets', 'assets.id', 'attributions.asset_id')
      .select(['assets.key as asset', 'attributions.org_id', 'attributions.confirmation'])
      .where('attributions.confirmation', 'is not', null)
      .orderBy('assets.key')
      .orderBy('attributions.org_id')
      .execute();
    return rows.map((r) => ({
      asset: r.asset,
      org_id: r.org_id,
      owned: r.confirmation === 'owned',
    }));
  }
}

function toAttribution(row: {
  asset_id: string;
  asset_kind: string;
  asset_key: string;
  org_id: string;
  score: number;
  decision: string;
  reasons: unknown;
  model_version: string;
  decided_at: number;
  confirmed_by: string | null;
  confirmed_at: number | null;
  confirmation: string | null;
}): Attribution {
  return {
    ...row,
    decision: row.decision as Decision,
    reasons: fromJson(row.reasons),
    confirmation: row.confirmation as Confirmation | null,
  };
}
