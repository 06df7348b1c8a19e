/**
 * Prometheus metrics of the scheduler, read from the same view as /api/v1/scheduler when
 * /metrics is scraped. They describe the whole deployment, not this process, so a cluster of
 * HTTP processes reports them once (aggregator "first"), not summed.
 */
import { Gauge, type Registry } from 'prom-client';
import type { JobService } from '#src/jobs/jobs.service.js';

const STATES = ['waiting', 'delayed', 'active', 'completed', 'failed'] as const;

/** Registers surfacescan_queue_jobs, surfacescan_queue_rate and surfacescan_workers. */
export function registerSchedulerMetrics(registry: Registry, jobs: JobService): void {
  let view: ReturnType<JobService['scheduler']> | undefined;
  // One scheduler read per scrape, shared by the three gauges.
  const read = (): ReturnType<JobService['scheduler']> => {
    view ??= jobs.scheduler().finally(() => {
      setImmediate(() => {
        view = undefined;
      });
    });
    return view;
  };
  new Gauge({
    name: 'surfacescan_queue_jobs',
    help: 'Jobs per queue and state (the HPA signal: state="waiting").',
    labelNames: ['queue', 'state'],
    registers: [registry],
    aggregator: 'first',
    async collect() {
      const scheduler = await read().catch(() => undefined);
      this.reset();
      for (const queue of scheduler?.queues ?? []) {
        for (const state of STATES) this.set({ queue: queue.name, state }, queue[state]);
      }
    },
  });
  new Gauge({
    name: 'surfacescan_queue_rate',
    help: 'Jobs finished per second per queue over the last 10 s, over all workers.',
    labelNames: ['queue'],
    registers: [registry],
    aggregator: 'first',
    async collect() {
      const scheduler = await read().catch(() => undefined);
      this.reset();
      for (const queue of scheduler?.queues ?? []) this.set({ queue: queue.name }, queue.rate);
    },
  });
  new Gauge({
    name: 'surfacescan_workers',
    help: 'Job workers by status (alive, gone = missed heartbeats, stopped).',
    labelNames: ['status'],
    registers: [registry],
    aggregator: 'first',
    async collect() {
      const scheduler = await read().catch(() => undefined);
      this.reset();
      const counts = { alive: 0, gone: 0, stopped: 0 };
      for (const worker of scheduler?.workers ?? []) counts[worker.status]++;
      for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
    },
  });
}
