/**
 * The one wiring point of `surfacescan serve`: real files, real clock, real sockets, real
 * engines. Runs as a single process, or as the primary and workers of a node:cluster when
 * --workers > 1. With --role all (the default) the process also runs job workers.
 */
import cluster from 'node:cluster';
import { pino, type Logger } from 'pino';
import type { Config } from '#src/config/config.js';
import { buildApp, type App } from '#src/http/app.js';
import { WorkerLink, runPrimary } from '#src/http/cluster.js';
import { HttpMetrics } from '#src/http/metrics.js';
import { RequestStats } from '#src/http/stats.js';
import { SharedStats } from '#src/http/shared-stats.js';
import { EnvironmentService } from '#src/cloud/environment.service.js';
import { loadEnvironmentFile } from '#src/cloud/environment.loader.js';
import {
  environmentReader,
  parseEnvironmentSource,
  type EnvironmentSource,
} from '#src/cloud/environment.source.js';
import type { Reloader } from '#src/cloud/cloud.routes.js';
import { openPlatform, type Platform } from '#src/jobs/platform.js';
import { migrateDatabase } from '#src/storage/migrations.js';
import { loadExampleData } from '#src/discovery/example-data.js';
import { PACKAGE_VERSION } from '#src/version.js';
import { predictServiceFor, startPredictServer } from '#src/attribution/predict.server.js';

/** A running server, for tests that start it in-process. */
export interface RunningServer {
  readonly app: App;
  readonly url: string;
  readonly environments: EnvironmentService;
  readonly platform: Platform;
  /** Graceful stop: in-flight requests finish, job workers finish or hand back their jobs. */
  close(): Promise<void>;
}

/** How often a db:latest server looks for a newer stored version. */
const DB_POLL_MS = 2000;

/** The process logger. */
export function makeLogger(config: Config): Logger {
  return pino({ level: config.logLevel, base: { pid: process.pid } });
}

/** Builds and starts one HTTP server process (single-process mode or a cluster worker). */
export async function startServer(
  config: Config,
  logger = makeLogger(config),
): Promise<RunningServer> {
  const source = parseEnvironmentSource(config.cloudEnv);
  // Set once the database is open; a db source's reader needs it.
  let platform: Platform | undefined = undefined;
  const serviceDeps = {
    read: environmentReader(source, () => {
      if (platform === undefined) throw new Error('the database is not open yet');
      return platform.environments;
    }),
    clock: () => new Date(),
    cacheBytes: config.answerCacheMb * 1024 * 1024,
    defer: (step: () => void) => setImmediate(step),
  };
  // A bad file stops start-up before any engine is touched; db sources need the database.
  const fromFile =
    source.kind === 'file' ? EnvironmentService.openSync(config.cloudEnv, serviceDeps) : undefined;
  platform = await openPlatform({
    config,
    logger,
    runJobs: config.role === 'all',
  });
  try {
    if (config.exampleData) await loadExampleData({ ...platform, logger });
    const environments = fromFile ?? (await EnvironmentService.open(config.cloudEnv, serviceDeps));
    return await startHttp(config, logger, platform, environments, source);
  } catch (error) {
    await platform.close(0);
    throw error;
  }
}

