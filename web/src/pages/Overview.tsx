/**
 * Overview: counts and trends at a glance. Issues by priority and opened per day (from
 * /api/v1/issues/summary), the cloud environment's size, and the job queues' health. Each card
 * loads and fails on its own, so one missing API never blanks the page.
 */
import { useMemo, type ReactNode } from 'react';
import { useApi } from '../api.ts';
import type { EnvironmentInfo, IssueSummary, SchedulerView } from '../types.ts';
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
        <EnvironmentCard />
        <QueueCard />
      </div>
    </section>
  );
}
