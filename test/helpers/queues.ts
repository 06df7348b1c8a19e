/**
 * The queue backends the behaviour suite runs on: embedded on SQLite, embedded on PostgreSQL
 * (when SURFACESCAN_TEST_POSTGRES_URL is set) and BullMQ (when SURFACESCAN_TEST_REDIS_URL is).
 */
import { randomBytes } from 'node:crypto';
import { connectDatabase, type Db } from '#src/storage/database.js';
import { migrate } from '#src/storage/migrations.js';
import { EmbeddedQueue } from '#src/jobs/embedded-queue.js';
import { BullmqQueue } from '#src/jobs/bullmq-queue.js';
import type { QueueBackend } from '#src/jobs/queue.js';
import { REDIS_URL, engines, type ScratchDatabase } from './databases.js';

/** A backend plus what a child process needs to open the same one. */
export interface TestBackend {
  readonly backend: QueueBackend;
  readonly db: Db;
  /** Environment for test/helpers/queue-child.js to open the same queue. */
  readonly childEnv: Record<string, string>;
  close(): Promise<void>;
}

/** A named way to make a fresh backend. */
export interface BackendKind {
  readonly name: string;
  create(): Promise<TestBackend>;
}

async function scratch(
  engine: ReturnType<typeof engines>[number],
): Promise<{ db: Db; scratch: ScratchDatabase }> {
  const database = await engine.create();
  const db = await connectDatabase(database.url);
  await migrate(db);
  return { db, scratch: database };
}

/** Every backend that can run here. */
export function backendKinds(): BackendKind[] {
  const kinds: BackendKind[] = engines().map((engine) => ({
    name: `embedded on ${engine.name}`,
    create: async () => {
      const { db, scratch: database } = await scratch(engine);
      return {
        backend: new EmbeddedQueue(db, { pollMs: 20 }),
        db,
        childEnv: { QUEUE_KIND: 'embedded', DB_URL: database.url },
        close: async () => {
          await db.close();
          await database.drop();
        },
      };
    },
  }));
  const redisUrl = REDIS_URL;
  if (redisUrl !== undefined && redisUrl !== '') {
    kinds.push({
      name: 'bullmq on redis',
      create: async () => {
        const { db, scratch: database } = await scratch(engines()[0]!);
        const prefix = `sstest${randomBytes(4).toString('hex')}`;
        const backend = await BullmqQueue.connect(redisUrl, prefix, () => undefined);
        return {
          backend,
          db,
          childEnv: {
            QUEUE_KIND: 'bullmq',
            REDIS_URL: redisUrl,
            PREFIX: prefix,
            DB_URL: database.url,
          },
          close: async () => {
            await backend.close();
            await db.close();
            await database.drop();
            await deleteKeys(redisUrl, prefix);
          },
        };
      },
    });
  }
  return kinds;
}

/** Deletes every Redis key under `prefix:` (a test's private namespace). */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
