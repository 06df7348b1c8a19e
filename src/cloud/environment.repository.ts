/**
 * Stored cloud environments: every accepted document is kept under the next version number,
 * so replicas serving `db:latest` agree on what "latest" is and older versions stay readable.
 */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '#src/storage/database.js';
import type { CloudEnvironment } from '#src/cloud/environment.model.js';
import { isUniqueViolation } from '#src/storage/dialect.js';

/** A stored version without its document. */
export interface StoredEnvironmentInfo {
  readonly version: number;
  readonly sha256: string;
  readonly vm_count: number;
  readonly rule_count: number;
  readonly created_at: number;
}

const MAX_VERSION_RACES = 8;

/** SQL for cloud_environments. */
export class EnvironmentRepository {
  constructor(private readonly db: Db) {}

  /**
   * Stores a validated environment as the next version. Two replicas saving at once both
   * succeed: the loser of the race on the primary key takes the following number.
   */
  async save(env: CloudEnvironment, now: number): Promise<StoredEnvironmentInfo> {
    const document = JSON.stringify({ vms: env.vms, fw_rules: env.fw_rules });
    const sha256 = createHash('sha256').update(document).digest('hex');
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.kysely.transaction().execute(async (trx) => {
          if (this.db.dialect === 'postgres') {
            // Savers queue here rather than all reading the same max and retrying (more of
            // them than MAX_VERSION_RACES would fail). Readers are not blocked by this mode.
            await sql`lock table cloud_environments in share row exclusive mode`.execute(trx);
          }
          // One statement reads the max and inserts: on SQLite it holds the write lock from
          // the start, so other processes on the same file wait instead of racing.
          const row = await trx
            .insertInto('cloud_environments')
            .values({
              version: sql<number>`(select coalesce(max(version), 0) + 1 from cloud_environments)`,
              document,
              sha256,
              vm_count: env.vms.length,
              rule_count: env.fw_rules.length,
              created_at: now,
            })
            .returning('version')
            .executeTakeFirstOrThrow();
          return {
            version: row.version,
            sha256,
            vm_count: env.vms.length,
            rule_count: env.fw_rules.length,
            created_at: now,
          };
        });
      } catch (error) {
        if (attempt >= MAX_VERSION_RACES || !isUniqueViolation(error)) throw error;
      }
    }
  }

  /** The newest version number, or 0 when none is stored. */
  async latestVersion(): Promise<number> {
    const row = await this.db.kysely
      .selectFrom('cloud_environments')
      .select((eb) => eb.fn.max<number | null>('version').as('v'))
      .executeTakeFirst();
    return row?.v ?? 0;
  }

  /** The document text of a version, if stored. */
  async document(version: number): Promise<string | undefined> {
    const row = await this.db.kysely
      .selectFrom('cloud_environments')
      .select('document')
      .where('version', '=', version)
      .executeTakeFirst();
    return row?.document;
  }

  /** Stored versions, newest first. */
  list(limit = 100): Promise<StoredEnvironmentInfo[]> {
    return this.db.kysely
      .selectFrom('cloud_environments')
      .select(['version', 'sha256', 'vm_count', 'rule_count', 'created_at'])
      .orderBy('version', 'desc')
      .limit(limit)
      .execute();
  }
}
