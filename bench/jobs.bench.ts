/**
 * npm run bench:jobs: the job queue backends and asset ingest, in one run.
 *
 * 1. End-to-end jobs/s: the bench enqueues a burst of jobs in batches (as the API would) and
 *    times from the first add() to the completion of the last job, as the store records it
 *    (finished_at of the embedded rows, finishedOn of the BullMQ jobs). The jobs run in 1 or 2
 *    worker PROCESSES (bench/jobs-worker.ts, wired from the library classes) on: the embedded
 *    queue on SQLite (a temp file), the embedded queue on PostgreSQL (a scratch database),
 *    BullMQ on Redis (a unique key prefix). Job types: diag.noop (the queue's own cost) and
 *    diag.cpu {ms: 5}, whose ceiling is cores / 5 ms.
 * 2. Enqueue-to-start latency (started_at - created_at; processedOn - timestamp on BullMQ),
 *    p50/p99, both under the burst (dominated by the backlog) and at a moderate steady rate.
 * 3. Asset upserts through AssetRepository.upsertAssets in batches, SQLite and PostgreSQL, fresh
 *    keys and existing keys, against a raw better-sqlite3 prepared-statement loop in one
 *    transaction on the same schema.
 *
 * Every store is created for the run and removed afterwards. Only 127.0.0.1 is contacted.
 *
 * Environment variables:
 * - BENCH_JOBS: diag.noop jobs per burst (default 20000); diag.cpu bursts are a twentieth of it,
 *   ingest runs 2.5 times it in rows. BENCH_JOBS=5000 makes a quick run.
 * - BENCH_REPEATS: bursts per scenario, reported as the median (default 3).
 * - BENCH_STEADY_RATE: jobs/s of the steady-rate latency phase (default 200), for 3 s.
 * - BENCH_PARTS: queues, ingest or both, comma-separated (default both).
 * - BENCH_BACKENDS: which of sqlite, postgres, bullmq to run, comma-separated (default all);
 *   ingest runs on the SQL engines among them.
 * - BENCH_WORKER_ARGS: extra node options for the worker processes, space-separated (for
 *   profiling: "--cpu-prof --cpu-prof-dir=/tmp/prof").
 * - BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test) and BENCH_REDIS_URL
 *   (default redis://127.0.0.1:6379); a backend that does not answer is skipped with a note.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import SqliteDatabase from 'better-sqlite3';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { connectDatabase, type Db } from '#src/storage/database.js';
import { migrate } from '#src/storage/migrations.js';
import { EmbeddedQueue } from '#src/jobs/embedded-queue.js';
import { BullmqQueue } from '#src/jobs/bullmq-queue.js';
import { defaultRegistry } from '#src/jobs/job-types.js';
import type { EnqueueRequest } from '#src/jobs/registry.js';
import type { QueueBackend } from '#src/jobs/queue.js';
import { AssetRepository, type AssetSighting } from '#src/assets/assets.repository.js';
import { int, machine, median, ms, pct, quantile, sleep, table, wholeNumber } from './common.js';

const WORKER = new URL('./jobs-worker.js', import.meta.url).pathname;

const NOOP_JOBS = wholeNumber('BENCH_JOBS', 20_000, 100);
const CPU_JOBS = Math.max(50, Math.round(NOOP_JOBS / 20));
const INGEST_ROWS = Math.max(1000, Math.round(NOOP_JOBS * 2.5));
const REPEATS = wholeNumber('BENCH_REPEATS', 3, 1);
const STEADY_RATE = wholeNumber('BENCH_STEADY_RATE', 200, 1);
const STEADY_SECONDS = 3;
const PARTS = (process.env.BENCH_PARTS ?? 'queues,ingest').split(',').map((p) => p.trim());
const ONLY = (process.env.BENCH_BACKENDS ?? 'sqlite,postgres,bullmq')
  .split(',')
  .map((b) => b.trim());
const WORKER_ARGS = (process.env.BENCH_WORKER_ARGS ?? '').split(' ').filter((a) => a !== '');
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Jobs per add() call in a burst, as a bulk API request would send them. */
const ENQUEUE_BATCH = 1000;
const CPU_MS = 5;
const CORES = availableParallelism();
const CPU_CEILING = (CORES * 1000) / CPU_MS;
const TARGET_EMBEDDED = 2000;
const TARGET_BULLMQ = 5000;
const TARGET_INGEST = 20_000;
const WAIT_LIMIT_MS = 180_000;

