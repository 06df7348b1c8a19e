/**
 * SQL for issues and their history. Every write takes a Kysely instance, which may be a
 * transaction, so the lifecycle can run inside an import's all-or-nothing transaction and the
 * API's bulk change inside its own. Writes go in chunks of rows per statement: a reconcile of
 * 10,000 findings is a few dozen statements, not 10,000 round trips.
 */
import {
  sql,
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type Selectable,
  type SqlBool,
} from 'kysely';
import { timeOrderedId } from '#src/assets/assets.repository.js';
import type { Database, IssueProgress, IssuesTable, IssueStatus } from '#src/storage/schema.js';
import { toJson } from '#src/storage/dialect.js';
import { priorityRank, type Priority } from '#src/issues/policy.model.js';

// Both engines cap bound parameters per statement (SQLite 32766, PostgreSQL 65535); an issue
// row has 18 columns.
const ROWS_PER_STATEMENT = 500;

/** An issue row as stored. */
export type IssueRow = Selectable<IssuesTable>;

/** A change to record in issue_history. */
export interface HistoryEntry {
  readonly issueId: string;
  readonly at: number;
  readonly actor: string;
  readonly field: 'status' | 'progress' | 'assignee';
  readonly from: string | null;
  readonly to: string | null;
}

/** Splits a list into statement-sized chunks. */
export function chunks<T>(items: readonly T[], size = ROWS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Issues of these services, every status. */
export async function issuesOfServices(
  db: Kysely<Database>,
  serviceIds: readonly string[],
): Promise<IssueRow[]> {
  const rows: IssueRow[] = [];
  for (const chunk of chunks([...new Set(serviceIds)])) {
    rows.push(
      ...(await db.selectFrom('issues').selectAll().where('service_id', 'in', chunk).execute()),
    );
  }
  return rows;
}

/** Active issues of an organisation (null: issues without one). */
export function activeIssuesOfOrg(
  db: Kysely<Database>,
  orgId: string | null,
): Promise<Pick<IssueRow, 'id' | 'service_id' | 'policy_id' | 'ip' | 'port' | 'last_observed'>[]> {
  return db
    .selectFrom('issues')
    .select(['id', 'service_id', 'policy_id', 'ip', 'port', 'last_observed'])
    .where((eb) => (orgId === null ? eb('org_id', 'is', null) : eb('org_id', '=', orgId)))
    .where('status', '=', 'active')
    .execute();
}

/**
 * Writes issues: new ones are inserted, existing ones (same id) take the new title, priority,
 * evidence, status and endpoint, while last_observed only moves forward and progress and
 * assignee (user-owned) are never touched here.
 */
export async function upsertIssues(db: Kysely<Database>, rows: readonly IssueRow[]): Promise<void> {
  for (const chunk of chunks(rows)) {
    await db
      .insertInto('issues')
      .values(chunk.map((r) => ({ ...r, evidence: toJson(r.evidence) })))
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => {
          const newer = eb('excluded.last_observed', '>=', eb.ref('issues.last_observed'));
          return {
            org_id: eb.ref('excluded.org_id'),
            title: eb.ref('excluded.title'),
            priority: eb.ref('excluded.priority'),
            priority_rank: eb.ref('excluded.priority_rank'),
            status: eb.ref('excluded.status'),
            ip: eb.ref('excluded.ip'),
            port: eb.ref('excluded.port'),
            provider: eb.ref('excluded.provider'),
            status_changed_at: eb.ref('excluded.status_changed_at'),
            updated_at: eb.ref('excluded.updated_at'),
            // Replayed older data does not make an issue look more recent or older than it is.
            evidence: eb
              .case()
              .when(newer)
              .then(eb.ref('excluded.evidence'))
              .else(eb.ref('issues.evidence'))
              .end(),
            last_observed: eb
              .case()
              .when(newer)
              .then(eb.ref('excluded.last_observed'))
              .else(eb.ref('issues.last_observed'))
              .end(),
          };
        }),
      )
      .execute();
  }
}

