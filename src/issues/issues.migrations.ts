/**
 * Issue tables: one row per (service, policy) pair that ever fired, with its system-owned
 * status and user-owned progress, and the history of every change to either.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '#src/storage/database.js';
import { jsonType } from '#src/storage/dialect.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the schema as it was then */
/** 0005: issues and issue_history. */
export function issueTables(dialect: DialectName): Migration {
  const json = jsonType(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('issues')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.references('organizations.id').onDelete('set null'))
        .addColumn('service_id', 'text', (c) =>
          c.notNull().references('assets.id').onDelete('cascade'),
        )
        .addColumn('policy_id', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('priority', 'text', (c) => c.notNull())
        .addColumn('priority_rank', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('progress', 'text', (c) => c.notNull())
        .addColumn('assignee', 'text')
        .addColumn('ip', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('evidence', json, (c) => c.notNull())
        .addColumn('first_added', 'bigint', (c) => c.notNull())
        .addColumn('last_observed', 'bigint', (c) => c.notNull())
        .addColumn('status_changed_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('issues_service_policy', ['service_id', 'policy_id'])
        .execute();
      // One index per sort key, each ending in id: keyset pages walk them without sorting.
      const sorted: [string, string[]][] = [
        ['issues_by_priority', ['priority_rank', 'id']],
        ['issues_by_title', ['title', 'id']],
        ['issues_by_status', ['status', 'id']],
        ['issues_by_progress', ['progress', 'id']],
        ['issues_by_assignee', ['assignee', 'id']],
        ['issues_by_first_added', ['first_added', 'id']],
        ['issues_by_last_observed', ['last_observed', 'id']],
        ['issues_by_provider', ['provider', 'id']],
        // The default view: active issues, most severe first.
        ['issues_by_status_priority', ['status', 'priority_rank', 'id']],
        // Reconcile: the active issues of an organisation; and lookups by endpoint and policy.
        ['issues_by_org_status', ['org_id', 'status']],
        ['issues_by_endpoint', ['ip', 'port']],
        ['issues_by_policy', ['policy_id']],
      ];
      for (const [name, columns] of sorted) {
        await db.schema.createIndex(name).on('issues').columns(columns).execute();
      }
      await db.schema
        .createTable('issue_history')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('issue_id', 'text', (c) =>
          c.notNull().references('issues.id').onDelete('cascade'),
        )
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('field', 'text', (c) => c.notNull())
        .addColumn('from_value', 'text')
        .addColumn('to_value', 'text')
        .execute();
      await db.schema
        .createIndex('issue_history_by_issue')
        .on('issue_history')
        .columns(['issue_id', 'at'])
        .execute();
    },
  };
}

/**
 * 0005a: the assignee sort orders unassigned issues as '' (a keyset cannot step over NULLs the
 * same way on both engines), so its index must be on that very expression for the sort to walk
 * it instead of sorting every issue (181 ms -> 6 ms for a first page at 100,000 issues).
 */
export function issueAssigneeSortIndex(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.dropIndex('issues_by_assignee').execute();
      await db.schema
        .createIndex('issues_by_assignee')
        .on('issues')
        .expression(sql`coalesce(assignee, ''), id`)
        .execute();
    },
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */
