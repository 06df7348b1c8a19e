/**
 * The Fastify app factory: schemas, OpenAPI, health, metrics, statistics and the single error
 * mapping. It takes every dependency as an argument and never listens itself, so tests,
 * the OpenAPI generator and the server all build the very same app.
 */
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifySchemaValidationError,
  type onSendHookHandler,
} from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { AppError } from '#src/http/errors.js';
import { errorHandler, sendNotFound } from '#src/http/error-handler.js';
import { ErrorBody, HealthAnswer, StatsAnswer } from '#src/http/http.schema.js';
import type { HttpMetrics } from '#src/http/metrics.js';
import type { RequestStats, StatsSource } from '#src/http/stats.js';
import type { EnvironmentService } from '#src/cloud/environment.service.js';
import { registerCloudRoutes, type Reloader } from '#src/cloud/cloud.routes.js';
import { registerEnvironmentsRoutes } from '#src/cloud/environments.routes.js';
import type { Platform } from '#src/jobs/platform.js';
import { registerJobRoutes } from '#src/jobs/jobs.routes.js';
import { registerAssetRoutes, registerDiscoveryRoutes } from '#src/discovery/discovery.routes.js';
import { registerProviderRoutes } from '#src/discovery/providers.routes.js';
import { registerInventorySummaryRoutes } from '#src/discovery/inventory-summary.routes.js';
import { registerImportRoutes } from '#src/discovery/imports.routes.js';
import { registerSchedulerMetrics } from '#src/jobs/jobs.metrics.js';
import { IssueService } from '#src/issues/issues.service.js';
import { registerIssueRoutes } from '#src/issues/issues.routes.js';
import { registerPolicyRoutes } from '#src/issues/policies.routes.js';
import { registerWebUi } from '#src/http/static.js';
import { DatabaseUnavailableError, describeError } from '#src/storage/database.js';
import { isConnectionError } from '#src/storage/dialect.js';
import { registerAttributionRoutes } from '#src/attribution/attribution.routes.js';
import { PredictService, loadModel } from '#src/attribution/predict.service.js';

/** The parts of the platform the HTTP edge uses. */
export type HttpPlatform = Pick<
  Platform,
  'jobs' | 'environments' | 'unreadyReason' | 'assets' | 'scans' | 'db' | 'policies'
>;

/** Everything the app needs, wired by the server (or a test). */
export interface AppDeps {
  readonly logger: Logger;
  readonly accessLog: boolean;
  readonly version: string;
  readonly environments: EnvironmentService;
  /** This process's counters; every response is recorded here. */
  readonly stats: RequestStats;
  /** Where /stats reads totals: this process, or all cluster workers. */
  readonly statsSource: StatsSource;
  readonly metrics: HttpMetrics;
  /** Renders /metrics: this process, or all cluster workers. */
  readonly metricsText: () => Promise<string>;
  /** Reloads the environment: this process, or every cluster worker. */
  readonly reload: Reloader;
  readonly platform: HttpPlatform;
  /**
   * Counts a request in the statistics shared by every replica (Redis); the response waits
   * for it. Absent without Redis.
   */
  readonly recordShared?: ((ms: number) => Promise<void>) | undefined;
  /** Called after an environment version is stored through the API. */
  readonly environmentStored: () => Promise<void>;
  /** Scores attribution pairs; default: the bundled model, in-process. */
  readonly predict?: PredictService | undefined;
}

/** The app with the TypeBox type provider, so handlers get typed query and body. */
export type App = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  Logger,
  TypeBoxTypeProvider
>;

