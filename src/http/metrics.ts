/**
 * Prometheus metrics. Per-route request counts come from the latency histogram's _count series
 * (http_request_duration_seconds_count), so one observation per request is the whole hot-path
 * cost; label children are cached so no label object is hashed per request.
 */
import { Histogram, Registry, collectDefaultMetrics, type LabelValues } from 'prom-client';

type Labels = 'method' | 'route' | 'status_code';

/** The metrics of one process. */
export class HttpMetrics {
  /** The registry /metrics renders. */
  readonly registry = new Registry();
  private readonly histogram: Histogram<Labels>;
  private readonly children = new Map<string, { observe(value: number): void }>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.histogram = new Histogram<Labels>({
      name: 'http_request_duration_seconds',
      help: 'Time from request received to response sent, by route (count = requests).',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: 'surfacescan_' });
    }
  }

  /** Records one request; `route` is the route pattern, never the raw URL (bounded cardinality). */
  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let child = this.children.get(key);
    if (child === undefined) {
      const labels: LabelValues<Labels> = { method, route, status_code: status };
      child = this.histogram.labels(labels);
      this.children.set(key, child);
    }
    child.observe(seconds);
  }
}
