/** HTTP routes of issues: list, detail, user changes (one and bulk), export and summary. */
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { App } from '#src/http/app.js';
import { validationError } from '#src/http/errors.js';
import { ErrorBody } from '#src/http/http.schema.js';
import {
  BulkAnswer,
  BulkBody,
  ExportQuery,
  IssueDetail,
  IssueParams,
  Issue,
  ListAnswer,
  ListQuery,
  PatchBody,
  SummaryAnswer,
  SummaryQuery,
} from '#src/issues/issues.schema.js';
import type { IssueService, IssueView } from '#src/issues/issues.service.js';
import type { IssueFilters, IssueSort } from '#src/issues/issues.repository.js';
import { ISSUE_PROGRESS, ISSUE_STATUSES } from '#src/storage/schema.js';
import { PRIORITIES } from '#src/issues/policy.model.js';
import { orgIdOf } from '#src/assets/org-ref.js';
import type { AssetRepository } from '#src/assets/assets.repository.js';

/** Raw filter parameters as the query string carries them. */
interface FilterQuery {
  readonly status?: string | undefined;
  readonly priority?: string | undefined;
  readonly progress?: string | undefined;
  readonly provider?: string | undefined;
  readonly org?: string | undefined;
  readonly q?: string | undefined;
}

/** Splits "a,b" and checks each value against `allowed` (when given). */
function list<T extends string>(
  name: string,
  raw: string | undefined,
  allowed?: readonly T[],
): T[] | undefined {
  if (raw === undefined) return undefined;
  const values = raw
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (values.length === 0) throw validationError(`query parameter "${name}" must not be empty`);
  if (allowed !== undefined) {
    const bad = values.find((v) => !allowed.includes(v as T));
    if (bad !== undefined) {
      throw validationError(
        `query parameter "${name}" has an unsupported value ${JSON.stringify(bad)} (use ${allowed.join(', ')})`,
      );
    }
  }
  return values as T[];
}

/** The filters of a request, validated. */
export function parseFilters(query: FilterQuery): IssueFilters {
  const filters: {
    -readonly [K in keyof IssueFilters]: IssueFilters[K];
  } = {};
  const status = list('status', query.status, ISSUE_STATUSES);
  if (status !== undefined) filters.status = status;
  const priority = list('priority', query.priority, PRIORITIES);
  if (priority !== undefined) filters.priority = priority;
  const progress = list('progress', query.progress, ISSUE_PROGRESS);
  if (progress !== undefined) filters.progress = progress;
  const provider = list('provider', query.provider);
  if (provider !== undefined) filters.provider = provider;
  if (query.org !== undefined) filters.orgId = query.org;
  if (query.q !== undefined && query.q.trim() !== '') filters.q = query.q.trim();
  return filters;
}

function sortOf(query: { sort?: IssueSort | undefined; order?: 'asc' | 'desc' | undefined }): {
  sort: IssueSort;
  order: 'asc' | 'desc';
} {
  const sort = query.sort ?? 'priority';
  const newestFirst = sort === 'priority' || sort === 'first_added' || sort === 'last_observed';
  return { sort, order: query.order ?? (newestFirst ? 'desc' : 'asc') };
}

/** Who made a change: the x-surfacescan-user header, else "anonymous". */
function actorOf(request: FastifyRequest): string {
  const header = request.headers['x-surfacescan-user'];
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  return value === undefined || value === '' ? 'anonymous' : value.slice(0, 200);
}

/**
 * Rejects body fields the schema does not name. Fastify's validator drops unknown properties
 * silently (removeAdditional), which would turn {"status": "inactive"} into a successful no-op.
 */
function onlyFields(
  allowed: readonly string[],
): (request: FastifyRequest, reply: unknown, done: (error?: Error) => void) => void {
  return (request, _reply, done) => {
    const body = request.body;
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
      const unknown = Object.keys(body).find((k) => !allowed.includes(k));
      if (unknown !== undefined) {
        const hint = unknown === 'status' ? ' (status is system-owned)' : '';
        done(validationError(`body field "${unknown}" is not allowed${hint}`));
        return;
      }
      // The validator coerces "" to null for a nullable field; an empty name is a mistake, not
      // a request to unassign.
      const assignee = (body as { assignee?: unknown }).assignee;
      if (typeof assignee === 'string' && assignee.trim() === '') {
        done(validationError('body field "assignee" must be a name or null, not empty'));
        return;
      }
    }
    done();
  };
}

const CSV_COLUMNS: readonly (keyof IssueView)[] = [
  'id',
  'title',
  'policyId',
  'priority',
  'status',
  'progress',
  'assignee',
  'ip',
  'port',
  'serviceId',
  'orgId',
  'provider',
  'firstAdded',
  'lastObserved',
];

