/**
 * `surfacescan worker`: a job worker process without HTTP. Run as many as the work needs, on
 * as many machines, against the same database (and Redis, for BullMQ).
 */
import { Command } from 'commander';
import { addSettingOptions, configFromOptions } from '#src/cli/settings-options.js';

const WORKER_SETTINGS = [
  'databaseUrl',
  'redisUrl',
  'redisPrefix',
  'queues',
  'workerThreads',
  'jobLeaseMs',
  'heartbeatMs',
  'logLevel',
  'shutdownTimeoutMs',
  'policies',
  'fingerprints',
] as const;

/** Builds the worker command. */
export function workerCommand(): Command {
  const command = new Command('worker').description(
    'Run job workers (no HTTP): take jobs from the queues, run them, report to the scheduler.\n' +
      'SIGTERM: stop taking jobs, let running ones finish within --shutdown-timeout-ms, hand\n' +
      'the rest back to the queue. Every flag can also be set with its SURFACESCAN_* variable.',
  );
  addSettingOptions(command, WORKER_SETTINGS);
  command.action(async (options: Record<string, string | boolean | undefined>) => {
    const config = configFromOptions(options);
    // Loaded here, not at the top, so that other commands start without the platform's modules.
    const { makeLogger, onStopSignal } = await import('#src/http/server.js');
    const { openPlatform } = await import('#src/jobs/platform.js');
    const logger = makeLogger(config);
    const platform = await openPlatform({ config, logger, runJobs: true });
    await platform.startWorkers();
    logger.info(
      {
        migrated: platform.migrated,
        worker: platform.runner?.id,
        queues: platform.runner?.queues,
        database: platform.db.label,
        queue: platform.backend.kind,
        threads: config.workerThreads,
      },
      'surfacescan worker running',
    );
    onStopSignal(logger, config.shutdownTimeoutMs, () => platform.close(config.shutdownTimeoutMs));
  });
  return command;
}
