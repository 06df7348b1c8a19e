/** Scheduler: the live queues and workers from /api/v1/scheduler, refreshed every 2 s. */
import type { ReactNode } from 'react';
import { useApi } from '../api.ts';
import type { SchedulerView } from '../types.ts';
import { Empty, ErrorPanel, Loading } from '../components/States.tsx';
import { formatAge, formatRate } from '../lib/format.ts';

/** Refresh period of the live view. */
const REFRESH_MS = 2000;

export default function Scheduler(): ReactNode {
  const view = useApi<SchedulerView>('/api/v1/scheduler', REFRESH_MS);
  const data = view.data;
  return (
    <section aria-labelledby="scheduler-title">
      <h1 id="scheduler-title">Scheduler</h1>
      <p className="muted">
        Live view of the job queues and workers, refreshed every {REFRESH_MS / 1000} s
        {data
          ? ` (backend ${data.backend}, as of ${new Date(data.generated_at).toLocaleTimeString()})`
          : ''}
        .
      </p>
      {view.state === 'error' && (
        <ErrorPanel
          title="The scheduler view failed to load"
          error={view.error}
          onRetry={view.retry}
        />
      )}
      {data === undefined ? (
        view.state === 'loading' && <Loading what="the scheduler" />
      ) : (
        <>
          <div className="panel">
            <h2>Queues</h2>
            {data.queues.length === 0 ? (
              <Empty>No queues are registered.</Empty>
            ) : (
              <div className="scroll-x">
                <table aria-label="Queues">
                  <thead>
                    <tr>
                      <th scope="col">Queue</th>
                      <th scope="col">Waiting</th>
                      <th scope="col">Delayed</th>
                      <th scope="col">Active</th>
                      <th scope="col">Completed</th>
                      <th scope="col">Failed</th>
                      <th scope="col">Jobs/s</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.queues.map((q) => (
                      <tr key={q.name}>
                        <th scope="row" title={q.description}>
                          {q.name}
                        </th>
                        <td>{q.waiting}</td>
                        <td>{q.delayed}</td>
                        <td>{q.active}</td>
                        <td>{q.completed}</td>
                        <td>{q.failed}</td>
                        <td>{formatRate(q.rate)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </div>
          <div className="panel">
            <h2>Workers</h2>
            {data.workers.length === 0 ? (
              <Empty>No worker has registered; start one with `surfacescan worker`.</Empty>
            ) : (
              <div className="scroll-x">
                <table aria-label="Workers">
                  <thead>
                    <tr>
                      <th scope="col">Worker</th>
                      <th scope="col">Status</th>
                      <th scope="col">Queues</th>
                      <th scope="col">Running now</th>
                      <th scope="col">Processed</th>
                      <th scope="col">Failed</th>
                      <th scope="col">Jobs/s</th>
                      <th scope="col">Heartbeat</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.workers.map((w) => (
                      <tr key={w.id}>
                        <th scope="row">
                          {w.host}:{w.pid}
                        </th>
                        <td className={w.status === 'gone' ? 'status-gone' : undefined}>
                          {w.status}
                        </td>
                        <td>{w.queues.join(', ')}</td>
                        <td title={w.current_jobs.join(', ')}>{w.current_jobs.length}</td>
                        <td>{w.processed}</td>
                        <td>{w.failed}</td>
                        <td>{formatRate(w.jobs_per_second)}</td>
                        <td>{formatAge(w.heartbeat_age_ms)} ago</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </div>
          <div className="panel">
            <h2>Recent failures</h2>
            {data.recent_failures.length === 0 ? (
              <Empty>No job has failed for good.</Empty>
            ) : (
              <ul>
                {data.recent_failures.map((f) => (
                  <li key={f.id}>
                    <strong>{f.type}</strong> {f.id} after {f.attempts} attempts,{' '}
                    {new Date(f.failed_at).toLocaleString()}: {f.error}
                  </li>
                ))}
              </ul>
            )}
          </div>
        </>
      )}
    </section>
  );
}
