/**
 * Overview: counts and trends at a glance. Issues by priority and opened per day (from
 * /api/v1/issues/summary), open services by product, assets by provider and new exposures (from
 * /api/v1/services/summary), the cloud environment's size, and the job queues' health. Each card
 * loads and fails on its own, so one missing API never blanks the page.
 */
import { useMemo, type ReactNode } from 'react';
import { useApi } from '../api.ts';
import type { EnvironmentInfo, IssueSummary, SchedulerView, ServicesSummary } from '../types.ts';
import { EChart, type ChartOption } from '../components/EChart.tsx';
import { Empty, ErrorPanel, Loading } from '../components/States.tsx';
import { Link } from '../router.tsx';
import { label } from '../lib/format.ts';
import { FILTER_VALUES } from '../lib/issue-query.ts';

const PRIORITY_COLORS: Record<string, string> = {
  critical: '#d92d20',
  high: '#f06d0f',
  medium: '#d4a106',
  low: '#3f9c55',
};

function IssueCards(): ReactNode {
  const summary = useApi<IssueSummary>('/api/v1/issues/summary');
  const data = summary.data;
  const byPriority = useMemo<ChartOption | undefined>(() => {
    if (data === undefined) return undefined;
    return {
      tooltip: {},
      grid: { left: 50, right: 16, top: 16, bottom: 30 },
      xAxis: { type: 'category', data: FILTER_VALUES.priority.map(label) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        {
          type: 'bar',
          name: 'Issues',
          data: FILTER_VALUES.priority.map((p) => ({
            value: data.byPriority[p] ?? 0,
            itemStyle: { color: PRIORITY_COLORS[p] },
          })),
        },
      ],
    };
  }, [data]);
  const byDay = useMemo<ChartOption | undefined>(() => {
    if (data === undefined) return undefined;
    return {
      tooltip: { trigger: 'axis' },
      grid: { left: 50, right: 16, top: 16, bottom: 30 },
      xAxis: { type: 'category', data: data.openedByDay.map((d) => d.day) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        { type: 'line', name: 'Opened', data: data.openedByDay.map((d) => d.count), areaStyle: {} },
      ],
    };
  }, [data]);

  if (summary.state === 'error')
    return (
      <div className="panel">
        <h2>Issues</h2>
        <ErrorPanel
          title="The issue summary failed to load"
          error={summary.error}
          onRetry={summary.retry}
        />
      </div>
    );
  if (data === undefined || byPriority === undefined || byDay === undefined)
    return (
      <div className="panel">
        <h2>Issues</h2>
        <Loading what="the issue summary" />
      </div>
    );
  const total = Object.values(data.byStatus).reduce((a, b) => a + b, 0);
  const open = data.byStatus['active'] ?? 0;
  return (
    <>
      <div className="panel">
        <h2>Issues by priority</h2>
        <dl className="figures">
          <div>
            <dt>Active issues</dt>
            <dd data-testid="active-issues">{open.toLocaleString()}</dd>
          </div>
          <div>
            <dt>All issues</dt>
            <dd>{total.toLocaleString()}</dd>
          </div>
          {FILTER_VALUES.priority.map((p) => (
            <div key={p}>
              <dt>{label(p)}</dt>
              <dd>
                <Link to={`/issues?priority=${p}`}>
                  {(data.byPriority[p] ?? 0).toLocaleString()}
                </Link>
              </dd>
            </div>
          ))}
        </dl>
        {total === 0 ? (
          <Empty>No issue yet: they appear once scans find exposed services.</Empty>
        ) : (
          <EChart
            option={byPriority}
            label="Bar chart of issues by priority"
            testId="chart-priority"
          />
        )}
      </div>
      <div className="panel">
        <h2>Issues opened per day</h2>
        {data.openedByDay.length === 0 ? (
          <Empty>No issue has been opened yet.</Empty>
        ) : (
          <EChart
            option={byDay}
            label="Line chart of issues opened per day"
            testId="chart-opened"
          />
        )}
      </div>
    </>
  );
}

/**
 * The chart's description for assistive technology, in words: ECharts' own reads only the first
 * ten bars and mixes category positions into the values.
 */
function described(description: string) {
  return { enabled: true, label: { description } };
}

/** Bars stay slim when there are few of them. */
const BAR_MAX_WIDTH = 28;

/** The product chart's bars: the top products, then one "Other" bar for the rest. */
function productBars(data: ServicesSummary): { name: string; count: number }[] {
  const { items, other } = data.byProduct;
  if (other.count === 0) return items;
  const others = `Other (${other.names.toLocaleString()} products)`;
  return [...items, { name: others, count: other.count }];
}

