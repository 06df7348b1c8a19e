import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import type { RunningServer } from '#src/http/server.js';
import { fixturePath, getJson, pool, startTestServer, tempCopy, FIXTURES } from './helpers/http.js';

type Expected = Record<string, Record<string, string[]>>;
const expected = JSON.parse(readFileSync(new URL('expected.json', FIXTURES), 'utf8')) as Expected;

function errorOf(body: unknown): { code: string; message: string } {
  const error = (body as { error?: { code?: unknown; message?: unknown } }).error;
  assert.ok(
    error && typeof error.code === 'string' && typeof error.message === 'string',
    'error body shape',
  );
  return { code: error.code, message: error.message };
}

describe('HTTP API on a real listening server', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer(fixturePath('input-3.json'));
  });
  after(async () => {
    await server.close();
  });

  it('answers /api/v1/attack for every VM of every fixture with JSON in sorted order', async () => {
    for (const [file, answers] of Object.entries(expected)) {
      const other = await startTestServer(fixturePath(file));
      try {
        for (const [vmId, attackers] of Object.entries(answers)) {
          const res = await getJson(`${other.url}/api/v1/attack?vm_id=${encodeURIComponent(vmId)}`);
          assert.equal(res.status, 200);
          assert.equal(res.type, 'application/json; charset=utf-8');
          assert.deepEqual(res.body, attackers, `${file} ${vmId}`);
        }
      } finally {
        await other.close();
      }
    }
  });

  it('answers transitive mode and attack paths', async () => {
    const res = await getJson(`${server.url}/api/v1/attack?vm_id=vm-ab51cba10&mode=transitive`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, expected['input-3.json']!['vm-ab51cba10']);
    const path = await getJson(`${server.url}/api/v1/attack-path?from=vm-0c1791&to=vm-ab51cba10`);
    assert.equal(path.status, 200);
    const steps = path.body as { vm_id: string; fw_id: string | null }[];
    assert.equal(steps.length, 2);
    assert.deepEqual(steps[0], { vm_id: 'vm-0c1791', fw_id: null });
    const hop = steps[1];
    assert.ok(hop);
    assert.equal(hop.vm_id, 'vm-ab51cba10');
    assert.match(String(hop.fw_id), /^fw-/);
  });

  it('maps bad input to 400/404 with one error body and a stable code', async () => {
    const cases: [string, number, string, RegExp][] = [
      ['/api/v1/attack?vm_id=vm-nope', 404, 'vm_not_found', /vm-nope/],
      ['/api/v1/attack', 400, 'validation_error', /missing required .*vm_id/],
      ['/api/v1/attack?vm_id=', 400, 'validation_error', /vm_id.*must not be empty/],
      ['/api/v1/attack?vm_id=a&vm_id=b', 400, 'validation_error', /vm_id.*once, not 2 times/],
      ['/api/v1/attack?vm_id=vm-0c1791&mode=sideways', 400, 'validation_error', /mode.*sideways/],
      ['/api/v1/attack-path?from=vm-ab51cba10&to=vm-0c1791', 404, 'no_path', /no chain/],
      ['/api/v1/attack-path?from=vm-x&to=vm-0c1791', 404, 'vm_not_found', /vm-x/],
      ['/api/v1/attack-path?from=vm-0c1791', 400, 'validation_error', /missing required .*to/],
      ['/no/such/endpoint', 404, 'not_found', /GET \/no\/such\/endpoint/],
    ];
    for (const [path, status, code, message] of cases) {
      const res = await getJson(`${server.url}${path}`);
      assert.equal(res.status, status, path);
      assert.equal(res.type, 'application/json; charset=utf-8', path);
      const error = errorOf(res.body);
      assert.equal(error.code, code, path);
      assert.match(error.message, message, path);
    }
  });

  it('rejects a malformed JSON body with a 400 error body, not a crash', async () => {
    const res = await fetch(`${server.url}/api/v1/environment/reload`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"oops',
    });
    assert.equal(res.status, 400);
    assert.equal(errorOf(await res.json()).code, 'validation_error');
    assert.equal((await getJson(`${server.url}/healthz`)).status, 200);
  });

  it('serves health, readiness, OpenAPI, docs and Prometheus metrics', async () => {
    assert.deepEqual((await getJson(`${server.url}/healthz`)).body, { status: 'ok' });
    assert.deepEqual((await getJson(`${server.url}/readyz`)).body, { status: 'ok' });
    const spec = (await getJson(`${server.url}/openapi.json`)).body as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    assert.equal(spec.openapi, '3.1.0');
    for (const path of [
      '/api/v1/attack',
      '/api/v1/attack-path',
      '/api/v1/stats',
      '/api/v1/environment/reload',
    ]) {
      assert.ok(path in spec.paths, path);
    }
    const docs = await fetch(`${server.url}/docs`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger/i);
    const metrics = await fetch(`${server.url}/metrics`);
    assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
    const text = await metrics.text();
    assert.match(text, /http_request_duration_seconds_bucket\{.*route="\/api\/v1\/attack".*\}/);
    assert.match(
      text,
      /http_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} \d+/,
    );
  });

  it('keeps the committed docs/openapi.json current', async () => {
    const committed = readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8');
    const served = (await getJson(`${server.url}/openapi.json`)).body;
    assert.deepEqual(
      JSON.parse(committed),
      served,
      'run `npm run openapi` and commit docs/openapi.json',
    );
  });
});

