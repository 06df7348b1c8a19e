/** Helpers for tests that spawn the real compiled CLI, as a user would run it. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** The repository root: the CLI runs with it as cwd, so fixture paths can be relative. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The compiled CLI entry point. */
export const MAIN = join(REPO_ROOT, 'dist/src/cli/main.js');

/** How long one CLI run may take before the test kills it and fails. */
const RUN_TIMEOUT_MS = 20_000;

/** process.env without any SURFACESCAN_* variable, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('SURFACESCAN_')) Reflect.deleteProperty(env, name);
  }
  // Servers started by tests keep their data in memory unless a test says otherwise.
  return { ...env, SURFACESCAN_DATABASE_URL: 'sqlite::memory:', ...extra };
}

/** What a finished CLI run left behind. */
export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `surfacescan ...args` to completion. Rejects (failing the test) if it does not exit within
 * the timeout; the child is killed first so nothing is left running.
 */
export function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = cleanEnv(),
  timeoutMs = RUN_TIMEOUT_MS,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `surfacescan ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Escapes text for use inside a RegExp. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Asserts a bad-input failure as a user sees it: exit 2, nothing on stdout, one paragraph on
 * stderr (no blank line), no stack trace, and every expected fragment.
 */
export function assertUsageError(result: CliResult, ...fragments: readonly string[]): void {
  const context = `stdout: ${result.stdout}\nstderr: ${result.stderr}`;
  assert.equal(result.code, 2, context);
  assert.equal(result.stdout, '', context);
  assert.ok(result.stderr.endsWith('\n'), context);
  assert.doesNotMatch(result.stderr, /\n\s*\n/, `one paragraph\n${context}`);
  assert.ok(!result.stderr.includes('    at '), `no stack trace\n${context}`);
  for (const fragment of fragments) {
    assert.ok(result.stderr.includes(fragment), `expected ${JSON.stringify(fragment)}\n${context}`);
  }
}

/** Writes `content` to env.json in a fresh temp directory and returns its path. */
export function tempEnvFile(content: string | Buffer): string {
  const file = join(mkdtempSync(join(tmpdir(), 'surfacescan-cli-')), 'env.json');
  writeFileSync(file, content);
  return file;
}

/** A pino log line, as far as the tests read it. */
export interface LogRecord {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A `surfacescan serve` child with its log lines (stdout) collected as they arrive. */
export interface ServeProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** Every JSON log line so far. */
  readonly logs: LogRecord[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the first log line (seen or yet to come) matching; rejects after timeoutMs. */
  waitForLog(match: (record: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  /** Resolves with the exit code once the child has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills the child if it is still running (for cleanup in `finally`). */
  kill(): void;
}

/** Starts `surfacescan serve ...args` and collects its log lines; does not wait for anything. */
export function startServe(
  args: readonly string[],
  env: NodeJS.ProcessEnv = cleanEnv(),
): ServeProcess {
  return startCommand(['serve', ...args], env);
}

/** Starts `surfacescan ...args` (a long-running command such as serve or worker). */
export function startCommand(
  args: readonly string[],
  env: NodeJS.ProcessEnv = cleanEnv(),
): ServeProcess {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogRecord[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let closed = false;
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    let record: LogRecord;
    try {
      record = JSON.parse(line) as LogRecord;
    } catch {
      record = { level: -1, msg: `(not JSON) ${line}` };
    }
    logs.push(record);
    for (const wake of waiters) wake();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      closed = true;
      for (const wake of waiters) wake();
      resolve({ code, signal });
    });
  });
  const waitForLog = (
    match: (record: LogRecord) => boolean,
    timeoutMs = RUN_TIMEOUT_MS,
  ): Promise<LogRecord> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = logs.find(match);
        if (found !== undefined) {
          done();
          resolve(found);
        } else if (closed) {
          done();
          reject(new Error(`serve exited before the expected log line\nstderr: ${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `no matching log line within ${timeoutMs} ms\nlogs: ${JSON.stringify(logs)}\nstderr: ${stderr}`,
          ),
        );
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return {
    child,
    logs,
    stderr: () => stderr,
    waitForLog,
    exited,
    kill: () => {
      if (!closed) child.kill('SIGKILL');
    },
  };
}

/** Waits for the "surfacescan listening" line and returns its url. */
export async function listeningUrl(server: ServeProcess): Promise<string> {
  const record = await server.waitForLog((r) => r.msg === 'surfacescan listening');
  assert.equal(typeof record.url, 'string', JSON.stringify(record));
  return record.url as string;
}

/** Resolves with the exit of a child within timeoutMs, or kills it and rejects. */
export async function exitWithin(
  server: ServeProcess,
  timeoutMs = RUN_TIMEOUT_MS,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      server.kill();
      reject(new Error(`serve did not exit within ${timeoutMs} ms\nstderr: ${server.stderr()}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([server.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The bounded-concurrency runner shared with the HTTP tests. */
export { pool } from './http.js';
