/**
 * The OpenAPI document of the app, rendered from an in-memory platform exactly as /openapi.json
 * serves it (used by `surfacescan openapi`, which loads this module only when it runs).
 */
import { pino } from 'pino';
import { BUNDLED_CLOUD_ENV, loadConfig } from '#src/config/config.js';
import { openPlatform } from '#src/jobs/platform.js';
import { buildApp } from '#src/http/app.js';
import { HttpMetrics } from '#src/http/metrics.js';
import { RequestStats } from '#src/http/stats.js';
import { EnvironmentService } from '#src/cloud/environment.service.js';
import { loadEnvironmentFile } from '#src/cloud/environment.loader.js';
import { PACKAGE_VERSION } from '#src/version.js';

/** Renders the OpenAPI document of the app, exactly as /openapi.json serves it. */
export async function renderOpenApi(): Promise<string> {
  const environments = EnvironmentService.openSync(BUNDLED_CLOUD_ENV, {
    read: (path) => ({ environment: loadEnvironmentFile(path) }),
    clock: () => new Date(0),
    cacheBytes: 1024 * 1024,
  });
  // The routes need a platform to exist; an in-memory one with no workers is enough.
  const logger = pino({ level: 'silent' });
  const platform = await openPlatform({
    config: loadConfig({ databaseUrl: 'sqlite::memory:', logLevel: 'silent' }, {}),
    logger,
    runJobs: false,
  });
  const stats = new RequestStats();
  const metrics = new HttpMetrics({ defaultMetrics: false });
  const app = await buildApp({
    logger,
    accessLog: false,
    version: PACKAGE_VERSION,
    environments,
    stats,
    statsSource: stats,
    metrics,
    metricsText: () => metrics.registry.metrics(),
    reload: () => Promise.reject(new Error('not serving')),
    platform,
    environmentStored: () => Promise.resolve(),
  });
  await app.ready();
  const text = `${JSON.stringify(app.swagger(), null, 2)}\n`;
  await app.close();
  await platform.close(0);
  return text;
}
