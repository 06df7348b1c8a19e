/**
 * `serve --role predict`: a process that serves only GET /healthz and POST /api/v1/predict, so
 * the model scales on its own behind a reverse proxy. It opens no database and no queue; scoring
 * runs in its worker-thread pool.
 */
import Fastify, { LogController } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Config } from '#src/config/config.js';
import type { App } from '#src/http/app.js';
import { errorHandler, sendNotFound } from '#src/http/error-handler.js';
import { HealthAnswer } from '#src/http/http.schema.js';
import { createCpuPool } from '#src/jobs/pool.js';
import { registerPredictRoute } from '#src/attribution/attribution.routes.js';
import { ModelFileError, PredictService, loadModel } from '#src/attribution/predict.service.js';
import type { Thresholds } from '#src/attribution/model.js';
import { StartupError } from '#src/startup-error.js';

/** A model or threshold setting that cannot be used: the CLI reports it and exits 2. */
export class PredictSetupError extends StartupError {
  constructor(message: string) {
    super(message);
    this.name = 'PredictSetupError';
  }
}

/** The predict service a process's settings describe (model file, thresholds, pool). */
export function predictServiceFor(config: Config, threads: number): PredictService {
  let model;
  try {
    model = loadModel(config.attributionModel);
  } catch (error) {
    if (error instanceof ModelFileError) throw new PredictSetupError(error.message);
    throw error;
  }
  const thresholds: Thresholds = {
    owned: config.predictOwnedThreshold ?? model.thresholds.owned,
    candidate: config.predictCandidateThreshold ?? model.thresholds.candidate,
  };
  if (thresholds.candidate > thresholds.owned)
    throw new PredictSetupError(
      `the candidate threshold (${String(thresholds.candidate)}) is above the owned threshold (${String(thresholds.owned)})`,
    );
  return new PredictService({ model, pool: createCpuPool(threads), thresholds });
}

/** A running predict-only server. */
export interface PredictServer {
  readonly url: string;
  readonly app: App;
  close(): Promise<void>;
}

/** Starts the predict-only server. */
export async function startPredictServer(config: Config, logger: Logger): Promise<PredictServer> {
  const predict = predictServiceFor(config, config.workerThreads);
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: !config.accessLog }),
    // The one route's schema forbids unknown keys, "__proto__" included, so the prototype
    // scan of secure-json-parse (a tenth of the request's CPU at 10,000 pairs) buys nothing.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    ajv: { customOptions: { allErrors: false } },
    schemaErrorFormatter: (errors, dataVar) => {
      const first = errors[0];
      const field = first?.instancePath.replace(/^\//, '').replace(/\//g, '.') ?? '';
      return new Error(
        `${dataVar} ${field === '' ? '' : `parameter "${field}" `}${first?.message ?? 'is invalid'}`,
      );
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler(errorHandler());
  app.setNotFoundHandler(sendNotFound);
  app.get('/healthz', { schema: { response: { 200: HealthAnswer } } }, () => ({ status: 'ok' }));
  registerPredictRoute(app, predict);
  const url = await app.listen({ host: config.host, port: config.port });
  logger.info(
    { url, role: 'predict', model: predict.model.version, threads: config.workerThreads },
    'surfacescan predict listening',
  );
  return {
    url,
    app: app as unknown as App,
    close: async () => {
      await app.close();
      await predict.close();
    },
  };
}