/** Open services by product, assets by provider and new exposures: one request, three cards. */
function ExposureCards(): ReactNode {
  const summary = useApi<ServicesSummary>('/api/v1/services/summary');
  const data = summary.data;
  const byProduct = useMemo<ChartOption | undefined>(() => {
    if (data === undefined) return undefined;
    const bars = productBars(data);
    return {
      aria: described(
        `Open services by product: ${bars.map((b) => `${b.name}: ${String(b.count)}`).join('; ')}.`,
      ),
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: 'value', minInterval: 1 },
      // Largest first, from the top down.
      yAxis: {
        type: 'category',
        inverse: true,
        data: bars.map((b) => b.name),
        axisLabel: { width: 150, overflow: 'truncate' },
      },
      series: [
        {
          type: 'bar',
          name: 'Open services',
          barMaxWidth: BAR_MAX_WIDTH,
          data: bars.map((b) => b.count),
        },
      ],
    };
  }, [data]);
  const byProvider = useMemo<ChartOption | undefined>(() => {
    if (data === undefined) return undefined;
    const rows = data.byProvider;
    const words = rows.map(
      (r) =>
        `${r.provider}: ${String(r.ipAssets)} IP assets, ${String(r.openServices)} open services`,
    );
    return {
      aria: described(`IP assets and open services by provider: ${words.join('; ')}.`),
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { top: 0 },
      grid: { left: 8, right: 24, top: 30, bottom: 8, containLabel: true },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', inverse: true, data: rows.map((r) => r.provider) },
      series: [
        {
          type: 'bar',
          name: 'IP assets',
          barMaxWidth: BAR_MAX_WIDTH,
          data: rows.map((r) => r.ipAssets),
        },
        {
          type: 'bar',
          name: 'Open services',
          barMaxWidth: BAR_MAX_WIDTH,
          data: rows.map((r) => r.openServices),
        },
      ],
    };
  }, [data]);
  const newByDay = useMemo<ChartOption | undefined>(() => {
    if (data === undefined) return undefined;
    const words = data.firstSeenByDay.map((d) => `${d.day}: ${String(d.count)}`);
    return {
      aria: described(`Services first seen per day: ${words.join('; ')}.`),
      tooltip: { trigger: 'axis' },
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: data.firstSeenByDay.map((d) => d.day.slice(5)) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        {
          type: 'bar',
          name: 'First seen',
          barMaxWidth: BAR_MAX_WIDTH,
          data: data.firstSeenByDay.map((d) => d.count),
        },
      ],
    };
  }, [data]);

  const titles = ['Services by product', 'Assets by provider', 'New exposures'];
  if (summary.state === 'error' && data === undefined)
    return (
      <>
        {titles.map((title) => (
          <div className="panel" key={title}>
            <h2>{title}</h2>
            <ErrorPanel
              title="The services summary failed to load"
              error={summary.error}
              onRetry={summary.retry}
            />
          </div>
        ))}
      </>
    );
  if (
    data === undefined ||
    byProduct === undefined ||
    byProvider === undefined ||
    newByDay === undefined
  )
    return (
      <>
        {titles.map((title) => (
          <div className="panel" key={title}>
            <h2>{title}</h2>
            <Loading what="the services summary" />
          </div>
        ))}
      </>
    );
  const { totals } = data;
  const recent = data.firstSeenByDay.reduce((n, d) => n + d.count, 0);
  return (
    <>
      <div className="panel">
        <h2>Services by product</h2>
        <dl className="figures">
          <div>
            <dt>Open services</dt>
            <dd data-testid="open-services">{totals.openServices.toLocaleString()}</dd>
          </div>
          <div>
            <dt>Products</dt>
            <dd data-testid="product-count">{totals.products.toLocaleString()}</dd>
          </div>
          <div>
            <dt>Closed since</dt>
            <dd>{totals.closedServices.toLocaleString()}</dd>
          </div>
        </dl>
        {totals.openServices === 0 ? (
          <Empty>No open service yet: scan or import an organization&apos;s addresses.</Empty>
        ) : (
          <EChart
            option={byProduct}
            label="Bar chart of open services by product"
            testId="chart-products"
          />
        )}
        <p className="muted">
          <Link to="/inventory">Asset and service inventory</Link>
        </p>
      </div>
      <div className="panel">
        <h2>Assets by provider</h2>
        <dl className="figures">
          <div>
            <dt>IP assets</dt>
            <dd data-testid="ip-assets">{totals.ipAssets.toLocaleString()}</dd>
          </div>
          <div>
            <dt>Exposed addresses</dt>
            <dd data-testid="exposed-ips">{totals.exposedIps.toLocaleString()}</dd>
          </div>
          <div>
            <dt>Providers</dt>
            <dd>{data.byProvider.length.toLocaleString()}</dd>
          </div>
        </dl>
        {data.byProvider.length === 0 ? (
          <Empty>No address is known yet: scans and imports attribute each to a provider.</Empty>
        ) : (
          <EChart
            option={byProvider}
            label="Bar chart of IP assets and open services by hosting provider"
            testId="chart-providers"
          />
        )}
      </div>
      <div className="panel">
        <h2>New exposures</h2>
        <dl className="figures">
          <div>
            <dt>New this week</dt>
            <dd data-testid="new-exposures">{totals.newThisWeek.toLocaleString()}</dd>
          </div>
          <div>
            <dt>Last 14 days</dt>
            <dd>{recent.toLocaleString()}</dd>
          </div>
        </dl>
        {recent === 0 ? (
          <Empty>No service was first seen in the last 14 days.</Empty>
        ) : (
          <EChart
            option={newByDay}
            label="Bar chart of services first seen per day over the last 14 days"
            testId="chart-new-exposures"
          />
        )}
      </div>
    </>
  );
}

