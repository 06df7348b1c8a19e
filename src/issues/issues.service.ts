/**
 * The issue lifecycle. Findings come in from scans and imports; each policy that fires on a
 * finding is an issue of that service. Status is system-owned: active while observed, inactive
 * once a complete scan covering the endpoint no longer sees it (and active again, "reopened",
 * when it comes back). Progress and assignee belong to users and are never touched here, with
 * one exception: an issue a user marked resolved that reappears after going inactive goes back
 * to "new", since the fix did not hold.
 */
import type { Kysely } from 'kysely';
import type { ServiceFinding } from '#src/discovery/discovery.model.js';
import { timeOrderedId } from '#src/assets/assets.repository.js';
import type { Database, IssueProgress, IssueStatus } from '#src/storage/schema.js';
import { fromJson } from '#src/storage/dialect.js';
import { AppError, validationError } from '#src/http/errors.js';
import {
  evaluatePolicies,
  priorityRank,
  type Policy,
  type Priority,
} from '#src/issues/policy.model.js';
import {
  activeIssuesOfOrg,
  countBy,
  countIssues,
  historyOf,
  insertHistory,
  issuesByIds,
  issuesOfServices,
  listIssues,
  openedByDay,
  setStatus,
  setUserFields,
  sortValue,
  upsertIssues,
  type HistoryEntry,
  type IssueFilters,
  type IssueRow,
  type IssueSort,
  type Keyset,
} from '#src/issues/issues.repository.js';

/** The endpoints a complete scan or import looked at. */
export interface Coverage {
  /** True when the scan probed ip:port (so not finding it there means it is gone). */
  covers(ip: string, port: number): boolean;
}

/** What reconcileIssues is given. */
export interface ReconcileInput {
  /** The organisation the findings belong to (null: unattributed). */
  readonly orgId: string | null;
  /** When the findings were observed, epoch milliseconds. */
  readonly observedAt: number;
  /** The findings, each with its service asset id and provider. */
  readonly findings: readonly {
    readonly serviceId: string;
    readonly finding: ServiceFinding;
    readonly provider: string;
  }[];
  /**
   * Given only for a COMPLETE scan or import: active issues of the organisation on covered
   * endpoints that were not matched again go inactive. Without it nothing goes inactive.
   */
  readonly coverage?: Coverage;
  /** Who the history names (default "system"). */
  readonly actor?: string;
  readonly policies: readonly Policy[];
}

/** What reconcileIssues did. */
export interface ReconcileResult {
  /** New issues. */
  readonly opened: number;
  /** Inactive issues seen again. */
  readonly reopened: number;
  /** Active issues seen again (last_observed and evidence refreshed). */
  readonly updated: number;
  /** Active issues no longer seen by a complete scan. */
  readonly inactivated: number;
}

/**
 * Brings the issues of the findings' services up to date, in a handful of batched statements.
 * Pass a transaction as `db` to make it part of a larger all-or-nothing change.
 */
