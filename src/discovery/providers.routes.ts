/** GET /api/v1/providers: the cloud provider ranges in force, bundled or refreshed. */
import { Type } from 'typebox';
import type { App } from '#src/http/app.js';
import type { Db } from '#src/storage/database.js';
import { providerOverview } from '#src/discovery/provider.data.js';
import { ProviderAnswer } from '#src/discovery/providers.schema.js';

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
