/**
 * Prometheus metrics. The per-route latency histogram is our own small metric object rather than
 * prom-client's Histogram: prom-client validates, copies and hashes the label object on every
 * observation (microseconds on a path that answers in tens of microseconds), while here one
 * request costs a Map lookup and an array increment. It implements prom-client's metric
 * interface (get/reset), so the registry renders it and the cluster aggregator merges it.
 * Per-route request counts are its _count series (http_request_duration_seconds_count).
 */
import {
  Registry,
  type MetricType,
  collectDefaultMetrics,
  type MetricObjectWithValues,
  type MetricValueWithName,
} from 'prom-client';

/** Upper bounds of the latency buckets, in seconds. */
const BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface Series {
  readonly labels: { method: string; route: string; status_code: number };
  /** counts[i]: observations in (BOUNDS[i-1], BOUNDS[i]]; the last slot is above every bound. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** http_request_duration_seconds{method,route,status_code}, cheap to observe. */
class RouteHistogram {
  readonly name = 'http_request_duration_seconds';
  readonly help = 'Time from request received to response sent, by route (count = requests).';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${String(status)}`;
    let series = this.series.get(key);
    if (series === undefined) {
      series = {
        labels: { method, route, status_code: status },
        counts: new Float64Array(BOUNDS.length + 1),
        sum: 0,
        count: 0,
      };
      this.series.set(key, series);
    }
    let i = 0;
    while (i < BOUNDS.length && seconds > BOUNDS[i]!) i++;
    series.counts[i]!++;
    series.sum += seconds;
    series.count++;
  }

  get(): Promise<Omit<MetricObjectWithValues<MetricValueWithName<string>>, 'collect'>> {
    const values: MetricValueWithName<string>[] = [];
    for (const series of this.series.values()) {
      let cumulative = 0;
      BOUNDS.forEach((bound, i) => {
        cumulative += series.counts[i]!;
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { ...series.labels, le: bound },
          value: cumulative,
        });
      });
      values.push(
        {
          metricName: `${this.name}_bucket`,
          labels: { ...series.labels, le: '+Inf' },
          value: series.count,
        },
        { metricName: `${this.name}_sum`, labels: series.labels, value: series.sum },
        { metricName: `${this.name}_count`, labels: series.labels, value: series.count },
      );
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      // prom-client's typings declare an enum it does not export; at run time the type is a string.
      type: 'histogram' as unknown as MetricType,
      values,
      aggregator: 'sum',
    });
  }

  reset(): void {
    this.series.clear();
  }
}

/** The metrics of one process. */
export class HttpMetrics {
  /** The registry /metrics renders. */
  readonly registry = new Registry();
  private readonly histogram = new RouteHistogram();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.registry.registerMetric(this.histogram as never);
    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: 'surfacescan_' });
    }
  }

  /** Records one request; `route` is the route pattern, never the raw URL (bounded cardinality). */
  observe(method: string, route: string, status: number, seconds: number): void {
    this.histogram.observe(method, route, status, seconds);
  }
}
