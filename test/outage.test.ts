/**
 * Faults of the backing engines, with real servers: an unreachable PostgreSQL or Redis at
 * start-up is one clear message and exit 2; losing one while running makes /readyz and the
 * requests that need it answer 503 `unavailable` while the rest keeps serving, and the service
 * recovers by itself when the engine comes back. The outages are real: the tests stop and
 * start their own private PostgreSQL and Redis, never the shared ones.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  cleanEnv,
  listeningUrl,
  REPO_ROOT,
  runCli,
  startServe,
  type CliResult,
  type ServeProcess,
} from './helpers/cli.js';
import { scratchPostgres, type ScratchDatabase } from './helpers/databases.js';
import {
  freePort,
  postgresBinDir,
  PrivatePostgres,
  PrivateRedis,
  redisServerAvailable,
} from './helpers/private-engines.js';

const PG_BIN = postgresBinDir();
const SHARED_POSTGRES_URL =
  process.env.SURFACESCAN_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_AVAILABLE = await redisServerAvailable();

/** What the servers under test serve, and one answer they must keep giving from memory. */
const CLOUD_ENV = 'test/fixtures/cloud/input-2.json';
const VM = 'vm-2ba4d2f87';
const ATTACKERS: readonly string[] = (() => {
  const expected = JSON.parse(
    readFileSync(`${REPO_ROOT}test/fixtures/cloud/expected.json`, 'utf8'),
  ) as Record<string, Record<string, string[]> | undefined>;
  const list = expected['input-2.json']?.[VM];
  assert.ok(list !== undefined && list.length > 0, `expected.json lists attackers of ${VM}`);
  return list;
})();

/** --shutdown-timeout-ms of the servers: SIGTERM must end them well within it. */
const SHUTDOWN_MS = 5000;
/** Generous bounds: a loaded 2-core machine runs these next to other suites. */
const NOTICE_MS = 10_000;
const RECOVER_MS = 20_000;
const JOB_MS = 20_000;

// ---------------------------------------------------------------------------------------------
// Helpers

