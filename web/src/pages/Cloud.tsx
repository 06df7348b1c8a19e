/**
 * Cloud: the environment being served and the stored versions (upload a new one), "who can
 * attack VM X" (direct and transitive), the attack path from one VM to X, and the graph.
 * The query lives in the URL: /cloud?vm=X&mode=transitive&from=Y.
 */
import { useMemo, useState, type SyntheticEvent, type ReactNode } from 'react';
import { api, useApi } from '../api.ts';
import { useSearchParams } from '../router.tsx';
import type { EnvironmentInfo, PathStep, StoredEnvironment } from '../types.ts';
import { Empty, ErrorPanel, Loading } from '../components/States.tsx';
import { AttackGraphView } from '../components/AttackGraphView.tsx';
import { buildAttackGraph, firstTagGroups } from '../lib/attack-graph.ts';
import { formatDate } from '../lib/format.ts';

/** Attacker nodes drawn one by one before they are grouped. */
const GRAPH_LIMIT = 1000;

function EnvironmentPanel(props: { onUploaded: (document: unknown) => void }): ReactNode {
  const served = useApi<EnvironmentInfo>('/api/v1/environment');
  const stored = useApi<StoredEnvironment[]>('/api/v1/environments');
  const [upload, setUpload] = useState<
    | { state: 'idle' }
    | { state: 'busy' }
    | { state: 'done'; text: string }
    | { state: 'error'; error: Error }
  >({ state: 'idle' });

  const onFile = async (file: File): Promise<void> => {
    setUpload({ state: 'busy' });
    try {
      let document: unknown;
      try {
        document = JSON.parse(await file.text());
      } catch (error) {
        throw new Error(`${file.name} is not valid JSON: ${String(error)}`, { cause: error });
      }
      const info = await api<StoredEnvironment>('/api/v1/environments', {
        method: 'POST',
        body: document,
      });
      props.onUploaded(document);
      setUpload({
        state: 'done',
        text: `Stored ${file.name} as version ${info.version} (${info.vm_count.toLocaleString()} VMs, ${info.rule_count.toLocaleString()} rules).`,
      });
      stored.retry();
      served.retry();
    } catch (error) {
      setUpload({
        state: 'error',
        error: error instanceof Error ? error : new Error(String(error)),
      });
    }
  };

  return (
    <div className="panel">
      <h2>Environment</h2>
      {served.state === 'error' && (
        <ErrorPanel
          title="The served environment failed to load"
          error={served.error}
          onRetry={served.retry}
        />
      )}
      {served.data === undefined ? (
        served.state === 'loading' && <Loading what="the environment" />
      ) : (
        <dl className="figures" aria-label="Served environment">
          <div>
            <dt>VMs</dt>
            <dd data-testid="vm-count">{served.data.vm_count.toLocaleString()}</dd>
          </div>
          <div>
            <dt>Firewall rules</dt>
            <dd>{served.data.rule_count.toLocaleString()}</dd>
          </div>
          <div>
            <dt>Tags</dt>
            <dd>{served.data.tag_count.toLocaleString()}</dd>
          </div>
          <div>
            <dt>Source (version {served.data.version})</dt>
            <dd className="source">{served.data.source}</dd>
          </div>
        </dl>
      )}
      <h3>Stored versions</h3>
      {stored.state === 'error' && (
        <ErrorPanel
          title="Stored versions failed to load"
          error={stored.error}
          onRetry={stored.retry}
        />
      )}
      {stored.data === undefined ? (
        stored.state === 'loading' && <Loading what="stored versions" />
      ) : stored.data.length === 0 ? (
        <Empty>No environment is stored yet. Upload one below.</Empty>
      ) : (
        <div className="scroll-x">
          <table aria-label="Stored environment versions">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">VMs</th>
                <th scope="col">Rules</th>
                <th scope="col">Stored</th>
                <th scope="col">SHA-256</th>
              </tr>
            </thead>
            <tbody>
              {stored.data.map((v) => (
                <tr key={v.version}>
                  <th scope="row">{v.version}</th>
                  <td>{v.vm_count.toLocaleString()}</td>
                  <td>{v.rule_count.toLocaleString()}</td>
                  <td>{formatDate(v.created_at)}</td>
                  <td>
                    <code>{v.sha256.slice(0, 12)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="muted">
        Servers started with <code>--cloud-env db:latest</code> serve the newest stored version.
      </p>
      <div className="row">
        <label>
          Upload an environment (JSON)
          <input
            type="file"
            accept="application/json,.json"
            disabled={upload.state === 'busy'}
            onChange={(event) => {
              const file = event.target.files?.[0];
              if (file) void onFile(file);
              event.target.value = '';
            }}
          />
        </label>
      </div>
      {upload.state === 'busy' && <Loading what="the upload" />}
      {upload.state === 'done' && (
        <p role="status" data-testid="upload-result">
          {upload.text}
        </p>
      )}
      {upload.state === 'error' && (
        <ErrorPanel title="The upload was rejected" error={upload.error} />
      )}
    </div>
  );
}

export default function Cloud(): ReactNode {
  const [search, setSearch] = useSearchParams();
  const vm = search.get('vm') ?? '';
  const mode = search.get('mode') === 'transitive' ? 'transitive' : 'direct';
  const from = search.get('from') ?? '';
  const [draft, setDraft] = useState(vm);
  const [fromDraft, setFromDraft] = useState(from);
  const [groups, setGroups] = useState<Map<string, string> | undefined>(undefined);

  const q = encodeURIComponent(vm);
  const direct = useApi<string[]>(vm === '' ? null : `/api/v1/attack?vm_id=${q}&mode=direct`);
  const transitive = useApi<string[]>(
    vm === '' ? null : `/api/v1/attack?vm_id=${q}&mode=transitive`,
  );
  const path = useApi<PathStep[]>(
    vm === '' || from === ''
      ? null
      : `/api/v1/attack-path?from=${encodeURIComponent(from)}&to=${q}`,
  );
  const answer = mode === 'direct' ? direct : transitive;

  const update = (changes: Record<string, string>): void => {
    const next = new URLSearchParams(search);
    for (const [key, value] of Object.entries(changes)) {
      if (value === '') next.delete(key);
      else next.set(key, value);
    }
    setSearch(next);
  };
  const onAsk = (event: SyntheticEvent): void => {
    event.preventDefault();
    update({ vm: draft.trim(), from: '' });
    setFromDraft('');
  };
  const onPath = (event: SyntheticEvent): void => {
    event.preventDefault();
    update({ from: fromDraft.trim() });
  };
  const pick = (id: string): void => {
    if (id === vm) return;
    setFromDraft(id);
    update({ from: id });
  };

  const graph = useMemo(() => {
    if (direct.state !== 'ok' || transitive.state !== 'ok') return undefined;
    return buildAttackGraph({
      target: vm,
      direct: direct.data,
      transitive: transitive.data,
      path: path.state === 'ok' && from !== '' ? path.data : [],
      limit: GRAPH_LIMIT,
      groupOf: groups ? (id) => groups.get(id) ?? 'other' : undefined,
    });
  }, [
    vm,
    from,
    direct.state,
    direct.data,
    transitive.state,
    transitive.data,
    path.state,
    path.data,
    groups,
  ]);

  return (
    <section aria-labelledby="cloud-title">
      <h1 id="cloud-title">Cloud</h1>
      <EnvironmentPanel
        onUploaded={(document) => {
          setGroups(firstTagGroups(document));
        }}
      />
      <div className="panel">
        <h2>Who can attack a VM?</h2>
        <form className="row" onSubmit={onAsk} role="search" aria-label="Attackers of a VM">
          <label>
            Target VM id
            <input
              name="vm"
              value={draft}
              onChange={(event) => {
                setDraft(event.target.value);
              }}
              placeholder="vm-…"
              required
            />
          </label>
          <fieldset className="row mode">
            <legend className="sr-only">Reach</legend>
            {(['direct', 'transitive'] as const).map((m) => (
              <label key={m} className="radio">
                <span>
                  <input
                    type="radio"
                    name="mode"
                    value={m}
                    checked={mode === m}
                    onChange={() => {
                      update({ mode: m === 'direct' ? '' : m });
                    }}
                  />{' '}
                  {m === 'direct' ? 'Direct (one rule)' : 'Transitive (any chain)'}
                </span>
              </label>
            ))}
          </fieldset>
          <button type="submit">Find attackers</button>
        </form>
        {vm === '' ? (
          <Empty>Enter a VM id to list the VMs that can reach it.</Empty>
        ) : answer.state === 'error' ? (
          <ErrorPanel
            title={`Attackers of ${vm} failed to load`}
            error={answer.error}
            onRetry={answer.retry}
          />
        ) : answer.state === 'loading' ? (
          <Loading what="attackers" />
        ) : answer.data.length === 0 ? (
          <Empty>
            No VM can reach {vm} {mode === 'direct' ? 'through one rule' : 'at all'}.
          </Empty>
        ) : (
          <>
            <p data-testid="attacker-count">
              {answer.data.length.toLocaleString()} {mode} attacker
              {answer.data.length === 1 ? '' : 's'} of <code>{vm}</code>. Choose one to see its
              attack path.
            </p>
            <ul className="answer-list" aria-label={`${mode} attackers of ${vm}`}>
              {answer.data.slice(0, 2000).map((id) => (
                <li key={id}>
                  <button
                    type="button"
                    className="link"
                    aria-pressed={id === from}
                    onClick={() => {
                      pick(id);
                    }}
                  >
                    {id}
                  </button>
                </li>
              ))}
            </ul>
            {answer.data.length > 2000 && (
              <p className="muted">
                The first 2,000 of {answer.data.length.toLocaleString()} are listed.
              </p>
            )}
          </>
        )}
      </div>
      {vm !== '' && (
        <div className="panel">
          <h2>Attack path</h2>
          <form className="row" onSubmit={onPath} aria-label="Attack path">
            <label>
              From VM id
              <input
                name="from"
                value={fromDraft}
                onChange={(event) => {
                  setFromDraft(event.target.value);
                }}
                required
              />
            </label>
            <span className="muted">to</span>
            <code>{vm}</code>
            <button type="submit">Show path</button>
          </form>
          {from === '' ? (
            <Empty>Pick an attacker in the list or the graph, or type a VM id.</Empty>
          ) : path.state === 'error' ? (
            <ErrorPanel
              title={`No attack path from ${from}`}
              error={path.error}
              onRetry={path.retry}
            />
          ) : path.state === 'loading' ? (
            <Loading what="the path" />
          ) : (
            <ol className="path" aria-label="Attack path steps" data-testid="path-steps">
              {path.data.map((step) => (
                <li key={step.vm_id}>
                  <code>{step.vm_id}</code>
                  {step.fw_id !== null && <span className="muted"> via rule {step.fw_id}</span>}
                </li>
              ))}
            </ol>
          )}
          <h3>Graph</h3>
          {graph === undefined ? (
            direct.state === 'error' || transitive.state === 'error' ? (
              <Empty>The graph needs the attackers above.</Empty>
            ) : (
              <Loading what="the graph" />
            )
          ) : (
            <>
              <p className="muted">
                Centre: {vm}; inner ring: direct attackers; outer ring: VMs that get there only
                through others.{' '}
                {graph.grouped > 0 && `${graph.grouped.toLocaleString()} attackers are grouped.`}{' '}
                Click a VM to show its path.
              </p>
              <AttackGraphView
                elements={graph.elements}
                onPick={pick}
                description={`Attack graph of ${vm}: ${direct.data?.length ?? 0} direct and ${transitive.data?.length ?? 0} transitive attackers${from === '' ? '' : `, path from ${from} highlighted`}.`}
              />
            </>
          )}
        </div>
      )}
    </section>
  );
}
