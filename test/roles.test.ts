/**
 * Process roles on one machine, as a user runs them: `surfacescan migrate`, `serve --role api`
 * (no job workers) and separate `surfacescan worker` processes sharing one SQLite file.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assertUsageError,
  cleanEnv,
  exitWithin,
  listeningUrl,
  runCli,
  startCommand,
  type ServeProcess,
} from './helpers/cli.js';
import { fixturePath, getJson, sendJson, until } from './helpers/http.js';

const dir = mkdtempSync(join(tmpdir(), 'surfacescan-roles-'));
const children: ServeProcess[] = [];

after(() => {
  for (const child of children) child.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('surfacescan migrate', () => {
  it('applies every migration once, then reports the schema up to date', async () => {
    const env = cleanEnv({ SURFACESCAN_DATABASE_URL: `sqlite:${join(dir, 'm.db')}` });
    const first = await runCli(['migrate'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /applied 0001_core_tables, 0002_job_tables/);
    const second = await runCli(['migrate'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /up to date \(\d+ migrations\)/);
  });

  it('exits 2 with one line when the database cannot be opened', async () => {
    const result = await runCli(['migrate', '--database-url', 'sqlite:/proc/no/such/dir/x.db']);
    assertUsageError(result, 'cannot open SQLite database /proc/no/such/dir/x.db');
  });
});

describe('serve --role api with separate worker processes on one SQLite file', () => {
  const env = (): NodeJS.ProcessEnv =>
    cleanEnv({
      SURFACESCAN_DATABASE_URL: `sqlite:${join(dir, 'roles.db')}`,
      SURFACESCAN_HEARTBEAT_MS: '200',
      SURFACESCAN_WORKER_THREADS: '1',
    });

  it('leaves jobs waiting until a worker runs them, and shows the worker stop', async () => {
    const api = startCommand(
      ['serve', '--role', 'api', '--port', '0', '--cloud-env', fixturePath('input-0.json')],
      env(),
    );
    children.push(api);
    const base = await listeningUrl(api);
    const enqueued = await sendJson('POST', `${base}/api/v1/jobs`, {
      jobs: [
        { type: 'diag.cpu', id: 'cpu-1', payload: { ms: 20 } },
        { type: 'diag.noop', id: 'noop-1', payload: {} },
      ],
    });
    assert.equal(enqueued.status, 202, JSON.stringify(enqueued.body));
    await new Promise((resolve) => setTimeout(resolve, 500));
    // An API-only process runs no jobs.
    assert.equal(
      ((await getJson(`${base}/api/v1/jobs/cpu-1`)).body as { status: string }).status,
      'waiting',
    );

    // This worker takes only diag.cpu.
    const worker = startCommand(['worker', '--queues', 'diag.cpu'], env());
    children.push(worker);
    const running = await worker.waitForLog((r) => r.msg === 'surfacescan worker running');
    await until(
      async () =>
        ((await getJson(`${base}/api/v1/jobs/cpu-1`)).body as { status: string }).status ===
        'completed',
      20_000,
      'the CPU job completed by the worker',
    );
    const cpu = (await getJson(`${base}/api/v1/jobs/cpu-1`)).body as {
      result: { digests: number };
    };
    assert.ok(cpu.result.digests > 0, JSON.stringify(cpu));
    assert.equal(
      ((await getJson(`${base}/api/v1/jobs/noop-1`)).body as { status: string }).status,
      'waiting',
    );

    const scheduler = (await getJson(`${base}/api/v1/scheduler`)).body as {
      workers: { id: string; status: string; queues: string[]; pid: number }[];
    };
    const me = scheduler.workers.find((w) => w.id === running.worker);
    assert.ok(me, JSON.stringify(scheduler.workers));
    assert.equal(me.status, 'alive');
    assert.deepEqual(me.queues, ['diag.cpu']);
    assert.equal(me.pid, worker.child.pid);

    worker.child.kill('SIGTERM');
    assert.equal((await exitWithin(worker)).code, 0);
    const afterStop = (await getJson(`${base}/api/v1/scheduler`)).body as typeof scheduler;
    assert.equal(afterStop.workers.find((w) => w.id === running.worker)?.status, 'stopped');

    api.child.kill('SIGTERM');
    assert.equal((await exitWithin(api)).code, 0);
  });

  it('refuses an unknown queue name with one message, exit 2', async () => {
    const result = await runCli(['worker', '--queues', 'diag.nope'], env());
    assertUsageError(result, 'unknown queue "diag.nope" in --queues');
  });
});

describe('migrations started by several processes at once', () => {
  it('all succeed on one new SQLite file, and the schema is applied once', async () => {
    const env = cleanEnv({ SURFACESCAN_DATABASE_URL: `sqlite:${join(dir, 'race.db')}` });
    const results = await Promise.all(Array.from({ length: 5 }, () => runCli(['migrate'], env)));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    assert.equal(results.filter((r) => r.stdout.includes('applied')).length, 1);
  });
});
