/** The detail drawer of one issue: facts, evidence, remediation, history, and quick edits. */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { api, useApi } from '../api.ts';
import type { IssueDetail, Progress } from '../types.ts';
import { ErrorPanel, Loading } from './States.tsx';
import { formatDate, label } from '../lib/format.ts';
import { FILTER_VALUES } from '../lib/issue-query.ts';

function show(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Renders evidence (any JSON object) as a definition list, nested values as JSON. */
function Evidence(props: { value: Record<string, unknown> }): ReactNode {
  const entries = Object.entries(props.value);
  if (entries.length === 0) return <p className="muted">No evidence recorded.</p>;
  return (
    <dl className="evidence">
      {entries.map(([key, value]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>
            {typeof value === 'object' && value !== null ? (
              <pre>{JSON.stringify(value, null, 2)}</pre>
            ) : (
              show(value)
            )}
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** The drawer for issue `id`; Escape or the Close button closes it. */
export function IssueDrawer(props: {
  id: string;
  onClose: () => void;
  onChanged: () => void;
}): ReactNode {
  const detail = useApi<IssueDetail>(`/api/v1/issues/${encodeURIComponent(props.id)}`);
  const heading = useRef<HTMLHeadingElement>(null);
  const [saving, setSaving] = useState<{ busy: boolean; error?: Error }>({ busy: false });
  const { onClose } = props;

  useEffect(() => {
    heading.current?.focus();
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
    };
  }, [props.id, onClose]);

  const patch = async (change: {
    progress?: Progress;
    assignee?: string | null;
  }): Promise<void> => {
    setSaving({ busy: true });
    try {
      await api(`/api/v1/issues/${encodeURIComponent(props.id)}`, {
        method: 'PATCH',
        body: change,
      });
      setSaving({ busy: false });
      detail.retry();
      props.onChanged();
    } catch (error) {
      setSaving({ busy: false, error: error instanceof Error ? error : new Error(String(error)) });
    }
  };

  const issue = detail.data;
  return (
    <aside className="drawer" role="dialog" aria-modal="false" aria-labelledby="drawer-title">
      <div className="drawer-head">
        <h2 id="drawer-title" ref={heading} tabIndex={-1}>
          {issue?.title ?? 'Issue'}
        </h2>
        <button type="button" className="secondary" onClick={props.onClose}>
          Close
        </button>
      </div>
      {detail.state === 'error' && (
        <ErrorPanel title="This issue failed to load" error={detail.error} onRetry={detail.retry} />
      )}
      {issue === undefined ? (
        detail.state === 'loading' && <Loading what="the issue" />
      ) : (
        <>
          <dl className="facts">
            <dt>Policy</dt>
            <dd>{issue.policyName}</dd>
            <dt>Priority</dt>
            <dd>
              <span className={`badge p-${issue.priority}`}>{label(issue.priority)}</span>
            </dd>
            <dt>Status</dt>
            <dd>{label(issue.status)}</dd>
            <dt>Service</dt>
            <dd>
              {issue.ip}:{issue.port}
            </dd>
            <dt>Provider</dt>
            <dd>{issue.provider}</dd>
            <dt>First added</dt>
            <dd>{formatDate(issue.firstAdded)}</dd>
            <dt>Last observed</dt>
            <dd>{formatDate(issue.lastObserved)}</dd>
          </dl>
          <div className="row">
            <label>
              Progress
              <select
                value={issue.progress}
                disabled={saving.busy}
                onChange={(event) => void patch({ progress: event.target.value as Progress })}
              >
                {FILTER_VALUES.progress.map((p) => (
                  <option key={p} value={p}>
                    {label(p)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Assigned to
              <input
                key={issue.assignee ?? ''}
                defaultValue={issue.assignee ?? ''}
                disabled={saving.busy}
                onBlur={(event) => {
                  const value = event.target.value.trim();
                  if (value !== (issue.assignee ?? ''))
                    void patch({ assignee: value === '' ? null : value });
                }}
              />
            </label>
          </div>
          {saving.error && <ErrorPanel title="The change was not saved" error={saving.error} />}
          <h3>Evidence</h3>
          <Evidence value={issue.evidence} />
          <h3>Remediation</h3>
          <p className="remediation">{issue.remediation}</p>
          <h3>History</h3>
          {issue.history.length === 0 ? (
            <p className="muted">No change yet.</p>
          ) : (
            <ol className="history" aria-label="History">
              {issue.history.map((h, i) => (
                <li key={i}>
                  {formatDate(h.at)}: <strong>{h.actor}</strong> set {h.field} from {show(h.from)}{' '}
                  to {show(h.to)}
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </aside>
  );
}
