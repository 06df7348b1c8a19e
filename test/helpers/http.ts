/** Helpers for tests that talk to a real listening server over HTTP. */
import { mkdtempSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type RawFlags } from '#src/config/config.js';
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
export function startTestServer(cloudEnv: string, flags: RawFlags = {}): Promise<RunningServer> {
  return startServer(
    loadConfig(
      {
        cloudEnv,
        port: '0',
        host: '127.0.0.1',
        logLevel: 'silent',
        databaseUrl: 'sqlite::memory:',
        workerThreads: '1',
        ...flags,
      },
      {},
    ),
  );
}

/** Sends JSON and parses the answer. */
export async function sendJson(
  method: 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  body: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const answer: unknown = await response.json();
  return { status: response.status, body: answer };
}

/** Polls `check` every 25 ms until it returns true; fails after timeoutMs. */
export async function until(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${String(timeoutMs)} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
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