/** Builds the app; call `ready()` or `listen()` on the result. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.logger,
    logController: new LogController({ disableRequestLogging: !deps.accessLog }),
    // A pino child per request costs microseconds on the hot path; without access logs the
    // request id is added to the few error lines explicitly instead.
    childLoggerFactory: (logger, bindings, options) =>
      deps.accessLog ? logger.child(bindings, options) : logger,
    // Parameters such as ?vm_id=a&vm_id=b become arrays; the schema then rejects them.
    ajv: { customOptions: { coerceTypes: 'array', allErrors: false, verbose: true } },
    schemaErrorFormatter: (errors, dataVar) => {
      const first = errors[0] as (FastifySchemaValidationError & { data?: unknown }) | undefined;
      if (first === undefined) return new Error(`invalid ${dataVar}`);
      const field = first.instancePath.replace(/^\//, '').replace(/\//g, '.');
      if (first.keyword === 'required') {
        const missing = (first.params as { missingProperty?: string }).missingProperty ?? '?';
        return new Error(`missing required ${dataVar} parameter "${missing}"`);
      }
      if (first.keyword === 'type' && Array.isArray(first.data)) {
        return new Error(
          `${dataVar} parameter "${field}" must be given once, not ${first.data.length} times`,
        );
      }
      if (first.keyword === 'minLength') {
        return new Error(`${dataVar} parameter "${field}" must not be empty`);
      }
      if (first.keyword === 'anyOf' || first.keyword === 'const' || first.keyword === 'enum') {
        return new Error(
          `${dataVar} parameter "${field}" has an unsupported value ${JSON.stringify(first.data)}`,
        );
      }
      return new Error(
        `${dataVar} ${field === '' ? '' : `parameter "${field}" `}${first.message ?? 'is invalid'}`,
      );
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  let ready = true;
  app.addHook('onClose', (_instance, done) => {
    ready = false;
    done();
  });

  // Counted just before the response is written: see stats.ts for why this makes totals exact.
  // The hook is attached per route with its pattern bound in, which avoids building
  // request.routeOptions (a fresh object) on every request of the hot path.
  const recordShared = deps.recordShared;
  const record = (
    method: string,
    route: string,
    status: number,
    ms: number,
  ): Promise<void> | undefined => {
    deps.stats.record(ms);
    deps.metrics.observe(method, route, status, ms / 1000);
    return recordShared?.(ms);
  };
  const countAs = (route: string): onSendHookHandler =>
    function count(request, reply, payload, done) {
      const shared = record(request.method, route, reply.statusCode, reply.elapsedTime);
      if (shared === undefined) done(null, payload);
      else
        void shared.finally(() => {
          done(null, payload);
        });
    };
  app.addHook('onRoute', (route) => {
    const existing =
      route.onSend === undefined ? [] : Array.isArray(route.onSend) ? route.onSend : [route.onSend];
    route.onSend = [countAs(route.url), ...existing];
  });

  app.setErrorHandler(
    errorHandler((error) =>
      // A backing engine (database, Redis) is away: the request may be retried later, and the
      // service recovers by itself when the engine returns.
      error instanceof DatabaseUnavailableError || isConnectionError(error)
        ? describeError(error)
        : undefined,
    ),
  );

  // Fastify runs every lifecycle hook given here, though its types only declare two.
  const notFoundOptions = { onSend: countAs('(unmatched)') } as object as { preValidation?: never };
  app.setNotFoundHandler(notFoundOptions, sendNotFound);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'surfacescan API',
        version: deps.version,
        description:
          'Attack surface management. Every error is {"error":{"code","message"}} with a stable code.',
      },
      tags: [
        { name: 'cloud', description: 'Cloud attack surface: who can reach which VM.' },
        {
          name: 'jobs',
          description: 'The job platform: enqueue work, follow it, see the workers.',
        },
        {
          name: 'issues',
          description: 'Exposure issues: what a policy found on a service, and who works on it.',
        },
        { name: 'ops', description: 'Health, readiness, statistics and metrics.' },
        {
          name: 'attribution',
          description: 'Facts, candidate pairs and the model that says who owns each asset.',
        },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  app.get(
    '/healthz',
    {
      schema: {
        tags: ['ops'],
        summary: 'Liveness: the process answers.',
        response: { 200: HealthAnswer },
      },
    },
    () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['ops'],
        summary:
          'Readiness: an environment is loaded, the database (and Redis, when configured) ' +
          'answer, and the process is not shutting down.',
        response: { 200: HealthAnswer, 503: ErrorBody },
      },
    },
    async () => {
      if (!ready) throw new AppError('unavailable', 503, 'shutting down');
      const problem = await deps.platform.unreadyReason();
      if (problem !== undefined) throw new AppError('unavailable', 503, problem);
      return { status: 'ok' };
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: ['ops'], summary: 'Prometheus metrics (text exposition format).' } },
    async (_request, reply) => {
      const text = await deps.metricsText();
      return reply.type(deps.metrics.registry.contentType).send(text);
    },
  );

  app.get(
    '/api/v1/stats',
    {
      schema: {
        tags: ['ops'],
        summary: 'Request statistics since start-up, over all endpoints and all workers.',
        description:
          'request_count counts every request answered before this one (404s and 400s included); ' +
          'the /stats call being answered is not included in its own answer.',
        response: { 200: StatsAnswer, 503: ErrorBody },
      },
    },
    async () => {
      const totals = await deps.statsSource.totals();
      return {
        vm_count: deps.environments.current.index.vmCount,
        request_count: totals.count,
        average_request_time: totals.count === 0 ? 0 : totals.seconds / totals.count,
      };
    },
  );

  registerCloudRoutes(app, { environments: deps.environments, reload: deps.reload, record });
  registerEnvironmentsRoutes(app, {
    repository: deps.platform.environments,
    stored: deps.environmentStored,
    clock: Date.now,
  });
  registerJobRoutes(app, deps.platform.jobs);
  const discovery = {
    assets: deps.platform.assets,
    scans: deps.platform.scans,
    jobs: deps.platform.jobs,
    db: deps.platform.db,
    clock: Date.now,
  };
  registerDiscoveryRoutes(app, discovery);
  registerAssetRoutes(app, discovery);
  registerInventorySummaryRoutes(app, discovery);
  registerProviderRoutes(app, { db: deps.platform.db });
  await registerImportRoutes(app, discovery);
  registerIssueRoutes(
    app,
    new IssueService(deps.platform.db.kysely, deps.platform.policies, Date.now),
    deps.platform.assets,
  );
  registerPolicyRoutes(app, deps.platform.policies);
  registerSchedulerMetrics(deps.metrics.registry, deps.platform.jobs);
  await registerAttributionRoutes(app, {
    db: deps.platform.db,
    assets: deps.platform.assets,
    jobs: deps.platform.jobs,
    predict: deps.predict ?? new PredictService({ model: loadModel(null), pool: null }),
    clock: Date.now,
  });
  // Last: the UI answers the page routes and its assets.
  await registerWebUi(app);
  return app;
}
