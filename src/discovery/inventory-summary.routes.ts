/**
 * GET /api/v1/services/summary: the exposure counts the Overview charts (open services by
 * product, service name and provider, ip assets by provider, services first seen per day).
 * Its path is static, so the router never hands "summary" to /api/v1/services/:id.
 */
import { Type } from 'typebox';
import type { App } from '#src/http/app.js';
import { ErrorBody } from '#src/http/http.schema.js';
import type { AssetRepository } from '#src/assets/assets.repository.js';
import { orgIdOf } from '#src/assets/org-ref.js';
import type { Db } from '#src/storage/database.js';
import {
  SERIES_DAYS,
  TOP_GROUPS,
  UNIDENTIFIED,
  WEEK_DAYS,
  summarizeInventory,
} from '#src/discovery/inventory-summary.repository.js';

/** What the route needs. */
export interface InventorySummaryDeps {
  readonly assets: AssetRepository;
  readonly db: Db;
  readonly clock: () => number;
}

/** GET /api/v1/services/summary query. */
export const InventorySummaryQuery = Type.Object(
  {
    org: Type.Optional(
      Type.String({ maxLength: 200, description: 'Organization id or name; all when absent.' }),
    ),
  },
  { additionalProperties: false },
);

const Count = (description: string) => Type.Integer({ minimum: 0, description });

/** The largest groups by name, the rest folded into `other`. */
const Breakdown = (what: string) =>
  Type.Object(
    {
      items: Type.Array(
        Type.Object({
          name: Type.String({ description: what }),
          count: Count('Open services with this name.'),
        }),
        { description: `At most ${String(TOP_GROUPS)} groups, largest first (ties by name).` },
      ),
      other: Type.Object(
        {
          count: Count('Open services outside `items`.'),
          names: Count('Distinct names those services carry.'),
        },
        { description: 'Everything after the top groups.' },
      ),
    },
    { description: `Open services by ${what.toLowerCase()}` },
  );

/** The answer of GET /api/v1/services/summary. */
export const InventorySummaryAnswer = Type.Object({
  orgId: Type.Union([Type.String(), Type.Null()], {
    description: 'The organization summarised; null for all.',
  }),
  totals: Type.Object({
    openServices: Count('Services currently open.'),
    closedServices: Count('Services a later complete scan or import no longer found.'),
    ipAssets: Count('Ip assets in the inventory.'),
    exposedIps: Count('Distinct addresses with at least one open service.'),
    products: Count('Distinct product labels among open services.'),
    newThisWeek: Count(
      `Services first seen in the last ${String(WEEK_DAYS)} UTC days, today included (new exposures).`,
    ),
  }),
  byProduct: Breakdown(
    `Product label: the product, else the service name, else "${UNIDENTIFIED}".`,
  ),
  byService: Breakdown(`Service name (protocol), else "${UNIDENTIFIED}".`),
  byProvider: Type.Array(
    Type.Object({
      provider: Type.String({ description: 'Hosting provider, e.g. AWS or On Prem.' }),
      ipAssets: Count('Ip assets attributed to this provider.'),
      exposedIps: Count('Of its addresses, those with at least one open service.'),
      openServices: Count('Open services on its addresses.'),
    }),
    { description: 'Every provider with ip assets or open services, most open services first.' },
  ),
  firstSeenByDay: Type.Array(
    Type.Object({
      day: Type.String({ description: 'YYYY-MM-DD (UTC).' }),
      count: Count('Services (open or since closed) first seen that day.'),
    }),
    { description: `The last ${String(SERIES_DAYS)} UTC days, oldest first, today last.` },
  ),
});

/** Registers GET /api/v1/services/summary. */
export function registerInventorySummaryRoutes(app: App, deps: InventorySummaryDeps): void {
  app.get(
    '/api/v1/services/summary',
    {
      schema: {
        tags: ['discovery'],
        summary:
          'Exposure counts: open services by product, service and provider, ip assets by ' +
          'provider, and services first seen per day.',
        querystring: InventorySummaryQuery,
        response: { 200: InventorySummaryAnswer, 400: ErrorBody, 404: ErrorBody, 503: ErrorBody },
      },
    },
    async (request) => {
      const orgId = await orgIdOf(deps.assets, request.query.org);
      const summary = await summarizeInventory(deps.db.kysely, { orgId, now: deps.clock() });
      return { orgId: orgId ?? null, ...summary };
    },
  );
}