export async function reconcileIssues(
  db: Kysely<Database>,
  input: ReconcileInput,
): Promise<ReconcileResult> {
  const at = input.observedAt;
  const actor = input.actor ?? 'system';
  const serviceIds = input.findings.map((f) => f.serviceId);
  const existing = new Map<string, IssueRow>();
  for (const row of await issuesOfServices(db, serviceIds)) {
    existing.set(`${row.service_id}\u0000${row.policy_id}`, row);
  }

  const writes = new Map<string, IssueRow>();
  const history: HistoryEntry[] = [];
  const backToNew: string[] = [];
  const matched = new Set<string>();
  let opened = 0;
  let reopened = 0;
  let updated = 0;
  for (const { serviceId, finding, provider } of input.findings) {
    for (const match of evaluatePolicies(input.policies, finding, at)) {
      const key = `${serviceId}\u0000${match.policyId}`;
      const seen = writes.get(key) ?? existing.get(key);
      const fields = {
        org_id: input.orgId,
        title: match.title,
        priority: match.priority,
        priority_rank: priorityRank(match.priority),
        ip: finding.ip,
        port: finding.port,
        provider,
        evidence: match.evidence,
        last_observed: at,
        updated_at: at,
      };
      if (seen === undefined) {
        const id = timeOrderedId();
        writes.set(key, {
          id,
          service_id: serviceId,
          policy_id: match.policyId,
          status: 'active',
          progress: 'new',
          assignee: null,
          first_added: at,
          status_changed_at: at,
          ...fields,
        });
        matched.add(id);
        history.push({ issueId: id, at, actor, field: 'status', from: null, to: 'active' });
        opened++;
        continue;
      }
      matched.add(seen.id);
      if (writes.has(key)) {
        // The same service twice in one batch: the later finding's evidence wins.
        writes.set(key, { ...seen, ...fields, last_observed: Math.max(at, seen.last_observed) });
        continue;
      }
      // An observation older than the issue's last status change (replayed data) refreshes
      // nothing that would move the issue backwards, and does not reopen it.
      const reopen = seen.status === 'inactive' && at >= seen.status_changed_at;
      // Nor does it overwrite what a newer observation said (evidence, title, provider); the
      // stored evidence is JSON text, decoded so that it is written back as it was.
      const current = at >= seen.last_observed;
      writes.set(key, {
        ...seen,
        ...(current ? fields : { evidence: fromJson(seen.evidence) }),
        last_observed: Math.max(at, seen.last_observed),
        updated_at: Math.max(at, seen.updated_at),
        status: reopen ? 'active' : seen.status,
        status_changed_at: reopen ? at : seen.status_changed_at,
      });
      if (reopen) {
        reopened++;
        history.push({
          issueId: seen.id,
          at,
          actor,
          field: 'status',
          from: 'inactive',
          to: 'active',
        });
        if (seen.progress === 'resolved') {
          backToNew.push(seen.id);
          history.push({
            issueId: seen.id,
            at,
            actor,
            field: 'progress',
            from: 'resolved',
            to: 'new',
          });
        }
      } else if (seen.status === 'active') {
        updated++;
      }
    }
  }

  const inactive: string[] = [];
  if (input.coverage !== undefined) {
    for (const issue of await activeIssuesOfOrg(db, input.orgId)) {
      if (matched.has(issue.id)) continue;
      if (!input.coverage.covers(issue.ip, issue.port)) continue;
      // A scan that finished before the issue was last seen cannot say it is gone.
      if (issue.last_observed > at) continue;
      inactive.push(issue.id);
      history.push({
        issueId: issue.id,
        at,
        actor,
        field: 'status',
        from: 'active',
        to: 'inactive',
      });
    }
  }

  await upsertIssues(db, [...writes.values()]);
  await setUserFields(db, backToNew, { progress: 'new' }, at);
  await setStatus(db, inactive, 'inactive', at);
  await insertHistory(db, history);
  return { opened, reopened, updated, inactivated: inactive.length };
}

/** An issue as the API shows it. */
export interface IssueView {
  readonly id: string;
  readonly title: string;
  readonly policyId: string;
  readonly priority: Priority;
  readonly status: IssueStatus;
  readonly progress: IssueProgress;
  readonly assignee: string | null;
  readonly ip: string;
  readonly port: number;
  readonly serviceId: string;
  readonly orgId: string | null;
  readonly provider: string;
  readonly firstAdded: string;
  readonly lastObserved: string;
}

/** An issue with its evidence, remediation and history. */
export interface IssueDetailView extends IssueView {
  readonly evidence: Record<string, unknown>;
  readonly remediation: string;
  readonly policyName: string;
  readonly history: {
    at: string;
    actor: string;
    field: string;
    from: string | null;
    to: string | null;
  }[];
}

/** User-owned fields a request may change. */
export interface UserChanges {
  readonly progress?: IssueProgress | undefined;
  readonly assignee?: string | null | undefined;
}

