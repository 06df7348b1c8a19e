/**
 * The platform a process runs on: the database (migrated), the queue backend (embedded in the
 * database, or BullMQ when Redis is configured), the job registry and, in processes that run
 * jobs, the worker runner with its CPU thread pool. One wiring point for `serve`, `worker`
 * and the tools; every engine is opened here and closed in `close`.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '#src/config/config.js';
import { connectDatabase, type Db } from '#src/storage/database.js';
import { migrate } from '#src/storage/migrations.js';
import { connectRedis } from '#src/storage/redis.js';
import { AssetRepository } from '#src/assets/assets.repository.js';
import { EnvironmentRepository } from '#src/cloud/environment.repository.js';
import { EmbeddedQueue } from '#src/jobs/embedded-queue.js';
import { BullmqQueue } from '#src/jobs/bullmq-queue.js';
import { defaultRegistry } from '#src/jobs/job-types.js';
import type { JobRegistry } from '#src/jobs/registry.js';
import type { QueueBackend } from '#src/jobs/queue.js';
import { WorkerRepository } from '#src/jobs/workers.repository.js';
import { JobService } from '#src/jobs/jobs.service.js';
import { JobRunner } from '#src/jobs/runner.js';
import type { ScanService } from '#src/discovery/scan.service.js';
import {
  createScanService,
  loadScanCapabilities,
  loadScanData,
} from '#src/discovery/discovery.wiring.js';
import type { Policy } from '#src/issues/policy.model.js';
import { createCpuPool, type CpuPool } from '#src/jobs/pool.js';

/** An open platform. */
export interface Platform {
  readonly db: Db;
  /** Shared-state Redis client (statistics); null without Redis. */
  readonly redis: Redis | null;
  readonly backend: QueueBackend;
  readonly registry: JobRegistry;
  readonly assets: AssetRepository;
  readonly workers: WorkerRepository;
  readonly environments: EnvironmentRepository;
  readonly jobs: JobService;
  /** Scans: planning (API, CLI) and shard runs (workers). */
  readonly scans: ScanService;
  /** The issue policies, loaded once per process (scans raise issues, the API lists them). */
  readonly policies: readonly Policy[];
  /** The job worker of this process; null in API-only processes. */
  readonly runner: JobRunner | null;
  /** Migrations this start applied (empty when the schema was current). */
  readonly migrated: readonly string[];
  /**
   * Starts taking jobs (processes with runJobs). Separate from opening, so a process that
   * fails to start (a taken port, say) never takes a job.
   */
  startWorkers(): Promise<void>;
  /** Why the process is not ready (a backing engine does not answer), or undefined. */
  unreadyReason(): Promise<string | undefined>;
  /** Graceful stop: the runner finishes or hands back its jobs, then every engine is closed. */
  close(timeoutMs: number): Promise<void>;
}

/** What to open. */
export interface PlatformOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Run jobs in this process (serve --role all, worker). */
  readonly runJobs: boolean;
}

const PING_TIMEOUT_MS = 1500;

/**
 * Opens the platform. Throws DatabaseUnavailableError, RedisUnavailableError, MigrationError,
 * PolicyError or FingerprintError (each a clear one-line message; the CLI exits 2) and closes
 * whatever it had opened.
 */
export async function openPlatform(options: PlatformOptions): Promise<Platform> {
  const { config, logger } = options;
  const closers: (() => Promise<unknown>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  // Bad policy or fingerprint files stop start-up before any engine is touched (exit 2).
  const data = loadScanData(config);
  const { policies } = data;
  try {
    const db = await connectDatabase(config.databaseUrl, {
      onIdleError: (error) => {
        logger.warn({ err: error.message }, 'database connection lost');
      },
    });
    closers.push(() => db.close());
    const migrated = (await migrate(db)).applied;
    const onRedisError = rateLimitedWarning(logger, 'Redis connection problem');
    let redis: Redis | null = null;
    let backend: QueueBackend;
    if (config.redisUrl !== null) {
      redis = await connectRedis(config.redisUrl, onRedisError);
      const client = redis;
      closers.push(() => {
        client.disconnect();
        return Promise.resolve();
      });
      const bull = await BullmqQueue.connect(config.redisUrl, config.redisPrefix, onRedisError);
      closers.push(() => bull.close());
      backend = bull;
    } else {
      backend = new EmbeddedQueue(db);
    }
    const registry = defaultRegistry();
    const assets = new AssetRepository(db);
    const workers = new WorkerRepository(db);
    const jobs = new JobService({
      backend,
      registry,
      workers,
      heartbeatMs: config.heartbeatMs,
      clock: Date.now,
    });
    const capabilities = loadScanCapabilities(db, data);
    // A server reads the cloud ranges before it serves, so a failure there stops start-up.
    await capabilities.providers;
    const scans = createScanService(db, assets, config, capabilities);
    let runner: JobRunner | null = null;
    let pool: CpuPool | null = null;
    if (options.runJobs) {
      pool = createCpuPool(config.workerThreads);
      const cpu = pool;
      closers.push(() => cpu.close());
      runner = new JobRunner({
        backend,
        registry,
        workers,
        assets,
        db,
        scans,
        pool,
        logger,
        queues: config.queues,
        leaseMs: config.jobLeaseMs,
        heartbeatMs: config.heartbeatMs,
      });
    }
    const platform: Platform = {
      db,
      redis,
      backend,
      registry,
      assets,
      workers,
      environments: new EnvironmentRepository(db),
      jobs,
      scans,
      policies,
      runner,
      migrated,
      startWorkers: async () => {
        await runner?.start();
      },
      unreadyReason: async () => {
        const problems = await Promise.all([
          within(db.ping(), `database ${db.label}`),
          redis === null ? undefined : within(redis.ping(), 'Redis'),
        ]);
        const found = problems.filter((p) => p !== undefined);
        return found.length === 0 ? undefined : found.join('; ');
      },
      close: async (timeoutMs) => {
        if (runner !== null) await runner.stop(timeoutMs).catch(() => 0);
        await closeAll();
      },
    };
    return platform;
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** Resolves with a problem description if `check` fails or takes too long. */
async function within(check: Promise<unknown>, what: string): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => {
      resolve(`${what} does not answer`);
    }, PING_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      check.then(
        () => undefined,
        (error: unknown) =>
          `${what} is unavailable: ${error instanceof Error ? error.message : String(error)}`,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A warning logger that says the same thing at most once every 10 s. */
function rateLimitedWarning(logger: Logger, message: string): (error: Error) => void {
  let last = 0;
  return (error) => {
    const now = Date.now();
    if (now - last < 10_000) return;
    last = now;
    logger.warn({ err: error.message }, message);
  };
}
