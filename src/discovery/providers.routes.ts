/** GET /api/v1/providers: the cloud provider ranges in force, bundled or refreshed. */
import { Type } from 'typebox';
import type { App } from '#src/http/app.js';
import type { Db } from '#src/storage/database.js';
import { providerOverview } from '#src/discovery/provider.data.js';

/** One provider's ranges as the API shows them. */
const ProviderAnswer = Type.Object(
  {
    provider: Type.String({ description: 'Display name: "AWS", "Azure", "GCP", ...' }),
    ranges: Type.Integer({ description: 'CIDR blocks in force for the provider.' }),
    source: Type.Union([Type.Literal('bundled'), Type.Literal('refreshed')], {
      description: 'Bundled with the release, or refreshed into the database.',
    }),
    refreshedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'When the ranges were refreshed; null for bundled ranges.',
    }),
    dated: Type.Union([Type.String(), Type.Null()], {
      description: 'The date of the data (YYYY-MM-DD): the list’s own date, or the refresh day.',
    }),
    origin: Type.String({
      description: 'Where the ranges came from: the bundled origin, or the refreshed file names.',
    }),
  },
  { additionalProperties: false },
);

/** Registers the providers route. */
export function registerProviderRoutes(app: App, deps: { readonly db: Db }): void {
  app.get(
    '/api/v1/providers',
    {
      schema: {
        tags: ['discovery'],
        summary: 'Cloud providers whose ranges label addresses, by name.',
        description:
          'Every provider with ranges in force: the bundled data, where `surfacescan providers ' +
          'refresh` has stored a provider’s published list, that list instead.',
        response: { 200: Type.Array(ProviderAnswer) },
      },
    },
    async () =>
      (await providerOverview(deps.db)).map((p) => ({
        provider: p.provider,
        ranges: p.ranges,
        source: p.source,
        refreshedAt: p.refreshedAt === null ? null : new Date(p.refreshedAt).toISOString(),
        dated: p.dated,
        origin: p.origin,
      })),
  );
}
