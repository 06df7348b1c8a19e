/** Response schemas of the providers API. */
import { Type } from 'typebox';

/** One provider's ranges as the API shows them. */
export const ProviderAnswer = Type.Object(
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
