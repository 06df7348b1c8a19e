/** TypeBox schemas of the issues API; the handler types derive from them. */
import { Type } from 'typebox';

/** Priorities, most severe first. */
export const PriorityEnum = Type.Union(
  [Type.Literal('critical'), Type.Literal('high'), Type.Literal('medium'), Type.Literal('low')],
  { description: 'Severity.' },
);
/** System-owned status. */
export const StatusEnum = Type.Union([Type.Literal('active'), Type.Literal('inactive')], {
  description:
    'System-owned: active while observed; inactive once a complete scan no longer sees it.',
});
/** User-owned progress. */
export const ProgressEnum = Type.Union(
  [
    Type.Literal('new'),
    Type.Literal('investigating'),
    Type.Literal('in_progress'),
    Type.Literal('acceptable_risk'),
    Type.Literal('resolved'),
  ],
  { description: 'User-owned workflow state.' },
);

/** One issue as the list shows it. */
export const Issue = Type.Object({
  id: Type.String(),
  title: Type.String({ description: 'e.g. "Telnet Server at 203.0.113.7:23".' }),
  policyId: Type.String(),
  priority: PriorityEnum,
  status: StatusEnum,
  progress: ProgressEnum,
  assignee: Type.Union([Type.String(), Type.Null()]),
  ip: Type.String(),
  port: Type.Integer(),
  serviceId: Type.String({ description: 'The service asset the policy fired on.' }),
  orgId: Type.Union([Type.String(), Type.Null()]),
  provider: Type.String({ description: 'Hosting provider, e.g. AWS.' }),
  firstAdded: Type.String({ format: 'date-time' }),
  lastObserved: Type.String({ format: 'date-time' }),
});

/** One change in an issue's history. */
export const HistoryItem = Type.Object({
  at: Type.String({ format: 'date-time' }),
  actor: Type.String({ description: '"system" for the lifecycle, else the user.' }),
  field: Type.String({ description: 'status, progress or assignee.' }),
  from: Type.Union([Type.String(), Type.Null()]),
  to: Type.Union([Type.String(), Type.Null()]),
});

/** GET /api/v1/issues/{id} */
export const IssueDetail = Type.Intersect([
  Issue,
  Type.Object({
    evidence: Type.Record(Type.String(), Type.Unknown(), {
      description: 'The finding values that made the policy fire, by field.',
    }),
    remediation: Type.String(),
    policyName: Type.String(),
    history: Type.Array(HistoryItem),
  }),
]);

/** Filters shared by the list, the export and the summary. */
const filterFields = {
  status: Type.Optional(Type.String({ description: 'Comma-separated: active,inactive.' })),
  priority: Type.Optional(
    Type.String({ description: 'Comma-separated: critical,high,medium,low.' }),
  ),
  progress: Type.Optional(
    Type.String({
      description: 'Comma-separated: new,investigating,in_progress,acceptable_risk,resolved.',
    }),
  ),
  provider: Type.Optional(Type.String({ description: 'Comma-separated providers, e.g. AWS,GCP.' })),
  org: Type.Optional(
    Type.String({ minLength: 1, description: 'Organization id or name (404 when there is none).' }),
  ),
  q: Type.Optional(
    Type.String({
      maxLength: 200,
      description: 'Case-insensitive text in the title, the IP or the policy name.',
    }),
  ),
};

const sortFields = {
  sort: Type.Optional(
    Type.Union(
      [
        Type.Literal('priority'),
        Type.Literal('name'),
        Type.Literal('status'),
        Type.Literal('progress'),
        Type.Literal('assignee'),
        Type.Literal('first_added'),
        Type.Literal('last_observed'),
        Type.Literal('provider'),
      ],
      { description: 'Sort key (default priority). Priority sorts by severity; ties break on id.' },
    ),
  ),
  order: Type.Optional(
    Type.Union([Type.Literal('asc'), Type.Literal('desc')], {
      description:
        'Default desc for priority, first_added and last_observed (most severe, newest first), asc otherwise.',
    }),
  ),
};

/** GET /api/v1/issues */
export const ListQuery = Type.Object({
  ...filterFields,
  ...sortFields,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(
    Type.String({ minLength: 1, maxLength: 2000, description: 'nextCursor of the previous page.' }),
  ),
});

/** A page of issues. */
export const ListAnswer = Type.Object({
  items: Type.Array(Issue),
  nextCursor: Type.Union([Type.String(), Type.Null()], {
    description: 'Pass as cursor for the next page; null on the last page.',
  }),
  total: Type.Integer({ description: 'Issues matching the filters, over all pages.' }),
});

/** GET /api/v1/issues/export */
export const ExportQuery = Type.Object({
  ...filterFields,
  ...sortFields,
  format: Type.Optional(
    Type.Union([Type.Literal('csv'), Type.Literal('json')], { description: 'Default csv.' }),
  ),
});

/** GET /api/v1/issues/summary */
export const SummaryQuery = Type.Object(filterFields);

/** Counts for the overview. */
export const SummaryAnswer = Type.Object({
  byPriority: Type.Record(Type.String(), Type.Integer()),
  byStatus: Type.Record(Type.String(), Type.Integer()),
  byProgress: Type.Record(Type.String(), Type.Integer()),
  byProvider: Type.Record(Type.String(), Type.Integer()),
  openedByDay: Type.Array(
    Type.Object({ day: Type.String({ description: 'YYYY-MM-DD (UTC).' }), count: Type.Integer() }),
    { description: 'Issues first added on each of the last 30 days, oldest first.' },
  ),
});

/** /api/v1/issues/{id} */
export const IssueParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

const userFields = {
  progress: Type.Optional(ProgressEnum),
  assignee: Type.Optional(
    Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()], {
      description: 'Who works on it; null to unassign.',
    }),
  ),
};

/** PATCH /api/v1/issues/{id}: only user-owned fields; status is system-owned. */
export const PatchBody = Type.Object(userFields, { additionalProperties: false });

/** POST /api/v1/issues/bulk */
export const BulkBody = Type.Object(
  {
    ids: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
      minItems: 1,
      maxItems: 10_000,
    }),
    ...userFields,
  },
  { additionalProperties: false },
);

/** What a bulk change did. */
export const BulkAnswer = Type.Object({
  updated: Type.Integer({ description: 'Issues whose progress or assignee actually changed.' }),
});