function EnvironmentCard(): ReactNode {
  const env = useApi<EnvironmentInfo>('/api/v1/environment');
  return (
    <div className="panel">
      <h2>Cloud environment</h2>
      {env.state === 'error' ? (
        <ErrorPanel title="The environment failed to load" error={env.error} onRetry={env.retry} />
      ) : env.data === undefined ? (
        <Loading what="the environment" />
      ) : (
        <>
          <dl className="figures">
            <div>
              <dt>VMs</dt>
              <dd data-testid="overview-vms">{env.data.vm_count.toLocaleString()}</dd>
            </div>
            <div>
              <dt>Firewall rules</dt>
              <dd>{env.data.rule_count.toLocaleString()}</dd>
            </div>
            <div>
              <dt>Tags</dt>
              <dd>{env.data.tag_count.toLocaleString()}</dd>
            </div>
          </dl>
          <p className="muted">
            Version {env.data.version} from {env.data.source}.{' '}
            <Link to="/cloud">Who can attack what</Link>
          </p>
        </>
      )}
    </div>
  );
}

function QueueCard(): ReactNode {
  const view = useApi<SchedulerView>('/api/v1/scheduler', 5000);
  const data = view.data;
  const option = useMemo<ChartOption | undefined>(() => {
    if (data === undefined) return undefined;
    const names = data.queues.map((q) => q.name);
    const series = (['waiting', 'active', 'failed'] as const).map((field) => ({
      type: 'bar',
      stack: 'jobs',
      name: label(field),
      data: data.queues.map((q) => q[field]),
    }));
    return {
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 110, right: 16, top: 30, bottom: 24 },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', data: names },
      series,
    };
  }, [data]);
  const alive = data?.workers.filter((w) => w.status === 'alive').length ?? 0;
  const gone = data?.workers.filter((w) => w.status === 'gone').length ?? 0;
  return (
    <div className="panel">
      <h2>Queue health</h2>
      {view.state === 'error' && (
        <ErrorPanel title="The scheduler failed to load" error={view.error} onRetry={view.retry} />
      )}
      {data === undefined || option === undefined ? (
        view.state === 'loading' && <Loading what="the queues" />
      ) : (
        <>
          <dl className="figures">
            <div>
              <dt>Workers alive</dt>
              <dd data-testid="workers-alive">{alive}</dd>
            </div>
            <div>
              <dt>Workers gone</dt>
              <dd className={gone > 0 ? 'status-gone' : undefined}>{gone}</dd>
            </div>
            <div>
              <dt>Jobs failed for good</dt>
              <dd>{data.queues.reduce((n, q) => n + q.failed, 0).toLocaleString()}</dd>
            </div>
          </dl>
          <EChart
            option={option}
            label="Stacked bar chart of waiting, active and failed jobs per queue"
          />
          <p className="muted">
            <Link to="/scheduler">Live scheduler view</Link>
          </p>
        </>
      )}
    </div>
  );
}

export default function Overview(): ReactNode {
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      <div className="grid">
        <IssueCards />
        <ExposureCards />
        <EnvironmentCard />
        <QueueCard />
      </div>
    </section>
  );
}
