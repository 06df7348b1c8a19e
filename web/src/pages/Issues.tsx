/**
 * Issues: the analyst's table. Server-side sort, filters and search (all in the URL), virtual
 * scrolling over cursor-paged rows, multi-select bulk update of progress and assignee, CSV
 * export, and a detail drawer (?issue=ID) with evidence, remediation and history.
 */
import { useEffect, useMemo, useRef, useState, type ReactNode, type SyntheticEvent } from 'react';
import { flexRender, getCoreRowModel, useReactTable, type ColumnDef } from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { api } from '../api.ts';
import { useSearchParams } from '../router.tsx';
import type { Issue, Progress } from '../types.ts';
import { Empty, ErrorPanel, Loading } from '../components/States.tsx';
import { useIssueList } from '../components/useIssueList.ts';
import { IssueDrawer } from '../components/IssueDrawer.tsx';
import { formatDate, label } from '../lib/format.ts';
import {
  FILTER_VALUES,
  exportPath,
  nextSort,
  parseIssueQuery,
  toPageParams,
  toggleValue,
  type EnumFilter,
  type IssueQuery,
  type SortKey,
} from '../lib/issue-query.ts';

/** Height of one table row in px (fixed, so the virtualizer needs no measuring). */
const ROW_HEIGHT = 36;

/** A column: its header, the API sort key, and how a cell shows. */
const COLUMNS: ColumnDef<Issue>[] = [
  { id: 'name', header: 'Name', size: 320, cell: (c) => c.row.original.title },
  { id: 'status', header: 'Status', size: 90, cell: (c) => label(c.row.original.status) },
  {
    id: 'priority',
    header: 'Priority',
    size: 100,
    cell: (c) => (
      <span className={`badge p-${c.row.original.priority}`}>{label(c.row.original.priority)}</span>
    ),
  },
  { id: 'progress', header: 'Progress', size: 130, cell: (c) => label(c.row.original.progress) },
  {
    id: 'assignee',
    header: 'Assigned To',
    size: 130,
    cell: (c) => c.row.original.assignee ?? <span className="muted">Unassigned</span>,
  },
  {
    id: 'first_added',
    header: 'First Added',
    size: 145,
    cell: (c) => formatDate(c.row.original.firstAdded),
  },
  {
    id: 'last_observed',
    header: 'Last Observed',
    size: 145,
    cell: (c) => formatDate(c.row.original.lastObserved),
  },
  { id: 'provider', header: 'Provider', size: 100, cell: (c) => c.row.original.provider },
];

function FilterMenu(props: {
  name: EnumFilter;
  title: string;
  selected: readonly string[];
  onChange: (values: string[]) => void;
}): ReactNode {
  return (
    <details className="filter">
      <summary>
        {props.title}
        {props.selected.length > 0 && ` (${props.selected.length})`}
      </summary>
      <fieldset>
        <legend className="sr-only">{props.title}</legend>
        {FILTER_VALUES[props.name].map((value) => (
          <label key={value} className="check">
            <span>
              <input
                type="checkbox"
                checked={props.selected.includes(value)}
                onChange={() => {
                  props.onChange(toggleValue(props.selected, value));
                }}
              />{' '}
              {label(value)}
            </span>
          </label>
        ))}
      </fieldset>
    </details>
  );
}

function BulkBar(props: {
  ids: readonly string[];
  onDone: (updated: number) => void;
  onClear: () => void;
}): ReactNode {
  const [progress, setProgress] = useState<Progress | ''>('');
  const [assignee, setAssignee] = useState('');
  const [state, setState] = useState<{ busy: boolean; error?: Error }>({ busy: false });
  const apply = async (event: SyntheticEvent): Promise<void> => {
    event.preventDefault();
    setState({ busy: true });
    try {
      const body: { ids: readonly string[]; progress?: Progress; assignee?: string | null } = {
        ids: props.ids,
      };
      if (progress !== '') body.progress = progress;
      if (assignee.trim() !== '') body.assignee = assignee.trim() === '-' ? null : assignee.trim();
      const result = await api<{ updated: number }>('/api/v1/issues/bulk', {
        method: 'POST',
        body,
      });
      setState({ busy: false });
      setProgress('');
      setAssignee('');
      props.onDone(result.updated);
    } catch (error) {
      setState({ busy: false, error: error instanceof Error ? error : new Error(String(error)) });
    }
  };
  return (
    <form
      className="bulk row panel"
      aria-label="Bulk update"
      onSubmit={(event) => void apply(event)}
    >
      <strong>{props.ids.length.toLocaleString()} selected</strong>
      <label>
        Set progress
        <select
          value={progress}
          onChange={(event) => {
            setProgress(event.target.value as Progress | '');
          }}
        >
          <option value="">(unchanged)</option>
          {FILTER_VALUES.progress.map((p) => (
            <option key={p} value={p}>
              {label(p)}
            </option>
          ))}
        </select>
      </label>
      <label>
        Assign to
        <input
          value={assignee}
          placeholder="(unchanged; - to unassign)"
          onChange={(event) => {
            setAssignee(event.target.value);
          }}
        />
      </label>
      <button type="submit" disabled={state.busy || (progress === '' && assignee.trim() === '')}>
        Apply to selected
      </button>
      <button type="button" className="secondary" onClick={props.onClear}>
        Clear selection
      </button>
      {state.error && <ErrorPanel title="The bulk update failed" error={state.error} />}
    </form>
  );
}