/** List parameters, as parsed from a request. */
export interface ListRequest {
  readonly filters: IssueFilters;
  readonly sort: IssueSort;
  readonly order: 'asc' | 'desc';
  readonly limit: number;
  readonly cursor?: string | undefined;
}

/** The API row shape. */
export function toView(row: IssueRow): IssueView {
  return {
    id: row.id,
    title: row.title,
    policyId: row.policy_id,
    priority: row.priority as Priority,
    status: row.status,
    progress: row.progress,
    assignee: row.assignee,
    ip: row.ip,
    port: row.port,
    serviceId: row.service_id,
    orgId: row.org_id,
    provider: row.provider,
    firstAdded: new Date(row.first_added).toISOString(),
    lastObserved: new Date(row.last_observed).toISOString(),
  };
}

function encodeCursor(sort: IssueSort, order: string, key: Keyset): string {
  return Buffer.from(JSON.stringify([sort, order, key.value, key.id])).toString('base64url');
}

function decodeCursor(cursor: string, sort: IssueSort, order: string): Keyset {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw validationError('cursor is not one this API handed out');
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 4 ||
    (typeof parsed[2] !== 'string' && typeof parsed[2] !== 'number') ||
    typeof parsed[3] !== 'string'
  ) {
    throw validationError('cursor is not one this API handed out');
  }
  if (parsed[0] !== sort || parsed[1] !== order) {
    throw validationError('cursor belongs to a different sort or order; start again without it');
  }
  return { value: parsed[2], id: parsed[3] };
}