/**
 * One CSV cell: RFC 4180 quoting, and a leading ' on text a spreadsheet would run as a formula
 * (= + - @, tab, carriage return: CSV injection).
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

// Lines are written in blocks of about this many characters: one stream chunk (and one socket
// write) per line made a 100,000-row export several times slower.
const BLOCK_CHARS = 64 * 1024;

async function* blocks(
  rows: AsyncIterable<IssueView>,
  head: string,
  line: (row: IssueView, first: boolean) => string,
  tail: string,
): AsyncGenerator<string> {
  let block = head;
  let first = true;
  for await (const row of rows) {
    block += line(row, first);
    first = false;
    if (block.length >= BLOCK_CHARS) {
      yield block;
      block = '';
    }
  }
  yield block + tail;
}

function csvLines(rows: AsyncIterable<IssueView>): AsyncGenerator<string> {
  return blocks(
    rows,
    `${CSV_COLUMNS.join(',')}\r\n`,
    (row) => `${CSV_COLUMNS.map((c) => csvCell(row[c])).join(',')}\r\n`,
    '',
  );
}

function jsonLines(rows: AsyncIterable<IssueView>): AsyncGenerator<string> {
  return blocks(rows, '[', (row, first) => `${first ? '' : ','}\n${JSON.stringify(row)}`, '\n]\n');
}

/** Registers /api/v1/issues and its sub-routes. */
export function registerIssueRoutes(app: App, issues: IssueService, assets: AssetRepository): void {
  /** The filters of a request, its org (id or name) resolved to an id: 404 when unknown. */
  const filtersOf = async (query: FilterQuery): Promise<IssueFilters> => {
    const filters = parseFilters(query);
    const orgId = await orgIdOf(assets, filters.orgId);
    return orgId === undefined ? filters : { ...filters, orgId };
  };

  app.get(
    '/api/v1/issues',
    {
      schema: {
        tags: ['issues'],
        summary: 'Issues, filtered, sorted and paged by cursor.',
        description:
          'Keyset pagination: pass nextCursor as cursor with the same sort and order to get the ' +
          'next page; pages never repeat or skip an issue, even when sort values tie.',
        querystring: ListQuery,
        response: { 200: ListAnswer, 400: ErrorBody, 404: ErrorBody, 503: ErrorBody },
      },
    },
    async (request) =>
      issues.list({
        filters: await filtersOf(request.query),
        ...sortOf(request.query),
        limit: request.query.limit ?? 50,
        cursor: request.query.cursor,
      }),
  );

  app.get(
    '/api/v1/issues/export',
    {
      schema: {
        tags: ['issues'],
        summary: 'Every matching issue as a CSV or JSON download (streamed).',
        description:
          'Same filters and sort as the list. CSV has a header row, RFC 4180 quoting, and a ' +
          "leading ' on cells starting with = + - @ (CSV injection).",
        querystring: ExportQuery,
      },
    },
    async (request, reply) => {
      const filters = await filtersOf(request.query);
      const { sort, order } = sortOf(request.query);
      const rows = issues.all(filters, sort, order);
      const csv = (request.query.format ?? 'csv') === 'csv';
      return reply
        .header('content-disposition', `attachment; filename="issues.${csv ? 'csv' : 'json'}"`)
        .type(csv ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
        .send(Readable.from(csv ? csvLines(rows) : jsonLines(rows)));
    },
  );

  app.get(
    '/api/v1/issues/summary',
    {
      schema: {
        tags: ['issues'],
        summary: 'Counts by priority, status, progress and provider, and new issues per day.',
        querystring: SummaryQuery,
        response: { 200: SummaryAnswer, 400: ErrorBody, 404: ErrorBody, 503: ErrorBody },
      },
    },
    async (request) => issues.summary(await filtersOf(request.query)),
  );

  app.post(
    '/api/v1/issues/bulk',
    {
      bodyLimit: 4 * 1024 * 1024,
      preValidation: onlyFields(['ids', 'progress', 'assignee']),
      schema: {
        tags: ['issues'],
        summary: 'Sets progress and/or assignee of up to 10,000 issues at once.',
        description:
          'All or nothing: an unknown id answers 404 naming it and changes nothing. The actor ' +
          'in the history is the x-surfacescan-user header (default anonymous).',
        body: BulkBody,
        response: { 200: BulkAnswer, 400: ErrorBody, 404: ErrorBody, 503: ErrorBody },
      },
    },
    (request) => {
      const { ids, progress, assignee } = request.body;
      return issues.bulk(ids, { progress, assignee }, actorOf(request));
    },
  );

  app.get(
    '/api/v1/issues/:id',
    {
      schema: {
        tags: ['issues'],
        summary: 'One issue with its evidence, remediation and history.',
        params: IssueParams,
        response: { 200: IssueDetail, 404: ErrorBody, 503: ErrorBody },
      },
    },
    (request) => issues.get(request.params.id),
  );

  app.patch(
    '/api/v1/issues/:id',
    {
      preValidation: onlyFields(['progress', 'assignee']),
      schema: {
        tags: ['issues'],
        summary: 'Sets progress and/or assignee (user-owned); status is system-owned.',
        description:
          'Unknown fields or values answer 400 and change nothing; a change to the current ' +
          'value writes no history. The actor is the x-surfacescan-user header.',
        params: IssueParams,
        body: PatchBody,
        response: { 200: Issue, 400: ErrorBody, 404: ErrorBody, 503: ErrorBody },
      },
    },
    (request) => {
      const { progress, assignee } = request.body;
      return issues.patch(request.params.id, { progress, assignee }, actorOf(request));
    },
  );
}
