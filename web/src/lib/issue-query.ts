/**
 * The Issues page's state in the URL and its translation to the API query (pure; tested under
 * node:test). The URL uses the API's own names, so a shared link and an API call read alike:
 * /issues?priority=critical,high&status=active&q=telnet&sort=last_observed&order=desc
 */

/** Values of each multi-valued filter, as the API spells them. */
export const FILTER_VALUES = {
  status: ['active', 'inactive'],
  priority: ['critical', 'high', 'medium', 'low'],
  progress: ['new', 'investigating', 'in_progress', 'acceptable_risk', 'resolved'],
} as const;

/** A multi-valued enum filter. */
export type EnumFilter = keyof typeof FILTER_VALUES;

/** Columns the API sorts by. */
export const SORT_KEYS = [
  'priority',
  'name',
  'status',
  'progress',
  'assignee',
  'first_added',
  'last_observed',
  'provider',
] as const;

/** A column the API sorts by. */
export type SortKey = (typeof SORT_KEYS)[number];

/** Everything that selects and orders the listed issues. */
export interface IssueQuery {
  status: string[];
  priority: string[];
  progress: string[];
  /** Providers, free text (AWS, GCP, …). */
  provider: string[];
  org: string;
  q: string;
  sort: SortKey;
  order: 'asc' | 'desc';
}

/** The order the page starts with: most urgent first. */
export const DEFAULT_QUERY: IssueQuery = {
  status: [],
  priority: [],
  progress: [],
  provider: [],
  org: '',
  q: '',
  sort: 'priority',
  order: 'desc',
};

function list(params: URLSearchParams, name: string, allowed?: readonly string[]): string[] {
  const values = params
    .getAll(name)
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
  const kept = allowed === undefined ? values : values.filter((value) => allowed.includes(value));
  return [...new Set(kept)];
}

/** Reads the query from the page URL; unknown values are dropped rather than sent. */
export function parseIssueQuery(params: URLSearchParams): IssueQuery {
  const sort = params.get('sort') ?? '';
  const order = params.get('order');
  return {
    status: list(params, 'status', FILTER_VALUES.status),
    priority: list(params, 'priority', FILTER_VALUES.priority),
    progress: list(params, 'progress', FILTER_VALUES.progress),
    provider: list(params, 'provider'),
    org: params.get('org')?.trim() ?? '',
    q: params.get('q')?.trim() ?? '',
    sort: (SORT_KEYS as readonly string[]).includes(sort) ? (sort as SortKey) : DEFAULT_QUERY.sort,
    order: order === 'asc' || order === 'desc' ? order : DEFAULT_QUERY.order,
  };
}

/** The query's filter parameters (no paging), defaults left out, in a stable order. */
export function filterParams(query: IssueQuery): URLSearchParams {
  const params = new URLSearchParams();
  for (const name of ['status', 'priority', 'progress', 'provider'] as const) {
    if (query[name].length > 0) params.set(name, query[name].join(','));
  }
  if (query.org !== '') params.set('org', query.org);
  if (query.q !== '') params.set('q', query.q);
  if (query.sort !== DEFAULT_QUERY.sort || query.order !== DEFAULT_QUERY.order) {
    params.set('sort', query.sort);
    params.set('order', query.order);
  }
  return params;
}

/** The page URL's query string for `query`, keeping unrelated parameters (e.g. the drawer's). */
export function toPageParams(query: IssueQuery, current: URLSearchParams): URLSearchParams {
  const next = filterParams(query);
  for (const [name, value] of current) {
    if (!['status', 'priority', 'progress', 'provider', 'org', 'q', 'sort', 'order'].includes(name))
      next.append(name, value);
  }
  return next;
}

/** The API path of one page of issues. */
export function listPath(query: IssueQuery, limit: number, cursor?: string | null): string {
  const params = filterParams(query);
  params.set('sort', query.sort);
  params.set('order', query.order);
  params.set('limit', String(limit));
  if (cursor !== undefined && cursor !== null) params.set('cursor', cursor);
  return `/api/v1/issues?${params.toString()}`;
}

/** The API path of the export of every issue the query selects. */
export function exportPath(query: IssueQuery, format: 'csv' | 'json'): string {
  const params = filterParams(query);
  params.set('format', format);
  return `/api/v1/issues/export?${params.toString()}`;
}

/** Clicking a column header: a new column starts descending, the same column flips. */
export function nextSort(query: IssueQuery, column: SortKey): Pick<IssueQuery, 'sort' | 'order'> {
  if (query.sort !== column) return { sort: column, order: column === 'name' ? 'asc' : 'desc' };
  return { sort: column, order: query.order === 'asc' ? 'desc' : 'asc' };
}

/** Adds or removes one value of a multi-valued filter. */
export function toggleValue(values: readonly string[], value: string): string[] {
  return values.includes(value) ? values.filter((v) => v !== value) : [...values, value];
}
