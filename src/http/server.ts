/**
 * The one wiring point of `surfacescan serve`: real files, real clock, real sockets. Runs as a
 * single process, or as the primary and workers of a node:cluster when --workers > 1.
 */
import cluster from 'node:cluster';
import { pino, type Logger } from 'pino';
import type { Config } from '#src/config/config.js';
import { buildApp, type App } from '#src/http/app.js';
import { WorkerLink, runPrimary } from '#src/http/cluster.js';
import { HttpMetrics } from '#src/http/metrics.js';
import { RequestStats } from '#src/http/stats.js';
import { EnvironmentService } from '#src/cloud/environment.service.js';
import { EnvironmentError, loadEnvironmentFile } from '#src/cloud/environment.loader.js';
import type { Reloader } from '#src/cloud/cloud.routes.js';
import { PACKAGE_VERSION } from '#src/version.js';

/** A start-up failure caused by the user's input: the CLI prints it and exits 2. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** A running server, for tests that start it in-process. */
export interface RunningServer {
  readonly app: App;
  readonly url: string;
  readonly environments: EnvironmentService;
  /** Graceful stop: in-flight requests finish. */
  close(): Promise<void>;
}

function makeLogger(config: Config): Logger {
  return pino({ level: config.logLevel, base: { pid: process.pid } });
}

function loadEnvironments(config: Config): EnvironmentService {
  try {
    return new EnvironmentService(config.cloudEnv, {
      read: loadEnvironmentFile,
      clock: () => new Date(),
      cacheBytes: config.answerCacheMb * 1024 * 1024,
      defer: (step) => setImmediate(step),
    });
  } catch (error) {
    if (error instanceof EnvironmentError) throw new StartupError(error.message);
    throw error;
  }
}

/** Builds and starts one HTTP server process (single-process mode or a cluster worker). */
export async function startServer(
  config: Config,
  logger = makeLogger(config),
): Promise<RunningServer> {
  const environments = loadEnvironments(config);
  const stats = new RequestStats();
  const metrics = new HttpMetrics();
  const reloadLocal = (): { version: number; vm_count: number } => {
    const snapshot = environments.reload();
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
    : () => Promise.resolve({ ...reloadLocal(), workers: 1 });

  const app = await buildApp({
    logger,
    accessLog: config.accessLog,
    version: PACKAGE_VERSION,
    environments,
    stats,
    statsSource: link ?? stats,
    metrics,
    metricsText: link ? () => link.metricsText() : () => metrics.registry.metrics(),
    reload,
  });
  const address = await app.listen({ host: config.host, port: config.port });
  const info = environments.current.index.info;
  logger.info(
    {
      url: address,
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
    close: () => app.close(),
  };
}

/** Installs SIGHUP reload and SIGTERM/SIGINT graceful shutdown for a serving process. */
function installSignals(server: RunningServer, config: Config, logger: Logger): void {
  process.on('SIGHUP', () => {
    try {
      const snapshot = server.environments.reload();
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
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    void (async () => {
      try {
        await server.close();
        process.exit(0);
      } catch (error) {
        logger.error({ err: error }, 'error while shutting down');
        process.exit(1);
      }
    })();
  };
  process.on('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.on('SIGINT', () => {
    stop('SIGINT');
  });
}

/** `surfacescan serve`: the whole product in this process, or a cluster of N workers. */
export async function serve(config: Config): Promise<void> {
  const logger = makeLogger(config);
  if (config.workers > 1 && cluster.isPrimary) {
    // Validate once before forking, so a bad file stops start-up with one message, exit 2.
    try {
      loadEnvironmentFile(config.cloudEnv);
    } catch (error) {
      if (error instanceof EnvironmentError) throw new StartupError(error.message);
      throw error;
    }
    runPrimary({ workers: config.workers, logger, shutdownTimeoutMs: config.shutdownTimeoutMs });
    return;
  }
  const server = await startServer(config, logger);
  installSignals(server, config, logger);
}