export default function Issues(): ReactNode {
  const [search, setSearch] = useSearchParams();
  const query = useMemo(() => parseIssueQuery(search), [search]);
  const openId = search.get('issue');
  const list = useIssueList(query);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [notice, setNotice] = useState('');
  const scroller = useRef<HTMLDivElement>(null);
  const marked = useRef(false);

  const setQuery = (changes: Partial<IssueQuery>): void => {
    setSearch(toPageParams({ ...query, ...changes }, search));
    setSelected(new Set());
  };
  const setParam = (name: string, value: string | null): void => {
    const next = new URLSearchParams(search);
    if (value === null) next.delete(name);
    else next.set(name, value);
    setSearch(next);
  };

  // TanStack Table is used without the React Compiler, so its unmemoizable API is fine here.
  // eslint-disable-next-line react-hooks/incompatible-library
  const table = useReactTable({
    data: list.items as Issue[],
    columns: COLUMNS,
    getCoreRowModel: getCoreRowModel(),
    manualSorting: true,
    getRowId: (row) => row.id,
  });
  const rows = table.getRowModel().rows;
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const virtualRows = virtualizer.getVirtualItems();
  const lastVisible = virtualRows.at(-1)?.index ?? 0;

  // Near the end of the loaded rows, fetch the next page.
  useEffect(() => {
    if (list.hasMore && lastVisible >= rows.length - 40) list.loadMore();
  }, [lastVisible, rows.length, list]);

  // The first rows on screen: a mark the e2e run reads to time the first load.
  useEffect(() => {
    if (!marked.current && rows.length > 0) {
      marked.current = true;
      performance.mark('issues-rendered');
    }
  }, [rows.length]);

  const allLoadedSelected = rows.length > 0 && rows.every((row) => selected.has(row.id));
  const toggle = (id: string): void => {
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  };

  const paddingTop = virtualRows[0]?.start ?? 0;
  const paddingBottom = virtualizer.getTotalSize() - (virtualRows.at(-1)?.end ?? 0);

  return (
    <section aria-labelledby="issues-title" className="issues">
      <h1 id="issues-title">Issues</h1>
      <form
        className="row panel filters"
        role="search"
        aria-label="Filter issues"
        onSubmit={(event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget);
          const text = (name: string): string => {
            const value = form.get(name);
            return typeof value === 'string' ? value : '';
          };
          const provider = text('provider')
            .split(',')
            .map((p) => p.trim())
            .filter((p) => p !== '');
          setQuery({ q: text('q').trim(), provider });
        }}
      >
        <label>
          Search
          <input
            type="search"
            name="q"
            key={query.q}
            defaultValue={query.q}
            placeholder="Name, IP, port…"
          />
        </label>
        <button type="submit">Search</button>
        <FilterMenu
          name="status"
          title="Status"
          selected={query.status}
          onChange={(status) => {
            setQuery({ status });
          }}
        />
        <FilterMenu
          name="priority"
          title="Priority"
          selected={query.priority}
          onChange={(priority) => {
            setQuery({ priority });
          }}
        />
        <FilterMenu
          name="progress"
          title="Progress"
          selected={query.progress}
          onChange={(progress) => {
            setQuery({ progress });
          }}
        />
        <label>
          Provider
          <input
            name="provider"
            defaultValue={query.provider.join(',')}
            key={query.provider.join(',')}
            placeholder="AWS, GCP…"
            onBlur={(event) => {
              const provider = event.target.value
                .split(',')
                .map((p) => p.trim())
                .filter((p) => p !== '');
              if (provider.join(',') !== query.provider.join(',')) setQuery({ provider });
            }}
          />
        </label>
        <a className="button secondary" href={exportPath(query, 'csv')} download>
          Export CSV
        </a>
      </form>
      {selected.size > 0 && (
        <BulkBar
          ids={[...selected]}
          onClear={() => {
            setSelected(new Set());
          }}
          onDone={(updated) => {
            setNotice(`Updated ${updated.toLocaleString()} issue${updated === 1 ? '' : 's'}.`);
            setSelected(new Set());
            list.reload();
          }}
        />
      )}
      <p className="muted" role="status" aria-live="polite" data-testid="issue-count">
        {list.total === undefined
          ? ''
          : `${list.total.toLocaleString()} issue${list.total === 1 ? '' : 's'}${
              list.items.length < list.total
                ? ` (${list.items.length.toLocaleString()} loaded)`
                : ''
            }. `}
        {notice}
      </p>
      {list.state === 'error' && list.error && (
        <ErrorPanel title="Issues failed to load" error={list.error} onRetry={list.reload} />
      )}
      {list.items.length === 0 && list.state === 'loading' && <Loading what="issues" />}
      {list.items.length === 0 && list.state === 'ok' && (
        <Empty>No issue matches these filters.</Empty>
      )}
      {list.items.length > 0 && (
        <div
          ref={scroller}
          className="table-scroll"
          tabIndex={0}
          aria-label="Issues table, scrollable"
        >
          <table
            aria-label="Issues"
            aria-rowcount={list.total ?? rows.length}
            className="issues-table"
          >
            <colgroup>
              <col style={{ width: 40 }} />
              {table.getAllLeafColumns().map((column) => (
                <col key={column.id} style={{ width: column.getSize() }} />
              ))}
            </colgroup>
            <thead>
              <tr>
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label="Select all loaded issues"
                    checked={allLoadedSelected}
                    onChange={() => {
                      setSelected(allLoadedSelected ? new Set() : new Set(rows.map((r) => r.id)));
                    }}
                  />
                </th>
                {table.getFlatHeaders().map((header) => {
                  const key = header.column.id as SortKey;
                  const active = query.sort === key;
                  return (
                    <th
                      key={header.id}
                      scope="col"
                      aria-sort={
                        active ? (query.order === 'asc' ? 'ascending' : 'descending') : 'none'
                      }
                    >
                      <button
                        type="button"
                        className="sort"
                        onClick={() => {
                          setQuery(nextSort(query, key));
                        }}
                      >
                        {flexRender(header.column.columnDef.header, header.getContext())}
                        <span aria-hidden="true">
                          {active ? (query.order === 'asc' ? ' ▲' : ' ▼') : ''}
                        </span>
                      </button>
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {paddingTop > 0 && (
                <tr aria-hidden="true">
                  <td colSpan={COLUMNS.length + 1} style={{ height: paddingTop, padding: 0 }} />
                </tr>
              )}
              {virtualRows.map((item) => {
                const row = rows[item.index]!;
                const issue = row.original;
                return (
                  <tr
                    key={row.id}
                    aria-rowindex={item.index + 2}
                    aria-selected={selected.has(row.id)}
                    className={openId === row.id ? 'open' : undefined}
                    style={{ height: ROW_HEIGHT }}
                    data-issue-id={row.id}
                  >
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Select ${issue.title}`}
                        checked={selected.has(row.id)}
                        onChange={() => {
                          toggle(row.id);
                        }}
                      />
                    </td>
                    {row.getVisibleCells().map((cell) =>
                      cell.column.id === 'name' ? (
                        <td key={cell.id} title={issue.title}>
                          <button
                            type="button"
                            className="link name"
                            onClick={() => {
                              setParam('issue', row.id);
                            }}
                          >
                            {issue.title}
                          </button>
                        </td>
                      ) : (
                        <td key={cell.id}>
                          {flexRender(cell.column.columnDef.cell, cell.getContext())}
                        </td>
                      ),
                    )}
                  </tr>
                );
              })}
              {paddingBottom > 0 && (
                <tr aria-hidden="true">
                  <td colSpan={COLUMNS.length + 1} style={{ height: paddingBottom, padding: 0 }} />
                </tr>
              )}
            </tbody>
          </table>
          {list.state === 'loading' && <Loading what="more issues" />}
        </div>
      )}
      {openId !== null && (
        <IssueDrawer
          id={openId}
          onClose={() => {
            setParam('issue', null);
            // Focus returns to the row the drawer was opened from (when it is still rendered).
            requestAnimationFrame(() => {
              document
                .querySelector<HTMLButtonElement>(
                  `tr[data-issue-id="${CSS.escape(openId)}"] button.name`,
                )
                ?.focus();
            });
          }}
          onChanged={list.reload}
        />
      )}
    </section>
  );
}