// --- stores ---------------------------------------------------------------------------------

type BackendName = 'sqlite' | 'postgres' | 'bullmq';

/** A fresh store for one group of scenarios and how to remove it. */
interface Store {
  /** The database of the embedded queue, or of the workers table only (bullmq). */
  readonly dbUrl: string;
  readonly prefix: string;
  drop(): Promise<void>;
}

function scratchSqlite(): Store {
  const dir = mkdtempSync(join(tmpdir(), 'surfacescan-bench-jobs-'));
  return {
    dbUrl: `sqlite:${join(dir, 'bench.db')}`,
    prefix: '',
    drop: () => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

async function adminQuery(text: string): Promise<void> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(text);
  } finally {
    await admin.end();
  }
}

async function scratchPostgres(): Promise<Store> {
  const name = `surfacescan_bench_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    dbUrl: url.toString(),
    prefix: '',
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function deleteRedisKeys(prefix: string): Promise<void> {
  const client = new Redis(REDIS_URL, { lazyConnect: true });
  await client.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

function scratchRedis(): Store {
  const sqlite = scratchSqlite();
  const prefix = `ssbench${randomBytes(4).toString('hex')}`;
  return {
    dbUrl: sqlite.dbUrl,
    prefix,
    drop: async () => {
      await deleteRedisKeys(prefix);
      await sqlite.drop();
    },
  };
}

async function reachable(backend: BackendName): Promise<string | undefined> {
  try {
    if (backend === 'postgres') await adminQuery('select 1');
    if (backend === 'bullmq') {
      const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await client.connect();
        await client.ping();
      } finally {
        client.disconnect();
      }
    }
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Clock ticks per second of /proc/<pid>/stat times. */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** CPU milliseconds (user + system, all threads) a process has used so far; NaN off Linux. */
function processCpuMs(pid: number): number {
  try {
    // Fields after the command name, which may contain spaces, hence the split at ") ".
    const fields = readFileSync(`/proc/${String(pid)}/stat`, 'utf8')
      .split(') ')[1]
      ?.split(' ');
    return ((Number(fields?.[11]) + Number(fields?.[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** CPU milliseconds used so far by this process and the given workers. */
function clientCpuMs(workers: readonly WorkerProcess[]): number {
  const own = process.cpuUsage();
  let total = (own.user + own.system) / 1000;
  for (const w of workers) total += processCpuMs(w.child.pid ?? -1);
  return total;
}

// --- workers --------------------------------------------------------------------------------

interface WorkerProcess {
  readonly child: ChildProcess;
  /** Resolves with the child's CPU milliseconds (user + system) once it has exited. */
  readonly cpuMs: Promise<number>;
}

async function startWorker(backend: BackendName, store: Store): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [...WORKER_ARGS, WORKER], {
    env: {
      ...process.env,
      BENCH_BACKEND: backend === 'bullmq' ? 'bullmq' : 'embedded',
      BENCH_DB_URL: store.dbUrl,
      BENCH_REDIS_URL: REDIS_URL,
      BENCH_PREFIX: store.prefix,
      BENCH_THREADS: String(CORES),
      BENCH_QUEUES: 'diag.noop,diag.cpu',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  let cpu = NaN;
  let onReady: (() => void) | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    child.once('exit', (code) => {
      reject(new Error(`worker exited with ${String(code)} before it was ready`));
    });
  });
  lines.on('line', (line) => {
    if (line === 'ready') onReady?.();
    const match = /^cpu (\d+) (\d+)$/.exec(line);
    if (match !== null) cpu = Number(match[1]) + Number(match[2]);
  });
  const cpuMs = new Promise<number>((resolve) => {
    child.once('exit', () => {
      resolve(cpu);
    });
  });
  await ready;
  return { child, cpuMs };
}

async function stopWorkers(workers: readonly WorkerProcess[]): Promise<number> {
  for (const w of workers) w.child.kill('SIGTERM');
  const cpu = await Promise.all(workers.map((w) => w.cpuMs));
  return cpu.reduce((a, b) => a + b, 0);
}

// --- measuring the queue --------------------------------------------------------------------

/** Times of one finished job: enqueued, started, finished (epoch ms, one machine clock). */
interface JobTimes {
  readonly created: number;
  readonly started: number;
  readonly finished: number;
}

/** The producer side of a group: the backend, and a reader of the jobs' recorded times. */
interface Producer {
  readonly backend: QueueBackend;
  /** Times of the completed jobs of a queue created at or after `since`. */
  times(queue: string, since: number): Promise<JobTimes[]>;
  /** CPU milliseconds the engine has used so far, where it says (Redis); NaN otherwise. */
  engineCpuMs(): Promise<number>;
  close(): Promise<void>;
}

async function openProducer(backend: BackendName, store: Store): Promise<Producer> {
  if (backend !== 'bullmq') {
    const db = await connectDatabase(store.dbUrl);
    return {
      backend: new EmbeddedQueue(db),
      times: async (queue, since) => {
        const rows = await db.kysely
          .selectFrom('jobs')
          .select(['created_at', 'started_at', 'finished_at'])
          .where('queue', '=', queue)
          .where('state', '=', 'completed')
          .where('created_at', '>=', since)
          .execute();
        return rows.map((r) => ({
          created: r.created_at,
          started: r.started_at ?? NaN,
          finished: r.finished_at ?? NaN,
        }));
      },
      // PostgreSQL has no per-database CPU figure, and SQLite runs inside the processes.
      engineCpuMs: () => Promise.resolve(NaN),
      close: () => db.close(),
    };
  }
  const bull = await BullmqQueue.connect(REDIS_URL, store.prefix, () => undefined);
  // The backend keeps BullMQ's Queue to itself; a reader of our own looks at the same keys.
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const readers = new Map<string, Queue>();
  return {
    backend: bull,
    times: async (queue, since) => {
      let reader = readers.get(queue);
      if (reader === undefined) {
        reader = new Queue(queue, { connection, prefix: `${store.prefix}:bull` });
        readers.set(queue, reader);
      }
      const out: JobTimes[] = [];
      const page = 1000;
      for (let start = 0; ; start += page) {
        const jobs = await reader.getJobs(['completed'], start, start + page - 1, true);
        for (const job of jobs) {
          if (job.timestamp < since) continue;
          out.push({
            created: job.timestamp,
            started: job.processedOn ?? NaN,
            finished: job.finishedOn ?? NaN,
          });
        }
        if (jobs.length < page) break;
      }
      return out;
    },
    engineCpuMs: async () => {
      // The whole server's figure: other clients of the same Redis count too.
      const info = await connection.info('cpu');
      const used = (name: string): number =>
        Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
      return (used('used_cpu_user') + used('used_cpu_sys')) * 1000;
    },
    close: async () => {
      for (const reader of readers.values()) await reader.close();
      connection.disconnect();
      await bull.close();
    },
  };
}

const registry = defaultRegistry();
let jobSeq = 0;

function requests(type: string, n: number): EnqueueRequest[] {
  const payload = type === 'diag.cpu' ? { ms: CPU_MS } : {};
  return Array.from({ length: n }, () => ({
    type,
    payload,
    id: `bench-${String(++jobSeq)}`,
  }));
}

async function completed(backend: QueueBackend, queue: string): Promise<number> {
  const [counts] = await backend.counts([queue]);
  return (counts?.completed ?? 0) + (counts?.failed ?? 0);
}

/**
 * Polls until `target` jobs of the queue are finished. It watches the last job added first, by
 * id, which costs the store one key lookup (counting a large queue every 100 ms would load the
 * very database being measured), then counts until the stragglers are done too. The timing
 * itself comes from the times the store recorded.
 */
async function waitFinished(
  backend: QueueBackend,
  queue: string,
  lastId: string,
  target: number,
): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  const check = (): void => {
    if (Date.now() > deadline) throw new Error(`${queue}: jobs not finished in time`);
  };
  for (;;) {
    const status = (await backend.get(lastId, [queue]))?.status;
    if (status === 'completed' || status === 'failed') break;
    check();
    await sleep(50);
  }
  while ((await completed(backend, queue)) < target) {
    check();
    await sleep(50);
  }
}

interface BurstResult {
  readonly jobs: number;
  /** Jobs per second accepted by add(), batches of ENQUEUE_BATCH. */
  readonly enqueueRate: number;
  /** Jobs per second from the first add() to the last completion. */
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
  /** CPU of the bench process and the workers per job, in microseconds (not the engine's). */
  readonly cpuUs: number;
  /** CPU of the Redis server per job, in microseconds (NaN for the SQL engines). */
  readonly engineCpuUs: number;
}

function latencies(times: readonly JobTimes[]): { p50: number; p99: number; max: number } {
  const waits = times.map((t) => t.started - t.created).sort((a, b) => a - b);
  return { p50: quantile(waits, 0.5), p99: quantile(waits, 0.99), max: waits.at(-1) ?? NaN };
}

async function burst(
  producer: Producer,
  workers: readonly WorkerProcess[],
  type: string,
  n: number,
): Promise<BurstResult> {
  const before = await completed(producer.backend, type);
  const all = registry.prepare(requests(type, n));
  const cpu0 = clientCpuMs(workers);
  const engine0 = await producer.engineCpuMs();
  const t0 = Date.now();
  for (let i = 0; i < all.length; i += ENQUEUE_BATCH) {
    await producer.backend.add(all.slice(i, i + ENQUEUE_BATCH));
  }
  const enqueued = Date.now();
  await waitFinished(producer.backend, type, all.at(-1)!.id, before + n);
  const cpuUs = ((clientCpuMs(workers) - cpu0) * 1000) / n;
  const engineCpuUs = (((await producer.engineCpuMs()) - engine0) * 1000) / n;
  const times = await producer.times(type, t0);
  if (times.length !== n) throw new Error(`${type}: ${String(times.length)} of ${String(n)} done`);
  const end = Math.max(...times.map((t) => t.finished));
  const { p50, p99 } = latencies(times);
  return {
    jobs: n,
    enqueueRate: (n / Math.max(1, enqueued - t0)) * 1000,
    rate: (n / Math.max(1, end - t0)) * 1000,
    p50,
    p99,
    cpuUs,
    engineCpuUs,
  };
}

/** Enqueues one job at a time at `rate` per second for `seconds`; returns start latencies. */
async function steady(
  producer: Producer,
  type: string,
  rate: number,
  seconds: number,
): Promise<{ jobs: number; p50: number; p99: number; max: number }> {
  const before = await completed(producer.backend, type);
  const n = rate * seconds;
  const all = registry.prepare(requests(type, n));
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    // Each job at its own time, so a slow add() delays later ones no more than it must.
    const due = t0 + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    await producer.backend.add([all[i]!]);
  }
  await waitFinished(producer.backend, type, all.at(-1)!.id, before + n);
  const times = await producer.times(type, t0);
  return { jobs: times.length, ...latencies(times) };
}

interface GroupResult {
  readonly backend: BackendName;
  readonly workers: number;
  readonly noop: BurstResult[];
  readonly cpu: BurstResult[];
  readonly steady: { jobs: number; p50: number; p99: number; max: number };
  /** CPU seconds of the worker processes over the whole group. */
  readonly workerCpuS: number;
}

async function group(backend: BackendName, workerCount: number): Promise<GroupResult> {
  const store =
    backend === 'sqlite'
      ? scratchSqlite()
      : backend === 'postgres'
        ? await scratchPostgres()
        : scratchRedis();
  const workers: WorkerProcess[] = [];
  let producer: Producer | undefined;
  try {
    const db: Db = await connectDatabase(store.dbUrl);
    await migrate(db);
    await db.close();
    producer = await openProducer(backend, store);
    for (let i = 0; i < workerCount; i++) workers.push(await startWorker(backend, store));
    // Warm-up (discarded): connections, JIT, the pool's second thread.
    await burst(producer, workers, 'diag.noop', 500);
    await burst(producer, workers, 'diag.cpu', 50);
    const noop: BurstResult[] = [];
    const cpu: BurstResult[] = [];
    const label = `${backend}, ${String(workerCount)} worker(s)`;
    for (let r = 0; r < REPEATS; r++) {
      noop.push(await burst(producer, workers, 'diag.noop', NOOP_JOBS));
      console.error(`  ${label}: diag.noop burst ${String(r + 1)}: ${int(noop.at(-1)!.rate)}/s`);
      cpu.push(await burst(producer, workers, 'diag.cpu', CPU_JOBS));
      console.error(`  ${label}: diag.cpu burst ${String(r + 1)}: ${int(cpu.at(-1)!.rate)}/s`);
    }
    const calm = await steady(producer, 'diag.noop', STEADY_RATE, STEADY_SECONDS);
    console.error(`  ${label}: steady p50 ${ms(calm.p50)} ms, p99 ${ms(calm.p99)} ms`);
    const cpuMs = await stopWorkers(workers.splice(0));
    return { backend, workers: workerCount, noop, cpu, steady: calm, workerCpuS: cpuMs / 1000 };
  } finally {
    await stopWorkers(workers);
    await producer?.close();
    await store.drop();
  }
}

// --- ingest ---------------------------------------------------------------------------------

/** R sightings with keys unique to `run`, so a run starts from keys the table has never seen. */
function sightings(run: number, count: number, seenAt: number): AssetSighting[] {
  return Array.from({ length: count }, (_, i) => ({
    kind: 'ip' as const,
    key: `${String(run)}.${String((i >> 16) & 255)}.${String((i >> 8) & 255)}.${String(i & 255)}`,
    seenAt,
    provider: i % 2 === 0 ? 'aws' : null,
  }));
}

async function upsertRate(
  repo: AssetRepository,
  rows: readonly AssetSighting[],
  batch: number,
): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += batch) await repo.upsertAssets(rows.slice(i, i + batch));
  return (rows.length / (performance.now() - t0)) * 1000;
}

interface IngestRow {
  readonly engine: string;
  readonly keys: 'fresh' | 'existing';
  readonly batch: string;
  readonly rate: number;
  readonly peer: number;
}

/** Rows/s of a plain prepared INSERT (fresh) or the same upsert (existing), one transaction. */
async function rawSqlite(
  rows: readonly AssetSighting[],
): Promise<{ fresh: number; again: number }> {
  const store = scratchSqlite();
  try {
    const db = await connectDatabase(store.dbUrl);
    await migrate(db);
    await db.close();
    const native = new SqliteDatabase(store.dbUrl.slice('sqlite:'.length));
    // The settings connectDatabase gives every SQLite connection.
    native.pragma('journal_mode = WAL');
    native.pragma('synchronous = NORMAL');
    const insert = native.prepare(
      'insert into assets (id, kind, key, org_id, provider, first_seen, last_seen) ' +
        'values (?, ?, ?, ?, ?, ?, ?)',
    );
    const upsert = native.prepare(
      'insert into assets (id, kind, key, org_id, provider, first_seen, last_seen) ' +
        'values (?, ?, ?, ?, ?, ?, ?) on conflict (kind, key) do update set ' +
        'first_seen = min(assets.first_seen, excluded.first_seen), ' +
        'last_seen = max(assets.last_seen, excluded.last_seen), ' +
        'org_id = coalesce(excluded.org_id, assets.org_id), ' +
        'provider = coalesce(excluded.provider, assets.provider)',
    );
    const loop = (statement: SqliteDatabase.Statement, seenAt: number): number => {
      const t0 = performance.now();
      native.transaction(() => {
        for (const r of rows) {
          statement.run(randomUUID(), r.kind, r.key, null, r.provider ?? null, seenAt, seenAt);
        }
      })();
      return (rows.length / (performance.now() - t0)) * 1000;
    };
    const fresh = loop(insert, 1);
    const again = loop(upsert, 2);
    native.close();
    return { fresh, again };
  } finally {
    await store.drop();
  }
}

async function ingest(engines: readonly ('sqlite' | 'postgres')[]): Promise<IngestRow[]> {
  const out: IngestRow[] = [];
  const raw = await rawSqlite(sightings(200, INGEST_ROWS, 1));
  out.push(
    {
      engine: 'raw better-sqlite3 (peer)',
      keys: 'fresh',
      batch: 'all, 1 tx',
      rate: raw.fresh,
      peer: raw.fresh,
    },
    {
      engine: 'raw better-sqlite3 (peer)',
      keys: 'existing',
      batch: 'all, 1 tx',
      rate: raw.again,
      peer: raw.again,
    },
  );
  let run = 0;
  for (const engine of engines) {
    const store = engine === 'sqlite' ? scratchSqlite() : await scratchPostgres();
    try {
      const db = await connectDatabase(store.dbUrl);
      await migrate(db);
      const repo = new AssetRepository(db);
      // Warm-up (discarded).
      await upsertRate(repo, sightings(++run, 2000, 1), 1000);
      for (const batch of [1000, 100]) {
        const rows = sightings(++run, INGEST_ROWS, 1);
        const fresh = await upsertRate(repo, rows, batch);
        const again = await upsertRate(
          repo,
          rows.map((r) => ({ ...r, seenAt: 2 })),
          batch,
        );
        console.error(
          `  ingest ${engine}, batch ${String(batch)}: fresh ${int(fresh)}/s, existing ${int(again)}/s`,
        );
        out.push(
          { engine, keys: 'fresh', batch: int(batch), rate: fresh, peer: raw.fresh },
          { engine, keys: 'existing', batch: int(batch), rate: again, peer: raw.again },
        );
      }
      await db.close();
    } finally {
      await store.drop();
    }
  }
  return out;
}

// --- the run --------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  console.log(`machine: ${machine()}`);
  console.log(
    `bursts: ${int(NOOP_JOBS)} diag.noop and ${int(CPU_JOBS)} diag.cpu {ms: ${String(CPU_MS)}} ` +
      `jobs, enqueued ${int(ENQUEUE_BATCH)} per add(), ${String(REPEATS)} burst(s) per ` +
      `scenario (median); steady rate ${String(STEADY_RATE)} jobs/s for ${String(STEADY_SECONDS)} s; ` +
      `worker processes with ${String(CORES)} pool threads each; ingest ${int(INGEST_ROWS)} rows\n`,
  );
  const backends: BackendName[] = [];
  for (const backend of ['sqlite', 'postgres', 'bullmq'] as const) {
    if (!ONLY.includes(backend)) continue;
    const problem = await reachable(backend);
    if (problem === undefined) backends.push(backend);
    else console.log(`${backend}: skipped, not reachable (${problem})`);
  }

  const groups: GroupResult[] = [];
  if (PARTS.includes('queues')) {
    for (const backend of backends) {
      for (const workers of [1, 2]) groups.push(await group(backend, workers));
    }
  }
  const ingestRows = PARTS.includes('ingest')
    ? await ingest(backends.filter((b) => b !== 'bullmq'))
    : [];

  const name = (b: BackendName): string =>
    b === 'sqlite'
      ? 'embedded, SQLite'
      : b === 'postgres'
        ? 'embedded, PostgreSQL'
        : 'BullMQ, Redis';
  const noopTarget = (g: GroupResult): number =>
    g.backend === 'bullmq' ? TARGET_BULLMQ : TARGET_EMBEDDED;
  const range = (list: readonly BurstResult[]): string =>
    REPEATS > 1
      ? `${int(Math.min(...list.map((r) => r.rate)))}-${int(Math.max(...list.map((r) => r.rate)))}`
      : '';

  if (groups.length > 0) {
    console.log(
      `\nEnd-to-end jobs/s (first add() to last completion), median of ${String(REPEATS)}; ` +
        `start latency = enqueue to start under the burst (the backlog dominates it); client CPU = ` +
        `this process and the workers, not the database or Redis. diag.cpu ceiling: ` +
        `${String(CORES)} cores / ${String(CPU_MS)} ms = ${int(CPU_CEILING)} jobs/s (the task spins ` +
        `for 5 ms of wall-clock time, so preempted pool threads can finish it on less CPU).\n`,
    );
    const rows: string[][] = [];
    for (const g of groups) {
      for (const [job, list] of [
        ['diag.noop', g.noop],
        ['diag.cpu 5 ms', g.cpu],
      ] as const) {
        const rate = median(list.map((r) => r.rate));
        const versus =
          job === 'diag.noop'
            ? `${pct(rate / noopTarget(g))} of target ${int(noopTarget(g))}`
            : `${pct(rate / CPU_CEILING)} of ceiling`;
        rows.push([
          name(g.backend),
          String(g.workers),
          job,
          int(list[0]?.jobs ?? NaN),
          int(median(list.map((r) => r.enqueueRate))),
          `**${int(rate)}**`,
          ...(REPEATS > 1 ? [range(list)] : []),
          versus,
          ms(median(list.map((r) => r.p50))),
          ms(median(list.map((r) => r.p99))),
          int(median(list.map((r) => r.cpuUs))),
          int(median(list.map((r) => r.engineCpuUs))),
        ]);
      }
    }
    console.log(
      table(
        [
          'backend',
          'worker processes',
          'job',
          'jobs',
          'enqueue jobs/s',
          'end-to-end jobs/s',
          ...(REPEATS > 1 ? ['range'] : []),
          'vs target / ceiling',
          'burst p50 start ms',
          'burst p99 start ms',
          'client CPU µs/job',
          'Redis CPU µs/job',
        ],
        rows,
        2,
      ),
    );

    console.log(
      `\nEnqueue-to-start latency at a steady ${String(STEADY_RATE)} diag.noop jobs/s ` +
        `(one job per add(), ${String(STEADY_SECONDS)} s):\n`,
    );
    console.log(
      table(
        [
          'backend',
          'worker processes',
          'jobs',
          'p50 ms',
          'p99 ms',
          'max ms',
          'worker CPU s (group)',
        ],
        groups.map((g) => [
          name(g.backend),
          String(g.workers),
          int(g.steady.jobs),
          ms(g.steady.p50),
          ms(g.steady.p99),
          ms(g.steady.max),
          g.workerCpuS.toFixed(1),
        ]),
        2,
      ),
    );
  }

  if (ingestRows.length > 0) {
    console.log(
      `\nAsset upserts (AssetRepository.upsertAssets), ${int(INGEST_ROWS)} rows per cell:\n`,
    );
    console.log(
      table(
        ['engine', 'keys', 'rows per call', 'rows/s', 'vs raw better-sqlite3'],
        ingestRows.map((r) => [r.engine, r.keys, r.batch, int(r.rate), pct(r.rate / r.peer)]),
        2,
      ),
    );
  }

  const verdict = (ok: boolean): string => (ok ? 'PASS' : 'MISS');
  console.log('\nTargets:');
  for (const g of groups) {
    if (g.backend === 'bullmq' && g.workers !== 2) continue;
    const rate = median(g.noop.map((r) => r.rate));
    const target = noopTarget(g);
    console.log(
      `- ${name(g.backend)}, ${String(g.workers)} worker(s): diag.noop >= ${int(target)}/s: ` +
        `${verdict(rate >= target)}, ${int(rate)}/s (${pct(rate / target)})`,
    );
  }
  for (const r of ingestRows.filter((row) => row.engine === 'sqlite')) {
    console.log(
      `- SQLite upserts >= ${int(TARGET_INGEST)} rows/s, ${r.keys} keys, ${r.batch} per call: ` +
        `${verdict(r.rate >= TARGET_INGEST)}, ${int(r.rate)}/s (${pct(r.rate / TARGET_INGEST)})`,
    );
  }
  console.log(`\nTotal run time ${String(Math.round((Date.now() - started) / 1000))} s.`);
}

await main();
