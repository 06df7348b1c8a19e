/**
 * The platform behind a real listening server: jobs enqueued over HTTP run in the server's own
 * workers and land in the database; stored environments are served by db:latest; the
 * scheduler view and metrics report it. Runs on SQLite and on PostgreSQL (when configured),
 * with the embedded queue, and with BullMQ when a test Redis is configured.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RunningServer } from '#src/http/server.js';
import { engines, REDIS_URL, type ScratchDatabase } from './helpers/databases.js';
import { fixturePath, getJson, sendJson, startTestServer, until } from './helpers/http.js';

const expected = JSON.parse(readFileSync(fixturePath('expected.json'), 'utf8')) as Record<
  string,
  Record<string, string[]>
>;

interface Setup {
  readonly name: string;
  readonly redis: boolean;
  readonly engine: ReturnType<typeof engines>[number];
}

const setups: Setup[] = engines().map((engine) => ({
  name: `embedded queue on ${engine.name}`,
  redis: false,
  engine,
}));
if (REDIS_URL !== undefined && REDIS_URL !== '') {
  setups.push({ name: 'BullMQ on Redis, data on sqlite', redis: true, engine: engines()[0]! });
}

interface JobView {
  status: string;
  attempts: number;
  result: unknown;
  error: string | null;
}

for (const setup of setups) {
  describe(`platform over HTTP: ${setup.name}`, () => {
    let database: ScratchDatabase;
    let server: RunningServer;
    let base: string;
    before(async () => {
      database = await setup.engine.create();
      server = await startTestServer('db:latest', {
        databaseUrl: database.url,
        heartbeatMs: '200',
        ...(setup.redis
          ? { redisUrl: REDIS_URL, redisPrefix: `sstest${randomBytes(4).toString('hex')}` }
          : {}),
      });
      base = server.url;
    });
    after(async () => {
      await server.close();
      await database.drop();
    });

    it('is ready when its engines answer', async () => {
      const ready = await getJson(`${base}/readyz`);
      assert.equal(ready.status, 200, JSON.stringify(ready.body));
    });

    it('serves an empty environment until one is stored, then the stored one', async () => {
      const empty = await getJson(`${base}/api/v1/environment`);
      assert.equal((empty.body as { version: number }).version, 0);
      assert.equal((empty.body as { vm_count: number }).vm_count, 0);
      const doc = JSON.parse(readFileSync(fixturePath('input-1.json'), 'utf8')) as unknown;
      const stored = await sendJson('POST', `${base}/api/v1/environments`, doc);
      assert.equal(stored.status, 201, JSON.stringify(stored.body));
      const info = stored.body as { version: number; vm_count: number; sha256: string };
      assert.equal(info.version, 1);
      assert.match(info.sha256, /^[0-9a-f]{64}$/);
      // The server that stored it serves it at once.
      for (const [vm, attackers] of Object.entries(expected['input-1.json']!)) {
        const answer = await getJson(`${base}/api/v1/attack?vm_id=${encodeURIComponent(vm)}`);
        assert.deepEqual(answer.body, attackers, vm);
      }
      const list = await getJson(`${base}/api/v1/environments`);
      assert.deepEqual(
        (list.body as { version: number }[]).map((v) => v.version),
        [1],
      );
    });

    it('rejects a bad environment with its JSON path and stores nothing', async () => {
      const before = ((await getJson(`${base}/api/v1/environments`)).body as unknown[]).length;
      const bad = await sendJson('POST', `${base}/api/v1/environments`, {
        vms: [{ vm_id: 'a', name: 'a', tags: ['x', 3] }],
        fw_rules: [],
      });
      assert.equal(bad.status, 400);
      assert.deepEqual(Object.keys((bad.body as { error: object }).error), ['code', 'message']);
      const error = (bad.body as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'validation_error');
      assert.match(error.message, /\$\.vms\[0\]\.tags\[1\]/);
      const dup = await sendJson('POST', `${base}/api/v1/environments`, {
        vms: [
          { vm_id: 'a', name: 'a', tags: [] },
          { vm_id: 'a', name: 'b', tags: [] },
        ],
        fw_rules: [],
      });
      assert.equal(dup.status, 400);
      const notJson = await sendJson('POST', `${base}/api/v1/environments`, '{"vms": [');
      assert.equal(notJson.status, 400);
      assert.equal((notJson.body as { error: { code: string } }).error.code, 'validation_error');
      const after = ((await getJson(`${base}/api/v1/environments`)).body as unknown[]).length;
      assert.equal(after, before);
    });

    it('runs enqueued ingest jobs in its workers and stores their assets once', async () => {
      const tag = randomBytes(3).toString('hex');
      const jobs = Array.from({ length: 120 }, (_, i) => ({
        type: 'assets.ingest',
        id: `ingest-${tag}-${String(i)}`,
        payload: {
          assets: [
            { kind: 'ip', key: `198.51.100.${String(i)}`, provider: 'On Prem', data: { i } },
            { kind: 'domain', key: `host${String(i % 10)}.${tag}.example` },
          ],
        },
      }));
      const answer = await sendJson('POST', `${base}/api/v1/jobs`, { jobs });
      assert.equal(answer.status, 202, JSON.stringify(answer.body));
      const ids = (answer.body as { ids: string[] }).ids;
      assert.deepEqual(
        ids,
        jobs.map((j) => j.id),
      );
      // The same ids again add nothing (dedup).
      const again = await sendJson('POST', `${base}/api/v1/jobs`, { jobs: jobs.slice(0, 10) });
      assert.equal(again.status, 202);
      await until(
        async () => {
          const last = await getJson(`${base}/api/v1/jobs/${ids.at(-1)!}`);
          return (last.body as JobView).status === 'completed';
        },
        30_000,
        'last ingest job completed',
      );
      for (const id of ids) {
        const job = (await getJson(`${base}/api/v1/jobs/${id}`)).body as JobView;
        assert.equal(job.status, 'completed', id);
        assert.deepEqual(job.result, { assets: 2, observations_written: 2 });
      }
      const assets = server.platform.assets;
      assert.equal(await assets.countAssets('ip'), 120);
      // Ten distinct domains, seen 12 times each, stored once each.
      const domain = await assets.findAsset('domain', `host3.${tag}.example`);
      assert.ok(domain !== undefined);
      assert.equal(await assets.countObservations(domain.id), 12);
      assert.equal(await assets.countObservations(), 240);
    });

    it('refuses a bad job payload at the door and enqueues nothing of the batch', async () => {
      const countsBefore = await server.platform.backend.counts(['diag.noop']);
      const bad = await sendJson('POST', `${base}/api/v1/jobs`, {
        jobs: [
          { type: 'diag.noop', payload: {} },
          { type: 'diag.cpu', payload: { ms: 'lots' } },
        ],
      });
      assert.equal(bad.status, 400);
      const error = (bad.body as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'validation_error');
      assert.match(error.message, /jobs\[1\]/);
      assert.match(error.message, /diag\.cpu/);
      const unknown = await sendJson('POST', `${base}/api/v1/jobs`, {
        jobs: [{ type: 'no.such.job', payload: {} }],
      });
      assert.equal(unknown.status, 400);
      assert.match((unknown.body as { error: { message: string } }).error.message, /no\.such\.job/);
      const empty = await sendJson('POST', `${base}/api/v1/jobs`, { jobs: [] });
      assert.equal(empty.status, 400);
      assert.deepEqual(await server.platform.backend.counts(['diag.noop']), countsBefore);
      const missing = await getJson(`${base}/api/v1/jobs/nope-${randomBytes(4).toString('hex')}`);
      assert.equal(missing.status, 404);
      assert.equal((missing.body as { error: { code: string } }).error.code, 'not_found');
    });

    it('keeps a failing job failed with its error and shows it in the scheduler', async () => {
      const id = `flaky-${randomBytes(4).toString('hex')}`;
      await sendJson('POST', `${base}/api/v1/jobs`, {
        jobs: [{ type: 'diag.flaky', id, payload: { message: 'upstream said no' } }],
      });
      await until(
        async () =>
          ((await getJson(`${base}/api/v1/jobs/${id}`)).body as JobView).status === 'failed',
        20_000,
        'flaky job failed',
      );
      const job = (await getJson(`${base}/api/v1/jobs/${id}`)).body as JobView;
      assert.equal(job.attempts, 3);
      assert.match(job.error ?? '', /upstream said no/);
      const scheduler = (await getJson(`${base}/api/v1/scheduler`)).body as {
        backend: string;
        queues: { name: string; failed: number; completed: number }[];
        workers: { id: string; status: string; queues: string[]; processed: number }[];
        recent_failures: { id: string; type: string; error: string }[];
      };
      assert.equal(scheduler.backend, setup.redis ? 'bullmq' : 'embedded');
      const failure = scheduler.recent_failures.find((f) => f.id === id);
      assert.ok(failure, JSON.stringify(scheduler.recent_failures));
      assert.equal(failure.type, 'diag.flaky');
      assert.equal(scheduler.queues.find((q) => q.name === 'diag.flaky')?.failed, 1);
      assert.ok((scheduler.queues.find((q) => q.name === 'assets.ingest')?.completed ?? 0) >= 120);
      await until(
        async () => {
          const view = (await getJson(`${base}/api/v1/scheduler`)).body as typeof scheduler;
          const me = view.workers.find((w) => w.id === server.platform.runner?.id);
          return me?.status === 'alive' && me.processed >= 120;
        },
        10_000,
        'this worker reported with a heartbeat',
      );
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.match(metrics, /surfacescan_queue_jobs\{queue="diag\.flaky",state="failed"\} 1/);
      assert.match(metrics, /surfacescan_workers\{status="alive"\} [1-9]/);
    });

    it('counts every request in /stats, including those that failed', async () => {
      const known = Object.keys(expected['input-1.json']!)[0]!;
      const first = (await getJson(`${base}/api/v1/stats`)).body as { request_count: number };
      const statuses = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const response = await fetch(
            `${base}/api/v1/attack?vm_id=${i % 2 === 0 ? 'nope' : known}`,
          );
          await response.arrayBuffer();
          return response.status;
        }),
      );
      assert.equal(statuses.filter((s) => s === 404).length, 20);
      const second = (await getJson(`${base}/api/v1/stats`)).body as { request_count: number };
      // 40 requests plus the first /stats call itself.
      assert.equal(second.request_count - first.request_count, 41);
    });
  });
}
