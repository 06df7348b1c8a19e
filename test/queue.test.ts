/**
 * The queue contract, run unchanged against every backend: the embedded queue on SQLite and
 * PostgreSQL, and BullMQ on Redis. Real databases, real Redis, a real child process killed
 * with SIGKILL for the stalled-job case.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Consumer, NewJob, QueueConsumption, RunningJob } from '#src/jobs/queue.js';
import { backendKinds, type TestBackend } from './helpers/queues.js';

const CHILD = new URL('./helpers/queue-child.js', import.meta.url).pathname;

function job(queue: string, id: string, payload: unknown = {}, priority = 10): NewJob {
  return {
    id,
    queue,
    payload,
    priority,
    delayMs: 0,
    maxAttempts: 3,
    backoff: { type: 'exponential', delayMs: 100 },
  };
}

function consumption(queue: string, extra: Partial<QueueConsumption> = {}): QueueConsumption {
  return { queue, concurrency: 1, backoff: { type: 'exponential', delayMs: 100 }, ...extra };
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const kind of backendKinds()) {
  describe(`job queue: ${kind.name}`, () => {
    let t: TestBackend;
    const consumers: Consumer[] = [];
    const consume = (
      queues: QueueConsumption[],
      processor: (job: RunningJob) => Promise<unknown>,
      leaseMs = 2000,
    ): Consumer => {
      const consumer = t.backend.consume(
        { workerId: `w${String(consumers.length)}`, queues, leaseMs },
        processor,
      );
      consumers.push(consumer);
      return consumer;
    };
    before(async () => {
      t = await kind.create();
    });
    after(async () => {
      for (const consumer of consumers) await consumer.stop(0);
      await t.close();
    });

    it('runs every job once and keeps its result', async () => {
      const seen: string[] = [];
      await t.backend.add(
        Array.from({ length: 50 }, (_, i) => job('basic', `b${String(i)}`, { n: i })),
      );
      consume([consumption('basic', { concurrency: 5 })], (j) => {
        seen.push(j.id);
        return Promise.resolve({ doubled: (j.payload as { n: number }).n * 2 });
      });
      await until(async () => (await t.backend.counts(['basic']))[0]!.completed === 50);
      assert.equal(seen.length, 50);
      assert.equal(new Set(seen).size, 50);
      const record = await t.backend.get('b7', ['basic']);
      assert.ok(record !== undefined);
      assert.equal(record.status, 'completed');
      assert.deepEqual(record.result, { doubled: 14 });
      assert.equal(record.attempts, 1);
    });

    it('retries a failing job with exponential backoff until it succeeds', async () => {
      const runs: number[] = [];
      await t.backend.add([job('retry', 'r1')]);
      consume([consumption('retry')], (j) => {
        runs.push(Date.now());
        if (j.attempt < 3) return Promise.reject(new Error(`fail ${String(j.attempt)}`));
        return Promise.resolve('ok');
      });
      await until(async () => (await t.backend.get('r1', ['retry']))?.status === 'completed');
      assert.equal(runs.length, 3);
      // 100 ms after the first failure, 200 ms after the second.
      assert.ok(runs[1]! - runs[0]! >= 90, `first backoff ${String(runs[1]! - runs[0]!)} ms`);
      assert.ok(runs[2]! - runs[1]! >= 190, `second backoff ${String(runs[2]! - runs[1]!)} ms`);
      assert.equal((await t.backend.get('r1', ['retry']))?.attempts, 3);
    });

    it('adds a job id once, however often it is enqueued', async () => {
      let runs = 0;
      await t.backend.add([job('dedup', 'same', { v: 1 })]);
      await t.backend.add([job('dedup', 'same', { v: 2 }), job('dedup', 'same', { v: 3 })]);
      consume([consumption('dedup')], () => {
        runs++;
        return Promise.resolve();
      });
      await until(async () => (await t.backend.get('same', ['dedup']))?.status === 'completed');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(runs, 1);
      assert.deepEqual((await t.backend.get('same', ['dedup']))?.payload, { v: 1 });
    });

    it('runs higher-priority jobs first', async () => {
      const order: string[] = [];
      await t.backend.add([
        job('prio', 'low-1', {}, 50),
        job('prio', 'low-2', {}, 50),
        job('prio', 'mid', {}, 20),
        job('prio', 'high', {}, 1),
      ]);
      consume([consumption('prio')], (j) => {
        order.push(j.id);
        return Promise.resolve();
      });
      await until(() => order.length === 4);
      assert.deepEqual(order, ['high', 'mid', 'low-1', 'low-2']);
    });

    it('starts no more jobs per window than the rate limit allows', async () => {
      const starts: number[] = [];
      await t.backend.add(Array.from({ length: 12 }, (_, i) => job('rated', `rl${String(i)}`)));
      const begin = Date.now();
      consume(
        [consumption('rated', { concurrency: 10, rateLimit: { max: 5, durationMs: 1000 } })],
        () => {
          starts.push(Date.now() - begin);
          return Promise.resolve();
        },
      );
      await until(() => starts.length === 12);
      starts.sort((a, b) => a - b);
      // Any 1-second window holds at most 5 starts (a little slack for timer jitter).
      for (let i = 5; i < starts.length; i++) {
        assert.ok(starts[i]! - starts[i - 5]! >= 900, `starts ${JSON.stringify(starts)}`);
      }
    });

    it('keeps a poison job failed with its error, and the queue keeps moving', async () => {
      const done: string[] = [];
      await t.backend.add([
        job('poison', 'bad'),
        ...Array.from({ length: 10 }, (_, i) => job('poison', `good${String(i)}`)),
      ]);
      consume([consumption('poison')], (j) => {
        if (j.id === 'bad') return Promise.reject(new Error('cannot parse payload: boom'));
        done.push(j.id);
        return Promise.resolve();
      });
      await until(async () => (await t.backend.get('bad', ['poison']))?.status === 'failed');
      await until(() => done.length === 10);
      const bad = await t.backend.get('bad', ['poison']);
      assert.match(bad?.error ?? '', /cannot parse payload: boom/);
      assert.equal(bad?.attempts, 3);
      const failures = await t.backend.failures(['poison'], 10);
      assert.equal(failures.length, 1);
      assert.equal(failures[0]?.id, 'bad');
      assert.equal((await t.backend.counts(['poison']))[0]!.completed, 10);
    });

    it('gives a killed worker’s job to another worker once its lease runs out', async () => {
      await t.backend.add([job('stall', 'orphan')]);
      const child = spawn(process.execPath, [CHILD], {
        env: { ...process.env, ...t.childEnv, QUEUE: 'stall', LEASE_MS: '1000' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const lines = createInterface({ input: child.stdout });
      const [line] = (await once(lines, 'line')) as [string];
      assert.equal(line, 'started orphan 1');
      child.kill('SIGKILL');
      await once(child, 'exit');
      const runs: RunningJob[] = [];
      consume(
        [consumption('stall')],
        (j) => {
          runs.push(j);
          return Promise.resolve('recovered');
        },
        1000,
      );
      await until(async () => (await t.backend.get('orphan', ['stall']))?.status === 'completed');
      assert.equal(runs.length, 1);
      assert.equal(runs[0]?.attempt, 2);
    });

    it('hands a running job back on a graceful stop that runs out of time', async () => {
      await t.backend.add([job('handback', 'long')]);
      let started = false;
      const first = consume(
        [consumption('handback')],
        () => {
          started = true;
          return new Promise(() => undefined);
        },
        1000,
      );
      await until(() => started);
      assert.equal(await first.stop(50), 1);
      consume([consumption('handback')], () => Promise.resolve('second'), 1000);
      await until(async () => (await t.backend.get('long', ['handback']))?.status === 'completed');
      assert.equal((await t.backend.get('long', ['handback']))?.result, 'second');
    });
  });
}
