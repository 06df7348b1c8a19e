/**
 * A worker process for the stalled-job test: consumes one queue and never finishes a job, so
 * the test can SIGKILL it mid-job. Prints "started <id> <attempt>" for each job it takes.
 */
import { connectDatabase } from '#src/storage/database.js';
import { EmbeddedQueue } from '#src/jobs/embedded-queue.js';
import { BullmqQueue } from '#src/jobs/bullmq-queue.js';
import type { QueueBackend } from '#src/jobs/queue.js';

const env = process.env;
const queue = env.QUEUE ?? 'test';
const leaseMs = Number(env.LEASE_MS ?? 1000);
const backend: QueueBackend =
  env.QUEUE_KIND === 'bullmq'
    ? await BullmqQueue.connect(env.REDIS_URL ?? '', env.PREFIX ?? '', () => undefined)
    : new EmbeddedQueue(await connectDatabase(env.DB_URL ?? ''), { pollMs: 20 });
backend.consume(
  {
    workerId: `child-${String(process.pid)}`,
    queues: [{ queue, concurrency: 1, backoff: { type: 'fixed', delayMs: 10 } }],
    leaseMs,
  },
  (job) => {
    process.stdout.write(`started ${job.id} ${String(job.attempt)}\n`);
    return new Promise(() => undefined);
  },
);