async function startHttp(
  config: Config,
  logger: Logger,
  platform: Platform,
  environments: EnvironmentService,
  source: EnvironmentSource,
): Promise<RunningServer> {
  const stats = new RequestStats();
  const shared =
    platform.redis === null ? undefined : new SharedStats(platform.redis, config.redisPrefix);
  const metrics = new HttpMetrics();
  const reloadLocal = async (): Promise<{ version: number; vm_count: number }> => {
    const snapshot = await environments.reload();
    logger.info(
      {
        version: snapshot.version,
        vms: snapshot.index.vmCount,
        build_ms: snapshot.index.info.build_ms,
      },
      'environment reloaded',
    );
    return { version: snapshot.version, vm_count: snapshot.index.vmCount };
  };
  const link = cluster.isWorker
    ? new WorkerLink({ stats: () => stats.local(), reload: reloadLocal }, metrics.registry)
    : undefined;
  const reload: Reloader = link
    ? () => link.reloadAll()
    : async () => ({ ...(await reloadLocal()), workers: 1 });

  // A db:latest server follows the newest stored version, wherever it was stored from.
  let poll: NodeJS.Timeout | undefined;
  const followLatest = async (): Promise<void> => {
    const latest = await platform.environments.latestVersion();
    if (latest > environments.current.version) await reloadLocal();
  };
  if (source.kind === 'db' && source.version === 'latest') {
    poll = setInterval(() => {
      followLatest().catch((error: unknown) => {
        logger.warn({ err: (error as Error).message }, 'cannot check for a newer environment');
      });
    }, DB_POLL_MS);
    poll.unref();
  }

  const predict = predictServiceFor(config, config.workerThreads);
  const app = await buildApp({
    predict,
    logger,
    accessLog: config.accessLog,
    version: PACKAGE_VERSION,
    environments,
    stats,
    statsSource: shared ?? link ?? stats,
    metrics,
    metricsText: link ? () => link.metricsText() : () => metrics.registry.metrics(),
    reload,
    platform,
    recordShared: shared === undefined ? undefined : (ms) => shared.record(ms),
    environmentStored: () =>
      source.kind === 'db' && source.version === 'latest' ? followLatest() : Promise.resolve(),
  });
  let address: string;
  try {
    address = await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await predict.close();
    throw error;
  }
  await platform.startWorkers();
  const info = environments.current.index.info;
  logger.info(
    {
      url: address,
      role: config.role,
      database: platform.db.label,
      migrated: platform.migrated,
      worker: platform.runner?.id,
      queue: platform.backend.kind,
      vms: info.vm_count,
      rules: info.rule_count,
      build_ms: Math.round(info.build_ms),
      source: config.cloudEnv,
    },
    'surfacescan listening',
  );
  return {
    app,
    url: address,
    environments,
    platform,
    close: async () => {
      clearInterval(poll);
      await app.close();
      await predict.close();
      shared?.close();
      await platform.close(config.shutdownTimeoutMs);
    },
  };
}

/** Installs SIGHUP reload and SIGTERM/SIGINT graceful shutdown for a serving process. */
function installSignals(server: RunningServer, config: Config, logger: Logger): void {
  process.on('SIGHUP', () => {
    void (async () => {
      try {
        const snapshot = await server.environments.reload();
        logger.info(
          { version: snapshot.version, vms: snapshot.index.vmCount },
          'environment reloaded on SIGHUP',
        );
      } catch (error) {
        logger.error(
          { err: error instanceof Error ? error.message : String(error) },
          'reload rejected; the previous environment keeps serving',
        );
      }
    })();
  });
  onStopSignal(logger, config.shutdownTimeoutMs, () => server.close());
}

/**
 * On SIGTERM/SIGINT runs `stop` once, then exits 0 (1 if it fails or takes longer than the
 * timeout plus a margin for handing jobs back).
 */
export function onStopSignal(logger: Logger, timeoutMs: number, stop: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight work');
    const force = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, timeoutMs + 5000);
    force.unref();
    void (async () => {
      try {
        await stop();
        process.exit(0);
      } catch (error) {
        logger.error({ err: error }, 'error while shutting down');
        process.exit(1);
      }
    })();
  };
  process.on('SIGTERM', () => {
    handle('SIGTERM');
  });
  process.on('SIGINT', () => {
    handle('SIGINT');
  });
}

/** `surfacescan serve`: the whole product in this process, or a cluster of N workers. */
export async function serve(config: Config): Promise<void> {
  const logger = makeLogger(config);
  if (config.workers > 1 && cluster.isPrimary) {
    // Check once before forking, so a bad file or an unreachable database stops start-up with
    // one message (exit 2), and migrate once, so workers never race to create the schema.
    // A predict process has no environment and no database to check.
    if (config.role !== 'predict') {
      const source = parseEnvironmentSource(config.cloudEnv);
      if (source.kind === 'file') loadEnvironmentFile(source.path);
      await migrateDatabase(config.databaseUrl);
    }
    runPrimary({ workers: config.workers, logger, shutdownTimeoutMs: config.shutdownTimeoutMs });
    return;
  }
  if (config.role === 'predict') {
    const predict = await startPredictServer(config, logger);
    onStopSignal(logger, config.shutdownTimeoutMs, () => predict.close());
    return;
  }
  // Workers migrate too: after the primary did, nothing is pending, and an in-memory database
  // (sqlite::memory:) is per process.
  const server = await startServer(config, logger);
  installSignals(server, config, logger);
}
