/** Helpers for tests that talk to a real listening server over HTTP. */
import { mkdtempSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '#src/config/config.js';
import { startServer, type RunningServer } from '#src/http/server.js';

/** The repository's copy of the shared cloud fixtures. */
export const FIXTURES = new URL('../../../test/fixtures/cloud/', import.meta.url);

/** Absolute path of a fixture file. */
export function fixturePath(name: string): string {
  return new URL(name, FIXTURES).pathname;
}

/** Copies a fixture into a fresh temp dir, so a test may overwrite it. */
export function tempCopy(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'surfacescan-'));
  const path = join(dir, 'env.json');
  copyFileSync(fixturePath(name), path);
  return path;
}

/** Starts a real server on 127.0.0.1 and a free port, serving `cloudEnv`. */
export function startTestServer(cloudEnv: string): Promise<RunningServer> {
  return startServer(
    loadConfig(
      {
        cloudEnv,
        port: '0',
        host: '127.0.0.1',
        logLevel: 'silent',
        databaseUrl: 'sqlite::memory:',
        workerThreads: '1',
      },
      {},
    ),
  );
}

/** GET and parse the body, keeping status and content type. */
export async function getJson(
  url: string,
): Promise<{ status: number; type: string | null; body: unknown }> {
  const response = await fetch(url);
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: JSON.parse(text) as unknown,
  };
}

/** Runs `count` tasks with at most `concurrency` in flight. */
export async function pool<T>(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  });
  await Promise.all(lanes);
  return results;
}
