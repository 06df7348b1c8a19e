/**
 * HTTP routes of attribution: POST /api/v1/facts, POST /api/v1/predict, and the stored
 * attributions with analyst confirmations under /api/v1/attribution.
 */
import type { App } from '#src/http/app.js';
import { AppError, validationError } from '#src/http/errors.js';
import { ErrorBody } from '#src/http/http.schema.js';
import type { Db } from '#src/storage/database.js';
import type { AssetRepository } from '#src/assets/assets.repository.js';
import type { JobService } from '#src/jobs/jobs.service.js';
import {
  describeProblems,
  parseFactArray,
  parseJsonLines,
  type ParsedFacts,
} from '#src/attribution/facts.model.js';
import { FactRepository } from '#src/attribution/facts.repository.js';
import { AttributionRepository } from '#src/attribution/attribution.repository.js';
import { LABELS_FORMAT } from '#src/attribution/labelled.model.js';
import type { PredictService } from '#src/attribution/predict.service.js';
import {
  AttributionsAnswer,
  AttributionsQuery,
  AttributionSchema,
  ConfirmBody,
  FactsAnswer,
  FactsQuery,
  LabelsAnswer,
  PredictAnswer,
  PredictBody,
  RunAnswer,
  RunBody,
} from '#src/attribution/attribution.schema.js';

/** What the attribution routes use. */
export interface AttributionRouteDeps {
  readonly db: Db;
  readonly assets: AssetRepository;
  readonly jobs: Pick<JobService, 'enqueue'>;
  readonly predict: PredictService;
  readonly clock: () => number;
}

/** Body types JSON Lines arrive with. */
const JSON_LINES_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/x-jsonlines'];

/** Registers POST /api/v1/predict alone (the predict role serves only this and health). */
export function registerPredictRoute(app: App, predict: PredictService): void {
  app.post(
    '/api/v1/predict',
    {
      bodyLimit: 64 * 1024 * 1024,
      schema: {
        tags: ['attribution'],
        summary: 'Score up to 10,000 asset-organization pairs: probability, decision, reasons.',
        description:
          'Each pair carries the evidence the filter found. Any bad pair rejects the request ' +
          'with 400 validation_error naming its index (pairs.N...). Decisions use the given ' +
          "thresholds, else the server's (the model's unless configured).",
        body: PredictBody,
        response: { 200: PredictAnswer, 400: ErrorBody },
      },
    },
    async (request) => {
      const thresholds = request.body.thresholds ?? predict.thresholds;
      const results = await predict.predict(request.body.pairs, {
        thresholds,
        asOf: request.body.as_of,
      });
      return { model_version: predict.model.version, thresholds, results };
    },
  );
}

/** Registers every attribution route. */
export async function registerAttributionRoutes(
  app: App,
  deps: AttributionRouteDeps,
): Promise<void> {
  const facts = new FactRepository(deps.db);
  const attributions = new AttributionRepository(deps.db);
  registerPredictRoute(app, deps.predict);

  // JSON Lines bodies arrive as text; the parser lives in this scope only.
  await app.register((scope: App, _options, done) => {
    scope.addContentTypeParser(JSON_LINES_TYPES, { parseAs: 'string' }, (_request, body, next) => {
      next(null, body);
    });
    scope.post(
      '/api/v1/facts',
      {
        bodyLimit: 256 * 1024 * 1024,
        schema: {
          tags: ['attribution'],
          summary: 'Import facts: JSON Lines (application/x-ndjson) or a JSON array.',
          description:
            'All or nothing: one malformed record rejects the request with 400 naming its line ' +
            '(or index + 1), and nothing is stored, unless skip_bad=true. A fact imported again ' +
            'only moves its last-seen time.',
          querystring: FactsQuery,
          response: { 200: FactsAnswer, 400: ErrorBody },
        },
      },
      async (request) => {
        const now = deps.clock();
        const body: unknown = request.body;
        let parsed: ParsedFacts;
        if (typeof body === 'string') parsed = parseJsonLines(body, now);
        else if (Array.isArray(body)) parsed = parseFactArray(body, now);
        else throw validationError('the body must be JSON Lines or a JSON array of facts');
        if (parsed.problems.length > 0 && request.query.skip_bad !== true)
          throw validationError(
            `${describeProblems(parsed.problems)}; nothing was imported (skip_bad=true imports the rest)`,
          );
        const report = await facts.importFacts(parsed.facts);
        return { ...report, skipped: parsed.problems };
      },
    );
    done();
  });

  app.get(
    '/api/v1/attribution/attributions',
    {
      schema: {
        tags: ['attribution'],
        summary: 'Stored attributions, best score first.',
        querystring: AttributionsQuery,
        response: { 200: AttributionsAnswer, 400: ErrorBody },
      },
    },
    async (request) => ({
      attributions: await attributions.list({
        orgId: request.query.org_id,
        decision: request.query.decision,
        limit: request.query.limit ?? 100,
      }),
    }),
  );

  app.post(
    '/api/v1/attribution/confirmations',
    {
      schema: {
        tags: ['attribution'],
        summary: 'An analyst confirms or rejects an attribution; it becomes a training label.',
        body: ConfirmBody,
        response: { 200: AttributionSchema, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const { asset_id, org_id, confirmation, by } = request.body;
      const found = await attributions.confirm(asset_id, org_id, confirmation, by, deps.clock());
      if (!found)
        throw new AppError(
          'not_found',
          404,
          `no attribution of asset ${asset_id} to organization ${org_id}`,
        );
      return (await attributions.get(asset_id, org_id))!;
    },
  );

  app.get(
    '/api/v1/attribution/labels',
    {
      schema: {
        tags: ['attribution'],
        summary: 'Confirmations as a labelled set: the input of `attribution train --labels`.',
        response: { 200: LabelsAnswer },
      },
    },
    async () => {
      const labels = await attributions.labels();
      const [orgs, about, network] = await Promise.all([
        deps.assets.listOrganizations(),
        facts.about([...new Set(labels.map((l) => l.asset))]),
        facts.networkFacts(),
      ]);
      const seen = new Set<string>();
      const factInputs = [...about, ...network]
        .filter((f) => !seen.has(f.id) && seen.add(f.id))
        .map((f) => ({
          kind: f.kind,
          subject: f.subject,
          value: f.value,
          source: f.source,
          seen_at: f.seenAt,
        }));
      return {
        format: LABELS_FORMAT,
        as_of: deps.clock(),
        organizations: orgs.map((o) => ({ id: o.id, name: o.name, seeds: o.seeds })),
        facts: factInputs,
        labels,
      };
    },
  );

  app.post(
    '/api/v1/attribution/runs',
    {
      schema: {
        tags: ['attribution'],
        summary: 'Attribute every stored fact: one attribution.filter job per batch.',
        body: RunBody,
        response: { 202: RunAnswer, 400: ErrorBody, 503: ErrorBody },
      },
    },
    async (request, reply) => {
      const bounds = await facts.batchBounds(request.body.batch_size ?? 50_000);
      if (bounds.length === 0) return reply.status(202).send({ batches: 0, job_ids: [] });
      const ids = await deps.jobs.enqueue(
        bounds.map((from, i) => ({
          type: 'attribution.filter',
          payload: { from, to: bounds[i + 1] ?? null },
        })),
      );
      return reply.status(202).send({ batches: bounds.length, job_ids: ids });
    },
  );
}
