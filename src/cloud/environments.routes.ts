/**
 * Stored cloud environments: POST one (validated exactly like a file) and every replica that
 * serves `db:latest` picks it up; GET lists the stored versions.
 */
import { Type } from 'typebox';
import type { App } from '#src/http/app.js';
import { AppError } from '#src/http/errors.js';
import { ErrorBody } from '#src/http/http.schema.js';
import { EnvironmentError, validateEnvironment } from '#src/cloud/environment.loader.js';
import type { EnvironmentRepository } from '#src/cloud/environment.repository.js';

/** A stored version, without its document. */
const StoredEnvironment = Type.Object({
  version: Type.Integer({ description: 'Consecutive from 1; the newest is served by db:latest.' }),
  sha256: Type.String({ description: 'SHA-256 of the canonical JSON document.' }),
  vm_count: Type.Integer(),
  rule_count: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
});

/** What the routes need. */
export interface EnvironmentsRouteDeps {
  readonly repository: EnvironmentRepository;
  /** Called after a new version is stored (a db:latest server swaps it in at once). */
  readonly stored: () => Promise<void>;
  readonly clock: () => number;
}

/** Registers POST and GET /api/v1/environments. */
export function registerEnvironmentsRoutes(app: App, deps: EnvironmentsRouteDeps): void {
  app.post(
    '/api/v1/environments',
    {
      // A 100,000-VM environment is tens of MB of JSON.
      bodyLimit: 512 * 1024 * 1024,
      schema: {
        tags: ['cloud'],
        summary: 'Store a cloud environment as the next version.',
        description:
          'The body is an environment document ({"vms":[...],"fw_rules":[...]}), validated ' +
          'exactly like a file given to --cloud-env: a bad one is rejected with 400 ' +
          'validation_error naming the JSON path of the first bad element, and nothing is ' +
          'stored. Older versions are kept. Servers started with --cloud-env db:latest serve ' +
          'the new version (the one that stored it at once, the others within two seconds).',
        body: Type.Unknown(),
        response: { 201: StoredEnvironment, 400: ErrorBody, 503: ErrorBody },
      },
    },
    async (request, reply) => {
      let environment;
      try {
        environment = validateEnvironment(request.body);
      } catch (error) {
        if (error instanceof EnvironmentError) {
          throw new AppError('validation_error', 400, `environment ${error.message}`);
        }
        throw error;
      }
      const info = await deps.repository.save(environment, deps.clock());
      await deps.stored();
      return reply
        .status(201)
        .send({ ...info, created_at: new Date(info.created_at).toISOString() });
    },
  );

  app.get(
    '/api/v1/environments',
    {
      schema: {
        tags: ['cloud'],
        summary: 'Stored environment versions, newest first (at most 100).',
        response: { 200: Type.Array(StoredEnvironment), 503: ErrorBody },
      },
    },
    async () =>
      (await deps.repository.list(100)).map((info) => ({
        ...info,
        created_at: new Date(info.created_at).toISOString(),
      })),
  );
}
