/**
 * Scale-out on real engines, on loopback: PostgreSQL + Redis + nginx as the reverse proxy in
 * front of two API processes, plus two worker processes. Through nginx it submits 10,000
 * ingest jobs, SIGKILLs one worker mid-run, and checks that every job completes exactly once in
 * effect, that the killed worker's jobs were retried by the other, that /api/v1/stats through
 * nginx equals the requests sent, and that the scheduler shows the dead worker as gone.
 * Runs when SURFACESCAN_TEST_POSTGRES_URL, SURFACESCAN_TEST_REDIS_URL and SURFACESCAN_TEST_NGINX
 * are set (.ci/run sets them).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  POSTGRES_URL,
  REDIS_URL,
  scratchPostgres,
  type ScratchDatabase,
} from './helpers/databases.js';
import {
  cleanEnv,
  listeningUrl,
  runCli,
  startCommand,
  exitWithin,
  type ServeProcess,
} from './helpers/cli.js';
import { fixturePath, pool, until } from './helpers/http.js';
import { deleteKeys } from './helpers/queues.js';
import { freePort } from './helpers/private-engines.js';

const NGINX = process.env.SURFACESCAN_TEST_NGINX;
const JOBS = 10_000;
const BATCH = 1_000;
const HEARTBEAT_MS = 300;
const LEASE_MS = 2_000;

const missing = [
  POSTGRES_URL ? undefined : 'SURFACESCAN_TEST_POSTGRES_URL',
  REDIS_URL ? undefined : 'SURFACESCAN_TEST_REDIS_URL',
  NGINX ? undefined : 'SURFACESCAN_TEST_NGINX',
].filter((name) => name !== undefined);

function nginxConfig(dir: string, port: number, upstreams: readonly string[]): string {
  return `
user root;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_max_body_size 64m;
  upstream api {
${upstreams.map((u) => `    server ${u};`).join('\n')}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${String(port)};
    location / {
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`;
}

interface SchedulerView {
  queues: {
    name: string;
    waiting: number;
    active: number;
    completed: number;
    failed: number;
    delayed: number;
  }[];
  workers: { id: string; status: string; current_jobs: string[]; processed: number }[];
}

describe(
  'scale-out: nginx, 2 API processes, 2 workers, PostgreSQL and Redis',
  { skip: missing.length > 0 ? `needs ${missing.join(', ')}` : false },
  () => {
    let database: ScratchDatabase;
    const prefix = `ssscale${randomBytes(4).toString('hex')}`;
    const dir = mkdtempSync(join(tmpdir(), 'surfacescan-scale-'));
    const apis: ServeProcess[] = [];
    const workers: ServeProcess[] = [];
    let nginx: ChildProcess | undefined;
    let base = '';
    /** Every request sent through nginx, so /stats can be checked against it. */
    let sent = 0;
    const call = async (
      path: string,
      init?: RequestInit,
    ): Promise<{ status: number; body: unknown }> => {
      sent++;
      const response = await fetch(`${base}${path}`, init);
      const text = await response.text();
      return { status: response.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
    };
    const post = (path: string, body: unknown) =>
      call(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const env = () =>
      cleanEnv({
        SURFACESCAN_DATABASE_URL: database.url,
        SURFACESCAN_REDIS_URL: REDIS_URL ?? '',
        SURFACESCAN_REDIS_PREFIX: prefix,
        SURFACESCAN_HEARTBEAT_MS: String(HEARTBEAT_MS),
        SURFACESCAN_JOB_LEASE_MS: String(LEASE_MS),
        SURFACESCAN_WORKER_THREADS: '1',
      });

    before(async () => {
      database = await scratchPostgres(POSTGRES_URL!);
      const migrated = await runCli(['migrate'], env());
      assert.equal(migrated.code, 0, migrated.stderr);
      assert.match(migrated.stdout, /applied/);
      for (let i = 0; i < 2; i++) {
        apis.push(
          startCommand(
            ['serve', '--role', 'api', '--port', '0', '--cloud-env', 'db:latest'],
            env(),
          ),
        );
      }
      const urls = await Promise.all(apis.map((api) => listeningUrl(api)));
      // nginx cannot be told to pick a free port itself.
      const port = await freePort();
      writeFileSync(
        join(dir, 'nginx.conf'),
        nginxConfig(
          dir,
          port,
          urls.map((u) => new URL(u).host),
        ),
      );
      nginx = spawn(
        NGINX!,
        [
          '-p',
          dir,
          '-c',
          join(dir, 'nginx.conf'),
          '-e',
          join(dir, 'error.log'),
          '-g',
          'daemon off;',
        ],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      base = `http://127.0.0.1:${String(port)}`;
      await until(
        async () => {
          try {
            const response = await fetch(`${base}/healthz`);
            await response.arrayBuffer();
            // A 200 came from an API process, which counted it.
            if (response.status === 200) sent++;
            return response.status === 200;
          } catch {
            return false;
          }
        },
        15_000,
        'nginx answering',
      );
      for (let i = 0; i < 2; i++) workers.push(startCommand(['worker'], env()));
      await Promise.all(
        workers.map((w) => w.waitForLog((r) => r.msg === 'surfacescan worker running')),
      );
    });

    after(async () => {
      for (const child of [...workers, ...apis]) child.kill();
      nginx?.kill('SIGQUIT');
      await database.drop().catch(() => undefined);
      await deleteKeys(REDIS_URL!, prefix);
      rmSync(dir, { recursive: true, force: true });
    });

    it('runs 10,000 jobs exactly once in effect through a worker kill, with exact stats', async () => {
      // Counting starts at zero (the Redis prefix is new); only the readiness probe came before.
      const statsStart = await call('/api/v1/stats');
      assert.equal(statsStart.status, 200);
      assert.equal((statsStart.body as { request_count: number }).request_count, sent - 1);

      const environment = JSON.parse(readFileSync(fixturePath('input-2.json'), 'utf8')) as unknown;
      const stored = await post('/api/v1/environments', environment);
      assert.equal(stored.status, 201, JSON.stringify(stored.body));

      const ids: string[] = [];
      for (let start = 0; start < JOBS; start += BATCH) {
        const jobs = Array.from({ length: BATCH }, (_, k) => {
          const n = start + k;
          return {
            type: 'assets.ingest',
            id: `scale-${String(n)}`,
            payload: {
              assets: [
                {
                  kind: 'ip',
                  key: `10.${String(n >> 16)}.${String((n >> 8) & 255)}.${String(n & 255)}`,
                  data: { n },
                },
              ],
            },
          };
        });
        const answer = await post('/api/v1/jobs', { jobs });
        assert.equal(answer.status, 202, JSON.stringify(answer.body));
        ids.push(...(answer.body as { ids: string[] }).ids);
      }
      assert.equal(ids.length, JOBS);

      // Kill one worker while it holds jobs.
      const victimId = (workers[0]!.logs.find((r) => r.msg === 'surfacescan worker running')
        ?.worker ?? '') as string;
      assert.notEqual(victimId, '');
      await until(
        async () => {
          const view = (await call('/api/v1/scheduler')).body as SchedulerView;
          const victim = view.workers.find((w) => w.id === victimId);
          return victim !== undefined && victim.processed > 0 && victim.current_jobs.length > 0;
        },
        60_000,
        'the victim worker running jobs',
      );
      workers[0]!.child.kill('SIGKILL');
      await workers[0]!.exited;
      const atKill = (await call('/api/v1/scheduler')).body as SchedulerView;
      const ingestAtKill = atKill.queues.find((q) => q.name === 'assets.ingest')!;
      assert.ok(ingestAtKill.completed < JOBS, 'the kill happened mid-run');

      await until(
        async () => {
          const view = (await call('/api/v1/scheduler')).body as SchedulerView;
          const ingest = view.queues.find((q) => q.name === 'assets.ingest')!;
          return ingest.completed + ingest.failed >= JOBS;
        },
        180_000,
        'every job finished',
      );
      const final = (await call('/api/v1/scheduler')).body as SchedulerView;
      const ingest = final.queues.find((q) => q.name === 'assets.ingest')!;
      assert.equal(ingest.failed, 0);
      assert.equal(ingest.completed, JOBS);
      assert.equal(ingest.waiting + ingest.active + ingest.delayed, 0);

      // Every job, one by one, through nginx: completed; the killed worker's were run again.
      const records = await pool(ids.length, 16, async (i) => {
        const answer = await call(`/api/v1/jobs/${ids[i]!}`);
        assert.equal(answer.status, 200);
        return answer.body as { status: string; attempts: number };
      });
      assert.ok(records.every((r) => r.status === 'completed'));
      const retried = records.filter((r) => r.attempts > 1).length;
      assert.ok(retried >= 1, 'the killed worker held jobs that the other worker retried');

      // Effects: one asset and one observation per job, none lost, none doubled.
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const assets = await client.query<{ n: string }>(
          `select count(*) as n from assets where kind = 'ip'`,
        );
        const observations = await client.query<{ n: string }>(
          'select count(*) as n from observations',
        );
        assert.equal(Number(assets.rows[0]!.n), JOBS);
        assert.equal(Number(observations.rows[0]!.n), JOBS);
      } finally {
        await client.end();
      }

      // The dead worker is shown as gone; the survivor is alive and did the rest.
      await until(
        async () => {
          const view = (await call('/api/v1/scheduler')).body as SchedulerView;
          return view.workers.find((w) => w.id === victimId)?.status === 'gone';
        },
        15_000,
        'the killed worker shown as gone',
      );
      const view = (await call('/api/v1/scheduler')).body as SchedulerView;
      const alive = view.workers.filter((w) => w.status === 'alive');
      assert.equal(alive.length, 1);

      // Cluster-wide statistics through nginx equal what was sent (this call excluded).
      const stats = await call('/api/v1/stats');
      assert.equal((stats.body as { request_count: number }).request_count, sent - 1);
      assert.equal(
        (stats.body as { vm_count: number }).vm_count,
        (environment as { vms: unknown[] }).vms.length,
      );
      // Every replica serves the stored environment (db:latest), not only the one that stored it.
      for (const api of apis) {
        const url = await listeningUrl(api);
        const info = (await (await fetch(`${url}/api/v1/environment`)).json()) as {
          version: number;
        };
        assert.equal(info.version, 1);
      }
      // Both API processes answered some of them.
      const perProcess = await Promise.all(
        apis.map(async (api) => {
          const url = await listeningUrl(api);
          const metrics = await (await fetch(`${url}/metrics`)).text();
          return [
            ...metrics.matchAll(/^http_request_duration_seconds_count\{[^}]*\} (\d+)/gm),
          ].reduce((sum, m) => sum + Number(m[1]), 0);
        }),
      );
      assert.ok(
        perProcess.every((n) => n > 100),
        `requests per API process: ${perProcess.join(', ')}`,
      );

      // Graceful stop of what is left.
      for (const child of [workers[1]!, ...apis]) child.child.kill('SIGTERM');
      for (const child of [workers[1]!, ...apis])
        assert.equal((await exitWithin(child, 30_000)).code, 0);
    });
  },
);
