/**
 * A worker process for bench:jobs, wired from the library classes exactly as a deployed
 * `surfacescan worker` would be: database, queue backend, registry, worker and asset
 * repositories, the CPU thread pool and the job runner. The bench starts one or two of these
 * and drives them through the queue only.
 *
 * Environment: BENCH_BACKEND (embedded | bullmq), BENCH_DB_URL (the jobs and workers tables
 * for embedded, only the workers table for bullmq), BENCH_REDIS_URL and BENCH_PREFIX (bullmq),
 * BENCH_THREADS (pool threads), BENCH_QUEUES (comma-separated).
 *
 * Prints "ready" once it takes jobs; on SIGTERM it stops gracefully and prints its CPU time as
 * "cpu <user ms> <system ms>" before exiting.
 */
import {
  createScanService,
  loadScanCapabilities,
  loadScanData,
} from '#src/discovery/discovery.wiring.js';
import { availableParallelism } from 'node:os';
import { pino } from 'pino';
import { connectDatabase } from '#src/storage/database.js';
import { EmbeddedQueue } from '#src/jobs/embedded-queue.js';
import { BullmqQueue } from '#src/jobs/bullmq-queue.js';
import { defaultRegistry } from '#src/jobs/job-types.js';
import { WorkerRepository } from '#src/jobs/workers.repository.js';
import { AssetRepository } from '#src/assets/assets.repository.js';
import { createCpuPool } from '#src/jobs/pool.js';
import { JobRunner } from '#src/jobs/runner.js';
import type { QueueBackend } from '#src/jobs/queue.js';

const env = process.env;
const logger = pino({ level: 'warn' }, pino.destination(2));
const db = await connectDatabase(env.BENCH_DB_URL ?? '');
const backend: QueueBackend =
  env.BENCH_BACKEND === 'bullmq'
    ? await BullmqQueue.connect(env.BENCH_REDIS_URL ?? '', env.BENCH_PREFIX ?? '', (error) => {
        logger.warn({ err: error.message }, 'redis');
      })
    : new EmbeddedQueue(db);
const pool = createCpuPool(Number(env.BENCH_THREADS ?? availableParallelism()));
const queues = (env.BENCH_QUEUES ?? 'diag.noop,diag.cpu').split(',');
// Lease and heartbeat as the configuration defaults them (src/config/config.ts).
const assets = new AssetRepository(db);
const runner = new JobRunner({
  backend,
  registry: defaultRegistry(),
  workers: new WorkerRepository(db),
  assets,
  db,
  scans: createScanService(
    db,
    assets,
    { scanMaxRate: 1, scanDefaultRate: 1, scanMaxHosts: 1 },
    loadScanCapabilities(db, loadScanData({ policies: [], fingerprints: [] })),
  ),
  pool,
  logger,
  queues,
  leaseMs: 30_000,
  heartbeatMs: 2_000,
});
await runner.start();
process.stdout.write('ready\n');

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void (async () => {
    await runner.stop(5_000);
    await pool.close();
    await backend.close();
    await db.close();
    const cpu = process.cpuUsage();
    process.stdout.write(
      `cpu ${String(Math.round(cpu.user / 1000))} ${String(Math.round(cpu.system / 1000))}\n`,
    );
    process.exit(0);
  })();
});
