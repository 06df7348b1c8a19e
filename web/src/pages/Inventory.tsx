/**
 * Assets and services: the inventory with search (/inventory?view=services|assets&q=&kind=),
 * an asset page (/inventory/assets/ID: observations over time, certificates, open services)
 * and a service page (/inventory/services/ID: finding, TLS chain, HTTP facts, history).
 */
import { useState, type ReactNode } from 'react';
import { useApi } from '../api.ts';
import { Link, useLocation, useSearchParams } from '../router.tsx';
import type { Asset, Observation, Service, ServiceFinding, TlsCertificate } from '../types.ts';
import { Empty, ErrorPanel, Loading } from '../components/States.tsx';
import { usePagedList } from '../components/usePagedList.ts';
import { formatDate, label } from '../lib/format.ts';

const KINDS = ['ip', 'domain', 'certificate', 'service', 'vm'] as const;

function productOf(s: Service): string {
  return [s.product, s.version].filter((part) => part !== null && part !== '').join(' ') || '—';
}

function ServicesTable(props: { services: readonly Service[]; label: string }): ReactNode {
  return (
    <div className="scroll-x">
      <table aria-label={props.label}>
        <thead>
          <tr>
            <th scope="col">Service</th>
            <th scope="col">State</th>
            <th scope="col">Name</th>
            <th scope="col">Product</th>
            <th scope="col">Provider</th>
            <th scope="col">First seen</th>
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          {props.services.map((s) => (
            <tr key={s.id}>
              <th scope="row">
                <Link to={`/inventory/services/${encodeURIComponent(s.id)}`}>
                  {s.ip}:{s.port}/{s.protocol}
                </Link>
              </th>
              <td>{s.state}</td>
              <td>{s.service ?? '—'}</td>
              <td>{productOf(s)}</td>
              <td>{s.provider}</td>
              <td>{formatDate(s.firstSeen)}</td>
              <td>{formatDate(s.lastSeen)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Certificate(props: { cert: TlsCertificate; index: number }): ReactNode {
  const c = props.cert;
  return (
    <div className="panel cert">
      <h4>{props.index === 0 ? 'Leaf certificate' : `Chain certificate ${props.index}`}</h4>
      <dl className="facts">
        <dt>Subject</dt>
        <dd>{c.subject}</dd>
        {c.subjectOrg !== undefined && (
          <>
            <dt>Organization</dt>
            <dd>{c.subjectOrg}</dd>
          </>
        )}
        <dt>Issuer</dt>
        <dd>{c.issuer}</dd>
        <dt>Names</dt>
        <dd>{c.sans.length === 0 ? '—' : c.sans.join(', ')}</dd>
        <dt>Valid</dt>
        <dd>
          {formatDate(c.validFrom)} – {formatDate(c.validTo)}
        </dd>
        <dt>Self-signed</dt>
        <dd>{c.selfSigned ? 'yes' : 'no'}</dd>
        <dt>Key</dt>
        <dd>{[c.keyType, c.keyBits].filter((x) => x !== undefined).join(' ') || '—'}</dd>
        <dt>SHA-256</dt>
        <dd>
          <code className="wrap">{c.sha256}</code>
        </dd>
      </dl>
    </div>
  );
}

function Finding(props: { finding: ServiceFinding | null }): ReactNode {
  const f = props.finding;
  if (f === null) return <p className="muted">No finding recorded.</p>;
  return (
    <>
      {f.banner !== undefined && (
        <>
          <h3>Banner</h3>
          <pre className="banner">{f.banner}</pre>
        </>
      )}
      {f.http !== undefined && (
        <>
          <h3>HTTP</h3>
          <dl className="facts">
            <dt>Status</dt>
            <dd>{f.http.status}</dd>
            <dt>Title</dt>
            <dd>{f.http.title ?? '—'}</dd>
            <dt>Server</dt>
            <dd>{f.http.server ?? '—'}</dd>
          </dl>
        </>
      )}
      {f.tls !== undefined && (
        <>
          <h3>TLS {f.tls.protocol ?? ''}</h3>
          {f.tls.chain.map((cert, i) => (
            <Certificate key={cert.sha256} cert={cert} index={i} />
          ))}
        </>
      )}
    </>
  );
}

function Observations(props: { observations: readonly Observation[] }): ReactNode {
  if (props.observations.length === 0) return <Empty>Not observed yet.</Empty>;
  const sorted = [...props.observations].sort((a, b) => b.observedAt.localeCompare(a.observedAt));
  return (
    <ol className="timeline" aria-label="Observations over time">
      {sorted.map((o, i) => (
        <li key={i}>
          <strong>{formatDate(o.observedAt)}</strong> <span className="muted">({o.source})</span>
          <details>
            <summary>Data</summary>
            <pre>{JSON.stringify(o.data, null, 2)}</pre>
          </details>
        </li>
      ))}
    </ol>
  );
}

function AssetPage(props: { id: string }): ReactNode {
  const asset = useApi<Asset & { observations: Observation[]; services: Service[] }>(
    `/api/v1/assets/${encodeURIComponent(props.id)}`,
  );
  return (
    <section aria-labelledby="asset-title">
      <p>
        <Link to="/inventory?view=assets">← Assets</Link>
      </p>
      <h1 id="asset-title">
        {asset.data ? `${label(asset.data.kind)} ${asset.data.key}` : 'Asset'}
      </h1>
      {asset.state === 'error' ? (
        <ErrorPanel title="This asset failed to load" error={asset.error} onRetry={asset.retry} />
      ) : asset.data === undefined ? (
        <Loading what="the asset" />
      ) : (
        <>
          <div className="panel">
            <dl className="facts">
              <dt>Kind</dt>
              <dd>{asset.data.kind}</dd>
              <dt>Provider</dt>
              <dd>{asset.data.provider ?? '—'}</dd>
              <dt>Organization</dt>
              <dd>{asset.data.orgId ?? 'Not attributed'}</dd>
              <dt>First seen</dt>
              <dd>{formatDate(asset.data.firstSeen)}</dd>
              <dt>Last seen</dt>
              <dd>{formatDate(asset.data.lastSeen)}</dd>
            </dl>
          </div>
          <div className="panel">
            <h2>Open services</h2>
            {asset.data.services.length === 0 ? (
              <Empty>No service is known on this asset.</Empty>
            ) : (
              <ServicesTable services={asset.data.services} label="Services of this asset" />
            )}
            {asset.data.services
              .flatMap((s) => s.finding?.tls?.chain.slice(0, 1) ?? [])
              .map((cert, i) => (
                <Certificate key={`${cert.sha256}-${i}`} cert={cert} index={0} />
              ))}
          </div>
          <div className="panel">
            <h2>Observations</h2>
            <Observations observations={asset.data.observations} />
          </div>
        </>
      )}
    </section>
  );
}

function ServicePage(props: { id: string }): ReactNode {
  const service = useApi<Service & { observations: Observation[] }>(
    `/api/v1/services/${encodeURIComponent(props.id)}`,
  );
  const s = service.data;
  return (
    <section aria-labelledby="service-title">
      <p>
        <Link to="/inventory">← Services</Link>
      </p>
      <h1 id="service-title">{s ? `${s.ip}:${s.port}/${s.protocol}` : 'Service'}</h1>
      {service.state === 'error' ? (
        <ErrorPanel
          title="This service failed to load"
          error={service.error}
          onRetry={service.retry}
        />
      ) : s === undefined ? (
        <Loading what="the service" />
      ) : (
        <>
          <div className="panel">
            <dl className="facts">
              <dt>State</dt>
              <dd>{s.state}</dd>
              <dt>Service</dt>
              <dd>{s.service ?? '—'}</dd>
              <dt>Product</dt>
              <dd>{productOf(s)}</dd>
              <dt>Provider</dt>
              <dd>{s.provider}</dd>
              <dt>Source</dt>
              <dd>{s.source}</dd>
              <dt>First seen</dt>
              <dd>{formatDate(s.firstSeen)}</dd>
              <dt>Last seen</dt>
              <dd>{formatDate(s.lastSeen)}</dd>
            </dl>
            <Finding finding={s.finding} />
          </div>
          <div className="panel">
            <h2>Observations</h2>
            <Observations observations={s.observations} />
          </div>
        </>
      )}
    </section>
  );
}

function InventoryList(): ReactNode {
  const [search, setSearch] = useSearchParams();
  const view = search.get('view') === 'assets' ? 'assets' : 'services';
  const q = search.get('q') ?? '';
  const kind = search.get('kind') ?? '';
  const [text, setText] = useState(q);
  const params = new URLSearchParams({ limit: '100' });
  if (q !== '') params.set('q', q);
  if (view === 'assets' && kind !== '') params.set('kind', kind);
  const services = usePagedList<Service>(
    view === 'services' ? `/api/v1/services?${params.toString()}` : '/api/v1/services?limit=1',
  );
  const assets = usePagedList<Asset>(
    view === 'assets' ? `/api/v1/assets?${params.toString()}` : '/api/v1/assets?limit=1',
  );
  const list = view === 'services' ? services : assets;

  const set = (changes: Record<string, string>): void => {
    const next = new URLSearchParams(search);
    for (const [key, value] of Object.entries(changes)) {
      if (value === '') next.delete(key);
      else next.set(key, value);
    }
    setSearch(next);
  };

  return (
    <section aria-labelledby="inventory-title">
      <h1 id="inventory-title">Assets and services</h1>
      <form
        className="row panel"
        role="search"
        aria-label="Search the inventory"
        onSubmit={(event) => {
          event.preventDefault();
          set({ q: text.trim() });
        }}
      >
        <fieldset className="row mode">
          <legend className="sr-only">Show</legend>
          {(['services', 'assets'] as const).map((v) => (
            <label key={v} className="radio">
              <span>
                <input
                  type="radio"
                  name="view"
                  checked={view === v}
                  onChange={() => {
                    set({ view: v === 'services' ? '' : v });
                  }}
                />{' '}
                {label(v)}
              </span>
            </label>
          ))}
        </fieldset>
        <label>
          Search
          <input
            type="search"
            value={text}
            placeholder={view === 'services' ? 'IP, product, banner…' : 'Part of the key'}
            onChange={(event) => {
              setText(event.target.value);
            }}
          />
        </label>
        {view === 'assets' && (
          <label>
            Kind
            <select
              value={kind}
              onChange={(event) => {
                set({ kind: event.target.value });
              }}
            >
              <option value="">Any</option>
              {KINDS.map((k) => (
                <option key={k} value={k}>
                  {label(k)}
                </option>
              ))}
            </select>
          </label>
        )}
        <button type="submit">Search</button>
      </form>
      <p className="muted" role="status" data-testid="inventory-count">
        {list.total === undefined
          ? ''
          : `${list.total.toLocaleString()} ${view}${list.items.length < list.total ? ` (${list.items.length.toLocaleString()} shown)` : ''}`}
      </p>
      {list.state === 'error' && list.error && (
        <ErrorPanel title={`The ${view} failed to load`} error={list.error} onRetry={list.retry} />
      )}
      {list.items.length === 0 && list.state === 'loading' && <Loading what={view} />}
      {list.items.length === 0 && list.state === 'ok' && (
        <Empty>
          {q === '' && kind === ''
            ? `No ${view} yet: run a scan (surfacescan scan) or import results.`
            : `No ${view} match this search.`}
        </Empty>
      )}
      {list.items.length > 0 &&
        (view === 'services' ? (
          <div className="panel">
            <ServicesTable services={services.items} label="Services" />
          </div>
        ) : (
          <div className="panel scroll-x">
            <table aria-label="Assets">
              <thead>
                <tr>
                  <th scope="col">Asset</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Provider</th>
                  <th scope="col">First seen</th>
                  <th scope="col">Last seen</th>
                </tr>
              </thead>
              <tbody>
                {assets.items.map((a) => (
                  <tr key={a.id}>
                    <th scope="row">
                      <Link to={`/inventory/assets/${encodeURIComponent(a.id)}`}>{a.key}</Link>
                    </th>
                    <td>{a.kind}</td>
                    <td>{a.provider ?? '—'}</td>
                    <td>{formatDate(a.firstSeen)}</td>
                    <td>{formatDate(a.lastSeen)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      {list.nextCursor !== null && (
        <button type="button" onClick={list.loadMore} disabled={list.state === 'loading'}>
          Load more
        </button>
      )}
    </section>
  );
}

export default function Inventory(): ReactNode {
  const { path } = useLocation();
  const [, section, id] = /^\/inventory\/(assets|services)\/(.+)$/.exec(path) ?? [];
  if (section === 'assets' && id !== undefined) return <AssetPage id={decodeURIComponent(id)} />;
  if (section === 'services' && id !== undefined)
    return <ServicePage id={decodeURIComponent(id)} />;
  return <InventoryList />;
}
