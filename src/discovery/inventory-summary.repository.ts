/**
 * SQL of the inventory summary (GET /api/v1/services/summary): a few grouped scans of the
 * services and assets tables, folded into figures by inventory-summary.model.ts. Plain
 * COALESCE/NULLIF, COUNT and integer division, so the same queries run on SQLite and PostgreSQL.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '#src/storage/schema.js';
import {
  addTo,
  dayOf,
  daySeries,
  DAY_MS,
  foldTop,
  type Breakdown,
} from '#src/discovery/inventory-summary.model.js';

/** The label of a service whose product and name are both unknown. */
export const UNIDENTIFIED = 'unidentified';
/** The provider label of an ip asset recorded without one. */
export const UNKNOWN_PROVIDER = 'Unknown';
/** Groups kept by name in the product and service breakdowns; the rest is "other". */
export const TOP_GROUPS = 10;
/** Days in the first-seen series (new exposures), today included. */
export const SERIES_DAYS = 14;
/** Days counted as "this week" (today and the six before). */
export const WEEK_DAYS = 7;

/** One provider's share of the inventory. */
export interface ProviderCounts {
  readonly provider: string;
  /** Ip assets (any state) attributed to this provider. */
  readonly ipAssets: number;
  /** Distinct addresses with at least one open service. */
  readonly exposedIps: number;
  readonly openServices: number;
}

/** What GET /api/v1/services/summary answers (before the org id is added). */
export interface InventorySummary {
  readonly totals: {
    readonly openServices: number;
    readonly closedServices: number;
    readonly ipAssets: number;
    readonly exposedIps: number;
    /** Distinct product labels among open services. */
    readonly products: number;
    /** Services first seen in the last WEEK_DAYS UTC days. */
    readonly newThisWeek: number;
  };
  readonly byProduct: Breakdown;
  readonly byService: Breakdown;
  readonly byProvider: ProviderCounts[];
  readonly firstSeenByDay: { day: string; count: number }[];
}

// The product a chart shows: the product, else the protocol name, else "unidentified".
/** The product a chart shows: the product, else the protocol name, else "unidentified". */
function productLabel(product: string | null, service: string | null): string {
  return product || service || UNIDENTIFIED;
}

/** Summarises the services and ip assets of one organization (or all) as of `now`. */
export async function summarizeInventory(
  db: Kysely<Database>,
  options: { readonly orgId?: string | undefined; readonly now: number },
): Promise<InventorySummary> {
  const { orgId } = options;
  const services = db
    .selectFrom('services')
    .$if(orgId !== undefined, (q) => q.where('org_id', '=', orgId!));

  // One pass over the services: every breakdown of open ones is a fold of these groups. Plain
  // columns (not label expressions) in the GROUP BY: cheaper to sort, and an index on them
  // could cover it; the labels are made while folding.
  const groups = await services
    .select((eb) => [
      'state',
      'provider',
      'product',
      'service',
      eb.fn.countAll<number | string>().as('n'),
    ])
    .groupBy(['state', 'provider', 'product', 'service'])
    .execute();
  const byProduct = new Map<string, number>();
  const byService = new Map<string, number>();
  const openByProvider = new Map<string, number>();
  let openServices = 0;
  let closedServices = 0;
  for (const g of groups) {
    const n = Number(g.n);
    if (g.state !== 'open') {
      closedServices += n;
      continue;
    }
    openServices += n;
    addTo(byProduct, productLabel(g.product, g.service), n);
    addTo(byService, g.service || UNIDENTIFIED, n);
    addTo(openByProvider, g.provider, n);
  }

  const exposed = await services
    .select((eb) => ['provider', eb.fn.count<number | string>('ip').distinct().as('n')])
    .where('state', '=', 'open')
    .groupBy('provider')
    .execute();
  const exposedByProvider = new Map(exposed.map((r) => [r.provider, Number(r.n)]));
  // An address counts once even if its services were attributed to two providers (ranges
  // refreshed between scans), so the total is its own distinct count.
  const exposedTotal = await services
    .select((eb) => eb.fn.count<number | string>('ip').distinct().as('n'))
    .where('state', '=', 'open')
    .executeTakeFirstOrThrow();

  // The constant is inlined (sql.lit): PostgreSQL matches a GROUP BY expression to the
  // selected one only when both are the same text, and two bound parameters are not.
  const providerLabel = sql<string>`coalesce(provider, ${sql.lit(UNKNOWN_PROVIDER)})`;
  const ips = await db
    .selectFrom('assets')
    .select((eb) => [providerLabel.as('provider_label'), eb.fn.countAll<number | string>().as('n')])
    .where('kind', '=', 'ip')
    .$if(orgId !== undefined, (q) => q.where('org_id', '=', orgId!))
    .groupBy(providerLabel)
    .execute();
  const ipsByProvider = new Map(ips.map((r) => [r.provider_label, Number(r.n)]));

  const today = dayOf(options.now);
  const from = today - SERIES_DAYS + 1;
  // Integer division on both engines (first_seen is a bigint of ms), so no date functions.
  const day = sql<number | string>`first_seen / ${sql.lit(DAY_MS)}`;
  const days = await services
    .select([day.as('day'), (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('first_seen', '>=', from * DAY_MS)
    .groupBy(day)
    .execute();
  const byDay = new Map(days.map((r) => [Number(r.day), Number(r.n)]));
  const firstSeenByDay = daySeries(byDay, today, SERIES_DAYS);

  const providers = new Set([...ipsByProvider.keys(), ...openByProvider.keys()]);
  const byProvider = [...providers]
    .map((provider) => ({
      provider,
      ipAssets: ipsByProvider.get(provider) ?? 0,
      exposedIps: exposedByProvider.get(provider) ?? 0,
      openServices: openByProvider.get(provider) ?? 0,
    }))
    .sort(
      (a, b) =>
        b.openServices - a.openServices ||
        b.ipAssets - a.ipAssets ||
        (a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : 0),
    );

  return {
    totals: {
      openServices,
      closedServices,
      ipAssets: [...ipsByProvider.values()].reduce((a, b) => a + b, 0),
      exposedIps: Number(exposedTotal.n),
      products: byProduct.size,
      newThisWeek: firstSeenByDay.slice(-WEEK_DAYS).reduce((n, d) => n + d.count, 0),
    },
    byProduct: foldTop(byProduct, TOP_GROUPS),
    byService: foldTop(byService, TOP_GROUPS),
    byProvider,
    firstSeenByDay,
  };
}
