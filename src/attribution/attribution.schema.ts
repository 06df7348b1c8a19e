/** TypeBox schemas of the facts, predict and attribution API; handler types derive from them. */
import { Type } from 'typebox';

/** One import problem. */
export const FactProblemSchema = Type.Object({
  line: Type.Integer({ description: '1-based line (JSON Lines) or array index + 1.' }),
  message: Type.String(),
});

/** POST /api/v1/facts query. */
export const FactsQuery = Type.Object({
  skip_bad: Type.Optional(
    Type.Boolean({ description: 'Skip malformed records (reported) instead of rejecting all.' }),
  ),
});

/** What an import did. */
export const FactsAnswer = Type.Object({
  received: Type.Integer({ description: 'Valid facts in the request.' }),
  added: Type.Integer({ description: 'Facts not known before.' }),
  updated: Type.Integer({ description: 'Known facts: only their last-seen time moved.' }),
  skipped: Type.Array(FactProblemSchema, { description: 'Malformed records left out.' }),
});

const EvidenceTypeSchema = Type.Union(
  [
    Type.Literal('domain'),
    Type.Literal('ip_cidr'),
    Type.Literal('asn'),
    Type.Literal('ip_registration'),
    Type.Literal('san'),
    Type.Literal('cert_org'),
    Type.Literal('registrant_org'),
    Type.Literal('registrant_email'),
    Type.Literal('name_server'),
    Type.Literal('mx'),
    Type.Literal('cname'),
    Type.Literal('ptr'),
    Type.Literal('self_provided'),
  ],
  { description: 'Kind of link between the asset and the organization.' },
);

/** One piece of evidence of a pair. */
export const EvidenceSchema = Type.Object(
  {
    type: EvidenceTypeSchema,
    value: Type.Optional(
      Type.String({ maxLength: 1024, description: 'The shared attribute (domain, name, ASN).' }),
    ),
    source: Type.Optional(Type.String({ maxLength: 64, description: 'Where the fact came from.' })),
    similarity: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: '1 = exact match (default).' }),
    ),
    shared: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'Organizations sharing the attribute (default 1 = only this one).',
      }),
    ),
    seen_at: Type.Optional(Type.Integer({ minimum: 0, description: 'Last seen, epoch ms.' })),
  },
  { additionalProperties: false },
);

/** One pair to score. */
export const PairSchema = Type.Object(
  {
    asset: Type.String({ minLength: 1, maxLength: 253, description: 'Host, IP or sha256:HEX.' }),
    org_id: Type.String({ minLength: 1, maxLength: 200 }),
    evidence: Type.Array(EvidenceSchema, { minItems: 1, maxItems: 256 }),
  },
  { additionalProperties: false },
);

/** Decision thresholds. */
export const ThresholdsSchema = Type.Object(
  {
    owned: Type.Number({ minimum: 0, maximum: 1, description: 'At or above: owned.' }),
    candidate: Type.Number({
      minimum: 0,
      maximum: 1,
      description: 'At or above (below owned): candidate; below: not_owned.',
    }),
  },
  { additionalProperties: false },
);

/** POST /api/v1/predict */
export const PredictBody = Type.Object(
  {
    pairs: Type.Array(PairSchema, { minItems: 1, maxItems: 10_000 }),
    thresholds: Type.Optional(ThresholdsSchema),
    as_of: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Recency is measured from here; default now.' }),
    ),
  },
  { additionalProperties: false },
);

/** Why a pair scored as it did. */
export const ReasonSchema = Type.Object({
  category: Type.String({
    description: 'ip_registration, asn, certificate, dns, whois or self_provided.',
  }),
  type: Type.String(),
  value: Type.String(),
  source: Type.String(),
  contribution: Type.Number({ description: 'Log-odds this evidence added to the score.' }),
});

/** One scored pair. */
export const PredictionSchema = Type.Object({
  asset: Type.String(),
  org_id: Type.String(),
  probability: Type.Number(),
  decision: Type.Union([
    Type.Literal('owned'),
    Type.Literal('candidate'),
    Type.Literal('not_owned'),
  ]),
  reasons: Type.Array(ReasonSchema, { description: 'Strongest evidence first.' }),
});

/** The scored batch, in request order. */
export const PredictAnswer = Type.Object({
  model_version: Type.String(),
  thresholds: ThresholdsSchema,
  results: Type.Array(PredictionSchema),
});

/** GET /api/v1/attribution/attributions */
export const AttributionsQuery = Type.Object({
  org_id: Type.Optional(Type.String({ minLength: 1 })),
  decision: Type.Optional(
    Type.Union([Type.Literal('owned'), Type.Literal('candidate'), Type.Literal('not_owned')]),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 100 })),
});

/** A stored attribution. */
export const AttributionSchema = Type.Object({
  asset_id: Type.String(),
  asset_kind: Type.String(),
  asset_key: Type.String(),
  org_id: Type.String(),
  score: Type.Number(),
  decision: Type.String(),
  reasons: Type.Unknown(),
  model_version: Type.String(),
  decided_at: Type.Integer(),
  confirmed_by: Type.Union([Type.String(), Type.Null()]),
  confirmed_at: Type.Union([Type.Integer(), Type.Null()]),
  confirmation: Type.Union([Type.String(), Type.Null()]),
});

/** Attributions, best score first. */
export const AttributionsAnswer = Type.Object({ attributions: Type.Array(AttributionSchema) });

/** POST /api/v1/attribution/confirmations */
export const ConfirmBody = Type.Object(
  {
    asset_id: Type.String({ minLength: 1 }),
    org_id: Type.String({ minLength: 1 }),
    confirmation: Type.Union([Type.Literal('owned'), Type.Literal('not_owned')], {
      description: 'The analyst verdict; it becomes a training label.',
    }),
    by: Type.String({ minLength: 1, maxLength: 200, description: 'Who confirmed.' }),
  },
  { additionalProperties: false },
);

/** POST /api/v1/attribution/runs */
export const RunBody = Type.Object(
  {
    batch_size: Type.Optional(
      Type.Integer({ minimum: 100, maximum: 1_000_000, description: 'Facts per job (about).' }),
    ),
  },
  { additionalProperties: false },
);

/** The jobs of a run. */
export const RunAnswer = Type.Object({
  batches: Type.Integer(),
  job_ids: Type.Array(Type.String()),
});

/** GET /api/v1/attribution/labels: confirmations as a labelled set for `attribution train`. */
export const LabelsAnswer = Type.Object({
  format: Type.String(),
  as_of: Type.Integer(),
  organizations: Type.Array(Type.Unknown()),
  facts: Type.Array(Type.Unknown()),
  labels: Type.Array(
    Type.Object({ asset: Type.String(), org_id: Type.String(), owned: Type.Boolean() }),
  ),
});