/** Issues as the API sees them: list, detail, user changes, export and summary. */
export class IssueService {
  private readonly byId: Map<string, Policy>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly policies: readonly Policy[],
    private readonly clock: () => number,
  ) {
    this.byId = new Map(policies.map((p) => [p.id, p]));
  }

  /** Adds the ids of policies whose name contains q, so q finds issues by policy name. */
  withPolicyNames(filters: IssueFilters): IssueFilters {
    if (filters.q === undefined || filters.q === '') return filters;
    const q = filters.q.toLowerCase();
    const ids = this.policies.filter((p) => p.name.toLowerCase().includes(q)).map((p) => p.id);
    return { ...filters, qPolicyIds: ids };
  }

  /** One page, its cursor and the total. */
  async list(
    request: ListRequest,
  ): Promise<{ items: IssueView[]; nextCursor: string | null; total: number }> {
    const filters = this.withPolicyNames(request.filters);
    const after =
      request.cursor === undefined
        ? undefined
        : decodeCursor(request.cursor, request.sort, request.order);
    // One row more than asked tells whether another page exists without a second query.
    const rows = await listIssues(this.db, {
      filters,
      sort: request.sort,
      order: request.order,
      limit: request.limit + 1,
      after,
    });
    const page = rows.slice(0, request.limit);
    const last = page.at(-1);
    const nextCursor =
      rows.length > request.limit && last !== undefined
        ? encodeCursor(request.sort, request.order, {
            value: sortValue(last, request.sort),
            id: last.id,
          })
        : null;
    const total = await countIssues(this.db, filters);
    return { items: page.map(toView), nextCursor, total };
  }

  /** Every matching issue, in pages of `pageSize`, in list order. */
  async *all(
    filters: IssueFilters,
    sort: IssueSort,
    order: 'asc' | 'desc',
    pageSize = 1000,
  ): AsyncGenerator<IssueView> {
    const withNames = this.withPolicyNames(filters);
    let after: Keyset | undefined;
    for (;;) {
      const rows = await listIssues(this.db, {
        filters: withNames,
        sort,
        order,
        limit: pageSize,
        after,
      });
      for (const row of rows) yield toView(row);
      const last = rows.at(-1);
      if (rows.length < pageSize || last === undefined) return;
      after = { value: sortValue(last, sort), id: last.id };
    }
  }

  /** One issue with evidence, remediation and history; 404 when unknown. */
  async get(id: string): Promise<IssueDetailView> {
    const [row] = await issuesByIds(this.db, [id]);
    if (row === undefined) throw new AppError('not_found', 404, `no issue with id ${id}`);
    const policy = this.byId.get(row.policy_id);
    const history = await historyOf(this.db, id);
    return {
      ...toView(row),
      evidence: fromJson<Record<string, unknown>>(row.evidence),
      remediation: policy?.remediation ?? '',
      policyName: policy?.name ?? row.policy_id,
      history: history.map((h) => ({
        at: new Date(h.at).toISOString(),
        actor: h.actor,
        field: h.field,
        from: h.from_value,
        to: h.to_value,
      })),
    };
  }

  /** Changes user-owned fields of one issue; a no-op writes nothing. */
  async patch(id: string, changes: UserChanges, actor: string): Promise<IssueView> {
    await this.change([id], changes, actor);
    const [row] = await issuesByIds(this.db, [id]);
    return toView(row!);
  }

  /** Changes user-owned fields of many issues at once; all or nothing. */
  async bulk(
    ids: readonly string[],
    changes: UserChanges,
    actor: string,
  ): Promise<{ updated: number }> {
    return { updated: await this.change(ids, changes, actor) };
  }

  private change(ids: readonly string[], changes: UserChanges, actor: string): Promise<number> {
    const at = this.clock();
    return this.db.transaction().execute(async (trx) => {
      const rows = await issuesByIds(trx, ids);
      if (rows.length !== new Set(ids).size) {
        const known = new Set(rows.map((r) => r.id));
        const missing = [...new Set(ids)].filter((id) => !known.has(id));
        const shown = missing.slice(0, 5).join(', ');
        const more = missing.length > 5 ? ` and ${String(missing.length - 5)} more` : '';
        throw new AppError(
          'not_found',
          404,
          `no issue with id ${shown}${more}; nothing was changed`,
        );
      }
      const history: HistoryEntry[] = [];
      const changed: string[] = [];
      for (const row of rows) {
        let any = false;
        if (changes.progress !== undefined && changes.progress !== row.progress) {
          history.push({
            issueId: row.id,
            at,
            actor,
            field: 'progress',
            from: row.progress,
            to: changes.progress,
          });
          any = true;
        }
        if (changes.assignee !== undefined && changes.assignee !== row.assignee) {
          history.push({
            issueId: row.id,
            at,
            actor,
            field: 'assignee',
            from: row.assignee,
            to: changes.assignee,
          });
          any = true;
        }
        if (any) changed.push(row.id);
      }
      const set: { progress?: IssueProgress; assignee?: string | null } = {};
      if (changes.progress !== undefined) set.progress = changes.progress;
      if (changes.assignee !== undefined) set.assignee = changes.assignee;
      await setUserFields(trx, changed, set, at);
      await insertHistory(trx, history);
      return changed.length;
    });
  }

  /** Counts for the overview; openedByDay covers the 30 UTC days up to today. */
  async summary(filters: IssueFilters): Promise<{
    byPriority: Record<string, number>;
    byStatus: Record<string, number>;
    byProgress: Record<string, number>;
    byProvider: Record<string, number>;
    openedByDay: { day: string; count: number }[];
  }> {
    const f = this.withPolicyNames(filters);
    const today = Math.floor(this.clock() / DAY_MS);
    const from = today - 29;
    const byDay = await openedByDay(this.db, f, from);
    const openedDays = [];
    for (let d = from; d <= today; d++) {
      openedDays.push({
        day: new Date(d * DAY_MS).toISOString().slice(0, 10),
        count: byDay.get(d) ?? 0,
      });
    }
    return {
      byPriority: await countBy(this.db, f, 'priority'),
      byStatus: await countBy(this.db, f, 'status'),
      byProgress: await countBy(this.db, f, 'progress'),
      byProvider: await countBy(this.db, f, 'provider'),
      openedByDay: openedDays,
    };
  }
}

const DAY_MS = 86_400_000;