describe('request statistics', () => {
  it('counts every request exactly under heavy concurrency, errors included, excluding the asking call', async () => {
    const server = await startTestServer(fixturePath('input-3.json'));
    try {
      const first = (await getJson(`${server.url}/api/v1/stats`)).body as Record<string, number>;
      assert.deepEqual(first, { vm_count: 11, request_count: 0, average_request_time: 0 });
      const paths = [
        '/api/v1/attack?vm_id=vm-ab51cba10',
        '/api/v1/attack?vm_id=nope',
        '/api/v1/attack',
        '/missing',
        '/api/v1/attack?vm_id=vm-0c1791&mode=transitive',
      ];
      const total = 3000;
      const statuses = await pool(total, 200, async (i) => {
        const res = await fetch(`${server.url}${paths[i % paths.length]!}`);
        await res.arrayBuffer();
        return res.status;
      });
      assert.equal(statuses.filter((s) => s === 200).length, 1200);
      const stats = (await getJson(`${server.url}/api/v1/stats`)).body as Record<string, number>;
      // The first /stats call counts too, once it has been answered.
      assert.equal(stats.request_count, total + 1);
      assert.equal(stats.vm_count, 11);
      assert.equal(typeof stats.average_request_time, 'number');
      assert.ok(stats.average_request_time! > 0 && stats.average_request_time! < 1);
      const again = (await getJson(`${server.url}/api/v1/stats`)).body as Record<string, number>;
      assert.equal(again.request_count, total + 2);
    } finally {
      await server.close();
    }
  });
});

describe('reload without downtime', () => {
  it('swaps a valid file atomically, rejects an invalid one and keeps serving, with no failed request', async () => {
    const file = tempCopy('input-0.json');
    const server = await startTestServer(file);
    const input0 = readFileSync(fixturePath('input-0.json'), 'utf8');
    const input2 = readFileSync(fixturePath('input-2.json'), 'utf8');
    const answers0 = expected['input-0.json']!;
    const answers2 = expected['input-2.json']!;
    try {
      let stop = false;
      let served = 0;
      const failures: string[] = [];
      // Clients keep asking for a VM that exists in both files; each answer must be the
      // complete answer of one environment or the other, never an error or a mixture.
      const load = Promise.all(
        Array.from({ length: 20 }, async () => {
          while (!stop) {
            const res = await fetch(`${server.url}/api/v1/environment`);
            const info = (await res.json()) as { vm_count: number };
            const vm = info.vm_count === 2 ? 'vm-a211de' : 'vm-2ba4d2f87';
            const attack = await fetch(`${server.url}/api/v1/attack?vm_id=${vm}`);
            const body: unknown = await attack.json();
            const ok =
              attack.status === 200
                ? JSON.stringify(body) === JSON.stringify(answers0[vm] ?? answers2[vm])
                : attack.status === 404; // the VM vanished between the two calls: a valid answer
            if (!ok) failures.push(`${String(attack.status)} ${JSON.stringify(body)}`);
            served++;
          }
        }),
      );
      for (let round = 0; round < 10; round++) {
        writeFileSync(file, round % 2 === 0 ? input2 : input0);
        const res = await fetch(`${server.url}/api/v1/environment/reload`, { method: 'POST' });
        assert.equal(res.status, 200);
        const outcome = (await res.json()) as {
          version: number;
          vm_count: number;
          workers: number;
        };
        assert.deepEqual(outcome, {
          version: round + 2,
          vm_count: round % 2 === 0 ? 5 : 2,
          workers: 1,
        });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      writeFileSync(file, '{"vms": [ {"vm_id": "x", "name": "n", "tags": [1]} ], "fw_rules": []}');
      const bad = await fetch(`${server.url}/api/v1/environment/reload`, { method: 'POST' });
      assert.equal(bad.status, 422);
      const error = errorOf(await bad.json());
      assert.equal(error.code, 'validation_error');
      assert.ok(error.message.includes(file), 'names the file');
      assert.match(error.message, /\$\.vms\[0\]\.tags\[0\]: expected a string, got number 1/);
      stop = true;
      await load;
      assert.deepEqual(failures, []);
      assert.ok(served > 50, `load ran (${String(served)} requests)`);
      const info = (await getJson(`${server.url}/api/v1/environment`)).body as {
        version: number;
        vm_count: number;
      };
      assert.equal(info.version, 11, 'the rejected file did not bump the version');
      assert.equal(info.vm_count, 2);
      assert.deepEqual(
        (await getJson(`${server.url}/api/v1/attack?vm_id=vm-a211de`)).body,
        answers0['vm-a211de'],
      );
    } finally {
      await server.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('lets requests in flight finish when the server closes', async () => {
    const server = await startTestServer(fixturePath('input-2.json'));
    const inFlight = Array.from({ length: 50 }, () =>
      fetch(`${server.url}/api/v1/attack?vm_id=vm-2ba4d2f87`).then(async (res) => ({
        status: res.status,
        body: (await res.json()) satisfies unknown,
      })),
    );
    // Observe the outcomes now: a request refused while close() runs must not surface as an
    // unhandled rejection before allSettled would have seen it.
    const settled = Promise.allSettled(inFlight);
    // Give the requests time to reach the server, then close while they are being answered.
    await new Promise((resolve) => setImmediate(resolve));
    await server.close();
    const results = await settled;
    const answered = results.filter((r) => r.status === 'fulfilled' && r.value.status === 200);
    const refused = results.filter((r) => r.status === 'rejected');
    // Requests accepted before close are answered in full; none is cut off half-way.
    assert.equal(answered.length + refused.length, 50);
    for (const r of answered) {
      if (r.status === 'fulfilled')
        assert.deepEqual(r.value.body, expected['input-2.json']!['vm-2ba4d2f87']);
    }
  });
});
