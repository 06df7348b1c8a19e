import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { writeFileSync, readFileSync } from 'node:fs';
import { fixturePath, getJson, pool, tempCopy } from './helpers/http.js';

const MAIN = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;

/** Starts `serve --workers N` and resolves once every worker logged that it listens. */
async function serveCluster(
  cloudEnv: string,
  workers: number,
): Promise<{ child: ChildProcess; url: string }> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('SURFACESCAN_')),
  );
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'serve',
      '--cloud-env',
      cloudEnv,
      '--port',
      '0',
      '--workers',
      String(workers),
      '--log-level',
      'info',
    ],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout });
  const urls = new Set<string>();
  let listening = 0;
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  for await (const line of lines) {
    const record = JSON.parse(line) as { msg?: string; url?: string };
    if (record.msg === 'surfacescan listening' && record.url !== undefined) {
      urls.add(record.url);
      if (++listening === workers) break;
    }
  }
  clearTimeout(timer);
  lines.on('line', () => undefined); // keep draining stdout
  assert.equal(listening, workers, 'every worker started');
  assert.equal(urls.size, 1, 'workers share one port');
  return { child, url: [...urls][0]! };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      resolve(code);
    }),
  );
}

describe('serve --workers 2 (node:cluster)', () => {
  it('reports exact cluster-wide /stats totals, reloads every worker, and stops cleanly', async () => {
    const file = tempCopy('input-0.json');
    const { child, url } = await serveCluster(file, 2);
    const exit = exited(child);
    try {
      const total = 1000;
      // Many short-lived connections so both workers get a share of the requests.
      const statuses = await pool(total, 50, async (i) => {
        const res = await fetch(
          `${url}/api/v1/attack?vm_id=${i % 4 === 0 ? 'missing' : 'vm-a211de'}`,
          {
            headers: { connection: 'close' },
          },
        );
        await res.arrayBuffer();
        return res.status;
      });
      assert.equal(statuses.filter((s) => s === 404).length, 250);
      const stats = (await getJson(`${url}/api/v1/stats`)).body as Record<string, number>;
      assert.equal(stats.request_count, total);
      assert.equal(stats.vm_count, 2);

      const metrics = await (await fetch(`${url}/metrics`)).text();
      const count =
        /http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/attack",status_code="200"\} (\d+)/.exec(
          metrics,
        );
      assert.equal(Number(count?.[1]), 750, 'metrics are merged over the workers');

      writeFileSync(file, readFileSync(fixturePath('input-2.json')));
      const reload = await fetch(`${url}/api/v1/environment/reload`, { method: 'POST' });
      assert.equal(reload.status, 200);
      assert.deepEqual(await reload.json(), { version: 2, vm_count: 5, workers: 2 });
      // Every worker now answers from the new environment.
      const answers = await pool(40, 10, async () => {
        const res = await fetch(`${url}/api/v1/environment`, { headers: { connection: 'close' } });
        return ((await res.json()) as { vm_count: number }).vm_count;
      });
      assert.deepEqual(new Set(answers), new Set([5]));

      writeFileSync(file, '[]');
      const bad = await fetch(`${url}/api/v1/environment/reload`, { method: 'POST' });
      assert.equal(bad.status, 422);
      assert.match(
        ((await bad.json()) as { error: { message: string } }).error.message,
        /expected an object/,
      );
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exit, 0);
  });
});