/** Sets the status of these issues. */
export async function setStatus(
  db: Kysely<Database>,
  ids: readonly string[],
  status: IssueStatus,
  at: number,
): Promise<void> {
  for (const chunk of chunks(ids)) {
    await db
      .updateTable('issues')
      .set({ status, status_changed_at: at, updated_at: at })
      .where('id', 'in', chunk)
      .execute();
  }
}

/** Sets user-owned fields of these issues. */
export async function setUserFields(
  db: Kysely<Database>,
  ids: readonly string[],
  changes: { progress?: IssueProgress; assignee?: string | null },
  at: number,
): Promise<void> {
  for (const chunk of chunks(ids)) {
    await db
      .updateTable('issues')
      .set({ ...changes, updated_at: at })
      .where('id', 'in', chunk)
      .execute();
  }
}

/** Appends history entries. */
export async function insertHistory(
  db: Kysely<Database>,
  entries: readonly HistoryEntry[],
): Promise<void> {
  for (const chunk of chunks(entries)) {
    await db
      .insertInto('issue_history')
      .values(
        chunk.map((e) => ({
          id: timeOrderedId(),
          issue_id: e.issueId,
          at: e.at,
          actor: e.actor,
          field: e.field,
          from_value: e.from,
          to_value: e.to,
        })),
      )
      .execute();
  }
}

/** Issues by id (any that exist). */
export async function issuesByIds(
  db: Kysely<Database>,
  ids: readonly string[],
): Promise<IssueRow[]> {
  const rows: IssueRow[] = [];
  for (const chunk of chunks([...new Set(ids)])) {
    rows.push(...(await db.selectFrom('issues').selectAll().where('id', 'in', chunk).execute()));
  }
  return rows;
}

/** History of one issue, oldest first. */
export function historyOf(
  db: Kysely<Database>,
  issueId: string,
): Promise<Database['issue_history'][]> {
  return db
    .selectFrom('issue_history')
    .selectAll()
    .where('issue_id', '=', issueId)
    .orderBy('at')
    .orderBy('id')
    .execute();
}

/** Escapes LIKE wildcards so user text matches literally (with ESCAPE '\'). */
export function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** A case-insensitive substring test on both engines. */
export function containsText(column: Expression<string>, text: string): Expression<SqlBool> {
  return sql<SqlBool>`lower(${column}) like ${likePattern(text)} escape '\\'`;
}

/** Sort keys of the issue list. */
export const ISSUE_SORTS = [
  'priority',
  'name',
  'status',
  'progress',
  'assignee',
  'first_added',
  'last_observed',
  'provider',
] as const;
/** One of ISSUE_SORTS. */
export type IssueSort = (typeof ISSUE_SORTS)[number];

/** Filters of the issue list, export and summary; every one given must hold. */
export interface IssueFilters {
  readonly status?: readonly IssueStatus[];
  readonly priority?: readonly string[];
  readonly progress?: readonly IssueProgress[];
  readonly provider?: readonly string[];
  readonly orgId?: string;
  /** Case-insensitive text in the title or ip, or a policy whose name contains it. */
  readonly q?: string;
  /** Ids of policies whose name contains q (resolved by the caller from the loaded policies). */
  readonly qPolicyIds?: readonly string[];
}

/** A position in a sorted list: the sort value and id of the last row of the previous page. */
export interface Keyset {
  readonly value: string | number;
  readonly id: string;
}

type IssueEb = ExpressionBuilder<Database, 'issues'>;

/** The expression a sort key orders by; priority by severity, assignee with none as ''. */
function sortExpression(eb: IssueEb, sort: IssueSort): Expression<string | number> {
  switch (sort) {
    case 'priority':
      return eb.ref('priority_rank');
    case 'name':
      return eb.ref('title');
    case 'assignee':
      return eb.fn.coalesce('assignee', sql.lit(''));
    case 'status':
    case 'progress':
    case 'first_added':
    case 'last_observed':
    case 'provider':
      return eb.ref(sort);
  }
}

