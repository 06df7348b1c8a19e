/**
 * The worker-thread pool (piscina) that runs CPU-heavy job steps, sized to the cores, so the
 * event loop of a process keeps serving heartbeats, leases and (in `serve`) HTTP.
 */
import { Piscina } from 'piscina';
import type { CpuTaskName } from '#src/jobs/cpu-tasks.js';

/** Runs named CPU tasks off the event loop. */
export interface CpuPool {
  run<T>(task: CpuTaskName, input: unknown, signal?: AbortSignal): Promise<T>;
  /** Threads the pool may use. */
  readonly threads: number;
  close(): Promise<void>;
}

/** A piscina pool of `threads` threads (started on demand, kept while busy). */
export function createCpuPool(threads: number): CpuPool {
  const pool = new Piscina({
    filename: new URL('./pool.loader.cjs', import.meta.url).href,
    minThreads: Math.min(1, threads),
    maxThreads: threads,
    idleTimeout: 30_000,
  });
  return {
    threads,
    run: <T>(task: CpuTaskName, input: unknown, signal?: AbortSignal) =>
      pool.run({ task, input }, signal === undefined ? {} : { signal }) as Promise<T>,
    close: () => pool.destroy(),
  };
}