/** An HTTP answer: status and parsed JSON body (or the text when it is not JSON). */
interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** One request; a transport failure (the process is gone) rejects. */
async function call(method: 'GET' | 'POST', url: string, body?: unknown): Promise<Answer> {
  const response = await fetch(url, {
    method,
    signal: AbortSignal.timeout(10_000),
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Left as text: the assertion that follows shows it.
  }
  return { status: response.status, body: parsed };
}

/** POST one diag job; the answer as is. */
function enqueue(base: string, type = 'diag.noop', payload: object = {}): Promise<Answer> {
  return call('POST', `${base}/api/v1/jobs`, { jobs: [{ type, payload }] });
}

/** The id of an accepted enqueue (202 with one id); fails the test otherwise. */
function acceptedId(answer: Answer): string {
  assert.equal(answer.status, 202, JSON.stringify(answer));
  const id: unknown = (answer.body as { ids?: unknown[] }).ids?.[0];
  assert.ok(typeof id === 'string', JSON.stringify(answer));
  return id;
}

/** Asserts 503 with the stable `unavailable` code. */
function assertUnavailable(answer: Answer, what: string): void {
  const code = (answer.body as { error?: { code?: unknown } } | null)?.error?.code;
  assert.ok(
    answer.status === 503 && code === 'unavailable',
    `${what}: expected 503 unavailable, got ${JSON.stringify(answer)}`,
  );
}

/**
 * Repeats `probe` (every 100 ms) until `done` accepts its answer; fails after timeoutMs with
 * the last answer or error, so a product that never gets there says where it got stuck.
 */
async function eventually<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  context: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let last: string;
    try {
      const value = await probe();
      if (done(value)) return value;
      last = JSON.stringify(value);
    } catch (error) {
      last = `error: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${String(timeoutMs)} ms; last: ${last}\n${context()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const isUnavailable = (answer: Answer): boolean =>
  answer.status === 503 &&
  (answer.body as { error?: { code?: unknown } } | null)?.error?.code === 'unavailable';

/** Polls a job until it reaches `completed` (any other final status fails at once). */
async function jobCompletes(
  server: ServeProcess,
  base: string,
  id: string,
): Promise<Record<string, unknown>> {
  const answer = await eventually(
    `job ${id} completes`,
    JOB_MS,
    () => call('GET', `${base}/api/v1/jobs/${id}`),
    (a) => {
      const status = (a.body as { status?: unknown }).status;
      if (a.status === 200 && status === 'failed') assert.fail(`job failed: ${JSON.stringify(a)}`);
      return a.status === 200 && status === 'completed';
    },
    () => problems(server),
  );
  return answer.body as Record<string, unknown>;
}

/** The process has not exited (it must ride out every outage). */
function assertAlive(server: ServeProcess): void {
  assert.ok(
    server.child.exitCode === null && server.child.signalCode === null,
    `serve exited (code ${String(server.child.exitCode)}, signal ${String(server.child.signalCode)})\nstderr: ${server.stderr()}`,
  );
}

/** The last lines a server logged, and its stderr, for failure messages. */
function problems(server: ServeProcess): string {
  const lines = server.logs
    .filter((record) => record.level >= 30)
    .slice(-30)
    .map((record) => JSON.stringify(record).slice(0, 1000));
  return `last log lines of serve:\n${lines.join('\n')}\nstderr: ${server.stderr()}`;
}

/** The in-memory attack answer is still right. */
async function assertAttackServed(base: string): Promise<void> {
  const answer = await call('GET', `${base}/api/v1/attack?vm_id=${VM}`);
  assert.equal(answer.status, 200, JSON.stringify(answer));
  assert.deepEqual([...(answer.body as string[])].sort(), [...ATTACKERS].sort());
}

/** Starts serve with the test settings plus `extra` and waits for its URL. */
async function serveWith(
  extra: readonly string[],
): Promise<{ server: ServeProcess; base: string }> {
  const server = startServe(
    [
      '--cloud-env',
      CLOUD_ENV,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--worker-threads',
      '1',
      '--shutdown-timeout-ms',
      String(SHUTDOWN_MS),
      ...extra,
    ],
    cleanEnv({ SURFACESCAN_LOG_LEVEL: 'info' }),
  );
  try {
    return { server, base: await listeningUrl(server) };
  } catch (error) {
    server.kill();
    throw error;
  }
}

/**
 * Runs `work` while a few clients keep enqueueing batches of jobs; resolves with the outcome of
 * every enqueue: its status, or why there was none.
 */
async function underLoad(base: string, work: () => Promise<void>): Promise<string[]> {
  const outcomes: string[] = [];
  let busy = true;
  const jobs = Array.from({ length: 200 }, () => ({ type: 'diag.noop', payload: {} }));
  const lanes = Array.from({ length: 6 }, async () => {
    while (busy) {
      outcomes.push(
        await call('POST', `${base}/api/v1/jobs`, { jobs }).then(
          (answer) => String(answer.status),
          (error: unknown) => `no answer: ${explain(error)}`,
        ),
      );
    }
  });
  try {
    await work();
  } finally {
    busy = false;
    await Promise.all(lanes);
  }
  return outcomes;
}

/** An error with its causes (fetch hides the socket error in `cause`). */
function explain(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause === undefined ? error.message : `${error.message} (${explain(error.cause)})`;
}

/**
 * SIGTERM: exit code 0. The server forces its exit with code 1 once the shutdown timeout plus a
 * 5 s margin has passed, so code 0 means it stopped within its bound.
 */
async function assertGracefulStop(server: ServeProcess): Promise<void> {
  const started = Date.now();
  const limit = SHUTDOWN_MS + 8000;
  server.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => {
      resolve('late');
    }, limit);
  });
  const outcome = await Promise.race([server.exited, late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    server.kill();
    assert.fail(`serve did not exit within ${String(limit)} ms of SIGTERM\n${problems(server)}`);
  }
  const context = `exit after ${String(Date.now() - started)} ms\n${problems(server)}`;
  assert.equal(outcome.signal, null, context);
  assert.equal(outcome.code, 0, context);
}

/**
 * A start-up failure as a user sees it: exit 2, quickly, one paragraph on stderr naming the
 * (redacted) URL, no stack trace, and the server never claimed to listen.
 */
function assertStartupFailure(
  result: CliResult,
  elapsedMs: number,
  url: string,
  password: string,
): void {
  const context = `after ${String(elapsedMs)} ms\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  assert.equal(result.code, 2, context);
  assert.ok(elapsedMs < 10_000, `took too long\n${context}`);
  assert.ok(!result.stdout.includes('surfacescan listening'), context);
  assert.match(result.stderr, /^surfacescan: /, context);
  assert.ok(result.stderr.endsWith('\n'), context);
  assert.doesNotMatch(result.stderr, /\n\s*\n/, `one paragraph\n${context}`);
  assert.ok(!/^\s+at /m.test(result.stderr), `no stack trace\n${context}`);
  assert.ok(result.stderr.includes(url), `names ${url}\n${context}`);
  assert.ok(!result.stderr.includes(password), `password redacted\n${context}`);
}

async function timed(work: Promise<CliResult>): Promise<{ result: CliResult; ms: number }> {
  const started = Date.now();
  const result = await work;
  return { result, ms: Date.now() - started };
}

// ---------------------------------------------------------------------------------------------
// Start-up

describe('an unreachable engine at start-up', () => {
  const password = 's3cret-pw';
  let deadPort = 0;
  before(async () => {
    deadPort = await freePort();
  });

  it('serve, worker and migrate with a dead PostgreSQL exit 2 with one message naming it', async () => {
    const url = `postgres://surf:${password}@127.0.0.1:${String(deadPort)}/surfacescan`;
    const shown = `postgres://surf:***@127.0.0.1:${String(deadPort)}/surfacescan`;
    // One after the other: each is timed, and three Node start-ups at once on a loaded
    // machine would measure the machine rather than the product.
    const commands = [
      ['serve', '--cloud-env', CLOUD_ENV, '--port', '0', '--database-url', url],
      ['worker', '--worker-threads', '1', '--database-url', url],
      ['migrate', '--database-url', url],
    ];
    for (const args of commands) {
      const { result, ms } = await timed(runCli(args));
      assertStartupFailure(result, ms, shown, password);
    }
  });

  it('serve with a dead Redis exits 2 with one message naming it', async () => {
    const url = `redis://:${password}@127.0.0.1:${String(deadPort)}`;
    const shown = `redis://:***@127.0.0.1:${String(deadPort)}`;
    const { result, ms } = await timed(
      runCli(['serve', '--cloud-env', CLOUD_ENV, '--port', '0', '--redis-url', url]),
    );
    assertStartupFailure(result, ms, shown, password);
  });
});

// ---------------------------------------------------------------------------------------------
// PostgreSQL lost while running

describe(
  'PostgreSQL lost while serving (embedded queue)',
  {
    skip:
      PG_BIN === undefined
        ? 'PostgreSQL server binaries (initdb, pg_ctl, postgres) not found under /usr/lib/postgresql/*/bin; set SURFACESCAN_TEST_PG_BIN'
        : false,
  },
  () => {
    let postgres: PrivatePostgres | undefined;
    let server: ServeProcess | undefined;
    let base = '';
    /** Servers started by single tests, killed at the end if they are still running. */
    const others: ServeProcess[] = [];

    before(async () => {
      postgres = await PrivatePostgres.create(PG_BIN ?? '');
      ({ server, base } = await serveWith(['--database-url', postgres.url()]));
    });
    after(async () => {
      for (const each of [server, ...others]) {
        each?.kill();
        await each?.exited;
      }
      await postgres?.destroy();
    });

    it('is ready and runs jobs while PostgreSQL answers', async () => {
      assert.ok(server !== undefined);
      assert.equal((await call('GET', `${base}/readyz`)).status, 200);
      await jobCompletes(server, base, acceptedId(await enqueue(base)));
    });

    it('answers 503 unavailable where it needs the database, keeps serving the rest and stays up', async () => {
      assert.ok(postgres !== undefined && server !== undefined);
      // A job that finishes while the database is away: its outcome must not be lost.
      const slow = acceptedId(
        await enqueue(base, 'diag.flaky', { message: 'unused', succeed_on: 1, sleep_ms: 1500 }),
      );
      await eventually(
        'the slow job starts',
        JOB_MS,
        () => call('GET', `${base}/api/v1/jobs/${slow}`),
        (a) => (a.body as { status?: unknown }).status === 'active',
      );
      // Stop it under load: transactions in flight when the server goes are the hard case
      // (a pooled connection that breaks while checked out must not take the process down).
      const outcomes = await underLoad(base, () => postgres!.stop());
      assertAlive(server);
      assert.deepEqual(
        outcomes.filter((outcome) => outcome !== '202' && outcome !== '503'),
        [],
        `enqueues while PostgreSQL stopped: 202 or 503 only\n${problems(server)}`,
      );

      const ready = await eventually(
        '/readyz says unavailable',
        NOTICE_MS,
        () => call('GET', `${base}/readyz`),
        isUnavailable,
      );
      assert.match(JSON.stringify(ready.body), /database/);
      assertUnavailable(await enqueue(base), 'POST /api/v1/jobs');
      assertUnavailable(await call('GET', `${base}/api/v1/scheduler`), 'GET /api/v1/scheduler');
      assertUnavailable(await call('GET', `${base}/api/v1/jobs/${slow}`), 'GET /api/v1/jobs/:id');
      // Ride out a while: heartbeats, queue polls and the slow job's outcome all fail meanwhile.
      const until = Date.now() + 3000;
      while (Date.now() < until) {
        await assertAttackServed(base);
        assert.equal((await call('GET', `${base}/healthz`)).status, 200);
        assertUnavailable(await call('GET', `${base}/readyz`), 'GET /readyz');
        assertAlive(server);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assertAlive(server);

      await postgres.start();
      await eventually(
        '/readyz is ready again',
        RECOVER_MS,
        () => call('GET', `${base}/readyz`),
        (a) => a.status === 200,
      );
      const fresh = acceptedId(await enqueue(base));
      await jobCompletes(server, base, fresh);
      const finished = await jobCompletes(server, base, slow);
      assert.deepEqual(finished.result, { attempt: 1 }, JSON.stringify(finished));
      assert.equal((await call('GET', `${base}/api/v1/scheduler`)).status, 200);
      assertAlive(server);
    });

    it('SIGTERM ends it with exit code 0 within the shutdown timeout', async () => {
      assert.ok(server !== undefined);
      await assertGracefulStop(server);
    });

    it('SIGTERM while PostgreSQL is away still ends it with exit code 0 in time', async () => {
      assert.ok(postgres !== undefined);
      const second = await serveWith(['--database-url', postgres.url()]);
      others.push(second.server);
      await jobCompletes(second.server, second.base, acceptedId(await enqueue(second.base)));
      // A job that finishes during the outage leaves an outcome the worker cannot write: the
      // stop must give up on it in time (the lease brings the job back) rather than wait.
      const slow = acceptedId(
        await enqueue(second.base, 'diag.flaky', {
          message: 'unused',
          succeed_on: 1,
          sleep_ms: 800,
        }),
      );
      await eventually(
        'the slow job starts',
        JOB_MS,
        () => call('GET', `${second.base}/api/v1/jobs/${slow}`),
        (a) => (a.body as { status?: unknown }).status === 'active',
      );
      const started = Date.now();
      await postgres.stop();
      await eventually(
        '/readyz says unavailable',
        NOTICE_MS,
        () => call('GET', `${second.base}/readyz`),
        isUnavailable,
      );
      // Nothing observable says the job has finished while the database is away: wait it out.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + 1500 - Date.now())));
      await assertGracefulStop(second.server);
    });
  },
);

// ---------------------------------------------------------------------------------------------
// Redis lost while running

/** Whether the shared PostgreSQL answers (the Redis suite keeps its tables there). */
async function sharedPostgresAnswers(): Promise<boolean> {
  const client = new pg.Client({
    connectionString: SHARED_POSTGRES_URL,
    connectionTimeoutMillis: 5000,
  });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const SHARED_POSTGRES_UP = REDIS_AVAILABLE && (await sharedPostgresAnswers());

describe(
  'Redis lost while serving (BullMQ queue, shared statistics)',
  {
    skip: !REDIS_AVAILABLE
      ? 'redis-server is not installed'
      : !SHARED_POSTGRES_UP
        ? `the test PostgreSQL (${SHARED_POSTGRES_URL}; SURFACESCAN_TEST_POSTGRES_URL) does not answer`
        : false,
  },
  () => {
    let database: ScratchDatabase | undefined;
    let redis: PrivateRedis | undefined;
    let server: ServeProcess | undefined;
    let base = '';
    /** Servers started by single tests, killed at the end if they are still running. */
    const others: ServeProcess[] = [];

    before(async () => {
      database = await scratchPostgres(SHARED_POSTGRES_URL);
      redis = await PrivateRedis.create();
      ({ server, base } = await serveWith([
        '--database-url',
        database.url,
        '--redis-url',
        redis.url,
        '--redis-prefix',
        `outage-${String(process.pid)}`,
      ]));
    });
    after(async () => {
      for (const each of [server, ...others]) {
        each?.kill();
        await each?.exited;
      }
      await redis?.destroy();
      await database?.drop();
    });

    it('is ready, runs jobs and counts requests while Redis answers', async () => {
      assert.ok(server !== undefined);
      assert.equal((await call('GET', `${base}/readyz`)).status, 200);
      await jobCompletes(server, base, acceptedId(await enqueue(base)));
      const stats = await call('GET', `${base}/api/v1/stats`);
      assert.equal(stats.status, 200, JSON.stringify(stats));
    });

    it('rides out a flapping Redis under load: every enqueue is accepted or 503, none fails', async () => {
      assert.ok(redis !== undefined && server !== undefined);
      // Whether a pipeline is cut half-answered is a matter of timing: a few rounds make it
      // likely that one is.
      for (let round = 0; round < 3; round++) {
        const outcomes = await underLoad(base, async () => {
          await redis!.stop();
          await redis!.start();
        });
        assertAlive(server);
        assert.deepEqual(
          outcomes.filter((outcome) => outcome !== '202' && outcome !== '503'),
          [],
          `enqueues while Redis restarted: 202 or 503 only\n${problems(server)}`,
        );
      }
    });

    it('answers 503 unavailable where it needs Redis, keeps serving the rest and recovers', async () => {
      assert.ok(redis !== undefined && server !== undefined);
      const outcomes = await underLoad(base, () => redis!.stop());
      assertAlive(server);
      assert.deepEqual(
        outcomes.filter((outcome) => outcome !== '202' && outcome !== '503'),
        [],
        `enqueues while Redis stopped: 202 or 503 only\n${problems(server)}`,
      );

      const ready = await eventually(
        '/readyz says unavailable',
        NOTICE_MS,
        () => call('GET', `${base}/readyz`),
        isUnavailable,
      );
      assert.match(JSON.stringify(ready.body), /Redis/);
      assertUnavailable(await enqueue(base), 'POST /api/v1/jobs');
      assertUnavailable(await call('GET', `${base}/api/v1/stats`), 'GET /api/v1/stats');
      const until = Date.now() + 3000;
      while (Date.now() < until) {
        await assertAttackServed(base);
        assert.equal((await call('GET', `${base}/healthz`)).status, 200);
        assertAlive(server);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }

      // A fresh, empty Redis on the same port: the service must find it by itself.
      await redis.start();
      await eventually(
        '/readyz is ready again',
        RECOVER_MS,
        () => call('GET', `${base}/readyz`),
        (a) => a.status === 200,
      );
      await jobCompletes(server, base, acceptedId(await enqueue(base)));
      const stats = await eventually(
        '/api/v1/stats answers again',
        RECOVER_MS,
        () => call('GET', `${base}/api/v1/stats`),
        (a) => a.status === 200,
      );
      const body = stats.body as { request_count?: unknown; vm_count?: unknown };
      assert.equal(typeof body.request_count, 'number', JSON.stringify(stats));
      assert.ok((body.request_count as number) > 0, JSON.stringify(stats));
      assertAlive(server);
    });

    it('SIGTERM ends it with exit code 0 within the shutdown timeout', async () => {
      assert.ok(server !== undefined);
      await assertGracefulStop(server);
    });

    it('SIGTERM while Redis is away still ends it with exit code 0 in time', async () => {
      assert.ok(redis !== undefined && database !== undefined);
      const second = await serveWith([
        '--database-url',
        database.url,
        '--redis-url',
        redis.url,
        '--redis-prefix',
        `outage-${String(process.pid)}-2`,
      ]);
      others.push(second.server);
      await jobCompletes(second.server, second.base, acceptedId(await enqueue(second.base)));
      await redis.stop();
      await eventually(
        '/readyz says unavailable',
        NOTICE_MS,
        () => call('GET', `${second.base}/readyz`),
        isUnavailable,
      );
      await assertGracefulStop(second.server);
    });
  },
);