/** The sort value of a row, as a cursor stores it. */
export function sortValue(row: IssueRow, sort: IssueSort): string | number {
  switch (sort) {
    case 'priority':
      return row.priority_rank;
    case 'name':
      return row.title;
    case 'assignee':
      return row.assignee ?? '';
    case 'status':
    case 'progress':
    case 'first_added':
    case 'last_observed':
    case 'provider':
      return row[sort];
  }
}

function filterExpression(eb: IssueEb, f: IssueFilters): Expression<SqlBool> {
  const all: Expression<SqlBool>[] = [];
  if (f.status !== undefined) all.push(eb('status', 'in', f.status));
  // By rank, not by name: (status, priority_rank, id) then answers counts from the index alone.
  if (f.priority !== undefined) {
    all.push(
      eb(
        'priority_rank',
        'in',
        f.priority.map((p) => priorityRank(p as Priority)),
      ),
    );
  }
  if (f.progress !== undefined) all.push(eb('progress', 'in', f.progress));
  if (f.provider !== undefined) all.push(eb('provider', 'in', f.provider));
  if (f.orgId !== undefined) all.push(eb('org_id', '=', f.orgId));
  if (f.q !== undefined && f.q !== '') {
    const any = [containsText(eb.ref('title'), f.q), containsText(eb.ref('ip'), f.q)];
    if (f.qPolicyIds !== undefined && f.qPolicyIds.length > 0) {
      any.push(eb('policy_id', 'in', f.qPolicyIds));
    }
    all.push(eb.or(any));
  }
  return eb.and(all);
}

/** One page of issues in (sort, id) order after `after`. */
export function listIssues(
  db: Kysely<Database>,
  options: {
    readonly filters: IssueFilters;
    readonly sort: IssueSort;
    readonly order: 'asc' | 'desc';
    readonly limit: number;
    readonly after?: Keyset | undefined;
  },
): Promise<IssueRow[]> {
  const { sort, order, after } = options;
  const op = order === 'asc' ? '>' : '<';
  return db
    .selectFrom('issues')
    .selectAll()
    .where((eb) => filterExpression(eb, options.filters))
    .$if(after !== undefined, (q) =>
      // A row-value comparison, (sort, id) > (value, id), which both engines answer with one
      // range scan of the (sort, id) index; the equivalent OR form rescans every tie.
      q.where(
        (eb) =>
          sql<SqlBool>`(${sortExpression(eb, sort)}, ${eb.ref('id')}) ${sql.raw(op)} (${after!.value}, ${after!.id})`,
      ),
    )
    .orderBy((eb) => sortExpression(eb, sort), order)
    .orderBy('id', order)
    .limit(options.limit)
    .execute();
}

/** Number of issues matching the filters. */
export async function countIssues(db: Kysely<Database>, filters: IssueFilters): Promise<number> {
  const row = await db
    .selectFrom('issues')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where((eb) => filterExpression(eb, filters))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Counts of matching issues grouped by one column. */
export async function countBy(
  db: Kysely<Database>,
  filters: IssueFilters,
  column: 'priority' | 'status' | 'progress' | 'provider',
): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('issues')
    .select((eb) => [eb.ref(column).as('k'), eb.fn.countAll<number | string>().as('n')])
    .where((eb) => filterExpression(eb, filters))
    .groupBy(column)
    .execute();
  return Object.fromEntries(rows.map((r) => [r.k, Number(r.n)]));
}

const DAY_MS = 86_400_000;

/** Matching issues first added per UTC day since `fromDay` (a day number: epoch ms / 1 day). */
export async function openedByDay(
  db: Kysely<Database>,
  filters: IssueFilters,
  fromDay: number,
): Promise<Map<number, number>> {
  // Integer division on both engines (bigint / integer), so no date functions are needed.
  const day = sql<number | string>`first_added / ${sql.lit(DAY_MS)}`;
  const rows = await db
    .selectFrom('issues')
    .select([day.as('day'), (eb) => eb.fn.countAll<number | string>().as('n')])
    .where((eb) => filterExpression(eb, filters))
    .where('first_added', '>=', fromDay * DAY_MS)
    .groupBy(day)
    .execute();
  return new Map(rows.map((r) => [Number(r.day), Number(r.n)]));
}
