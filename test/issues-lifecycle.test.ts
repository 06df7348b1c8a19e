/**
 * The issue lifecycle on a real database (SQLite, and PostgreSQL when configured): issues open
 * on a first match, refresh on later ones, go inactive only when a complete scan misses them,
 * reopen when seen again, and every status change leaves a history row.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceFinding } from '#src/discovery/discovery.model.js';
import { connectDatabase, type Db } from '#src/storage/database.js';
import { migrate } from '#src/storage/migrations.js';
import { AssetRepository } from '#src/assets/assets.repository.js';
import { loadPolicies } from '#src/issues/policy.model.js';
import { reconcileIssues, type Coverage } from '#src/issues/issues.service.js';
import { engines, type ScratchDatabase } from './helpers/databases.js';

const policies = loadPolicies();
const T0 = Date.UTC(2026, 10, 1);
const HOUR = 3_600_000;

const telnet = (ip: string): ServiceFinding => ({
  ip,
  port: 23,
  protocol: 'tcp',
  service: 'telnet',
});
const redis = (ip: string, auth: string): ServiceFinding => ({
  ip,
  port: 6379,
  protocol: 'tcp',
  service: 'redis',
  extra: { auth },
});

/** Everything on these hosts was probed. */
const hosts = (...ips: string[]): Coverage => ({ covers: (ip) => ips.includes(ip) });

for (const engine of engines()) {
  describe(`issue lifecycle on ${engine.name}`, () => {
    let scratch: ScratchDatabase;
    let db: Db;
    let assets: AssetRepository;
    before(async () => {
      scratch = await engine.create();
      db = await connectDatabase(scratch.url);
      await migrate(db);
      assets = new AssetRepository(db);
    });
    after(async () => {
      await db.close();
      await scratch.drop();
    });

    const service = async (f: ServiceFinding): Promise<string> =>
      (
        await assets.upsertAssets([
          { kind: 'service', key: `${f.ip}:${String(f.port)}/tcp`, seenAt: T0 },
        ])
      )[0]!;
    const issuesOf = (serviceId: string) =>
      db.kysely.selectFrom('issues').selectAll().where('service_id', '=', serviceId).execute();
    const historyOf = (issueId: string) =>
      db.kysely
        .selectFrom('issue_history')
        .selectAll()
        .where('issue_id', '=', issueId)
        .orderBy('at')
        .orderBy('id')
        .execute();

    it('opens, refreshes, inactivates on complete coverage only, and reopens', async () => {
      const f = telnet('203.0.113.7');
      const serviceId = await service(f);
      const findings = [{ serviceId, finding: f, provider: 'AWS' }];
      const first = await reconcileIssues(db.kysely, {
        orgId: null,
        observedAt: T0,
        findings,
        policies,
      });
      assert.deepEqual(first, { opened: 1, reopened: 0, updated: 0, inactivated: 0 });
      const [issue] = await issuesOf(serviceId);
      assert.ok(issue);
      assert.equal(issue.title, 'Telnet Server at 203.0.113.7:23');
      assert.equal(issue.status, 'active');
      assert.equal(issue.progress, 'new');
      assert.equal(issue.priority, 'high');
      assert.equal(issue.provider, 'AWS');
      assert.equal(issue.first_added, T0);

      // Seen again later: last_observed moves forward, nothing else changes.
      const again = await reconcileIssues(db.kysely, {
        orgId: null,
        observedAt: T0 + HOUR,
        findings,
        policies,
      });
      assert.deepEqual(again, { opened: 0, reopened: 0, updated: 1, inactivated: 0 });
      // Replayed older data does not move last_observed back.
      await reconcileIssues(db.kysely, { orgId: null, observedAt: T0 - HOUR, findings, policies });
      let [now] = await issuesOf(serviceId);
      assert.equal(now!.last_observed, T0 + HOUR);
      assert.equal(now!.first_added, T0);

      // A partial scan (no coverage) that does not see it: nothing goes inactive.
      const partial = await reconcileIssues(db.kysely, {
        orgId: null,
        observedAt: T0 + 2 * HOUR,
        findings: [],
        policies,
      });
      assert.equal(partial.inactivated, 0);
      // A complete scan of another host: not covered, stays active.
      const elsewhere = await reconcileIssues(db.kysely, {
        orgId: null,
        observedAt: T0 + 2 * HOUR,
        findings: [],
        coverage: hosts('198.51.100.1'),
        policies,
      });
      assert.equal(elsewhere.inactivated, 0);
      // A complete scan covering it that does not find it: inactive.
      const gone = await reconcileIssues(db.kysely, {
        orgId: null,
        observedAt: T0 + 3 * HOUR,
        findings: [],
        coverage: hosts('203.0.113.7'),
        policies,
      });
      assert.equal(gone.inactivated, 1);
      [now] = await issuesOf(serviceId);
      assert.equal(now!.status, 'inactive');

      // The user had marked it resolved meanwhile; it comes back: active again, progress new.
      await db.kysely
        .updateTable('issues')
        .set({ progress: 'resolved' })
        .where('id', '=', issue.id)
        .execute();
      const back = await reconcileIssues(db.kysely, {
        orgId: null,
        observedAt: T0 + 4 * HOUR,
        findings,
        policies,
      });
      assert.deepEqual(back, { opened: 0, reopened: 1, updated: 0, inactivated: 0 });
      [now] = await issuesOf(serviceId);
      assert.equal(now!.status, 'active');
      assert.equal(now!.progress, 'new');
      assert.equal(now!.id, issue.id, 'the same issue is reopened, not a new one');

      const history = (await historyOf(issue.id)).map((h) => [h.field, h.from_value, h.to_value]);
      assert.deepEqual(history, [
        ['status', null, 'active'],
        ['status', 'active', 'inactive'],
        ['status', 'inactive', 'active'],
        ['progress', 'resolved', 'new'],
      ]);
    });

    it('keeps progress of a reopened issue that was not resolved', async () => {
      const f = telnet('203.0.113.8');
      const serviceId = await service(f);
      const findings = [{ serviceId, finding: f, provider: 'GCP' }];
      await reconcileIssues(db.kysely, { orgId: null, observedAt: T0, findings, policies });
      await db.kysely
        .updateTable('issues')
        .set({ progress: 'investigating' })
        .where('service_id', '=', serviceId)
        .execute();
      await reconcileIssues(db.kysely, {
        orgId: null,
        observedAt: T0 + HOUR,
        findings: [],
        coverage: hosts(f.ip),
        policies,
      });
      const back = await reconcileIssues(db.kysely, {
        orgId: null,
        observedAt: T0 + 2 * HOUR,
        findings,
        policies,
      });
      assert.equal(back.reopened, 1);
      const [issue] = await issuesOf(serviceId);
      assert.equal(issue!.progress, 'investigating');
    });

    it('inactivates an issue whose finding no longer matches its policy and opens the new one', async () => {
      const open = redis('203.0.113.9', 'none');
      const serviceId = await service(open);
      await reconcileIssues(db.kysely, {
        orgId: null,
        observedAt: T0,
        findings: [{ serviceId, finding: open, provider: 'AWS' }],
        policies,
      });
      let rows = await issuesOf(serviceId);
      assert.deepEqual(
        rows.map((r) => [r.policy_id, r.priority]),
        [['redis-unauthenticated', 'critical']],
      );
      // Someone set a password: the critical issue goes inactive, a medium one opens.
      const locked = redis('203.0.113.9', 'required');
      const result = await reconcileIssues(db.kysely, {
        orgId: null,
        observedAt: T0 + HOUR,
        findings: [{ serviceId, finding: locked, provider: 'AWS' }],
        coverage: hosts(locked.ip),
        policies,
      });
      assert.deepEqual(result, { opened: 1, reopened: 0, updated: 0, inactivated: 1 });
      rows = await issuesOf(serviceId);
      const byPolicy = Object.fromEntries(rows.map((r) => [r.policy_id, r.status]));
      assert.deepEqual(byPolicy, { 'redis-unauthenticated': 'inactive', 'redis-server': 'active' });
    });

    it('is idempotent: the same reconcile twice writes no new history', async () => {
      const f = telnet('203.0.113.10');
      const serviceId = await service(f);
      const input = {
        orgId: null,
        observedAt: T0,
        findings: [{ serviceId, finding: f, provider: 'AWS' }],
        coverage: hosts(f.ip),
        policies,
      };
      await reconcileIssues(db.kysely, input);
      const count = async () =>
        Number(
          (
            await db.kysely
              .selectFrom('issue_history')
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const before = await count();
      const second = await reconcileIssues(db.kysely, input);
      assert.deepEqual(second, { opened: 0, reopened: 0, updated: 1, inactivated: 0 });
      assert.equal(await count(), before);
      assert.equal((await issuesOf(serviceId)).length, 1);
    });

    it('never lets older data inactivate, reopen or refresh an issue', async () => {
      const f = telnet('203.0.113.12');
      const serviceId = await service(f);
      const findings = [{ serviceId, finding: f, provider: 'AWS' }];
      await reconcileIssues(db.kysely, {
        orgId: null,
        observedAt: T0 + 2 * HOUR,
        findings,
        policies,
      });
      // A complete scan that finished before the last observation cannot say it is gone.
      const stale = await reconcileIssues(db.kysely, {
        orgId: null,
        observedAt: T0 + HOUR,
        findings: [],
        coverage: hosts(f.ip),
        policies,
      });
      assert.equal(stale.inactivated, 0);
      await reconcileIssues(db.kysely, {
        orgId: null,
        observedAt: T0 + 3 * HOUR,
        findings: [],
        coverage: hosts(f.ip),
        policies,
      });
      // A finding replayed from before it went inactive does not reopen it.
      const replay = await reconcileIssues(db.kysely, {
        orgId: null,
        observedAt: T0 + 2 * HOUR,
        findings,
        policies,
      });
      assert.equal(replay.reopened, 0);
      const [issue] = await issuesOf(serviceId);
      assert.equal(issue!.status, 'inactive');
      assert.equal(issue!.last_observed, T0 + 2 * HOUR);
    });

    it('runs inside a transaction and leaves nothing when it rolls back', async () => {
      const f = telnet('203.0.113.11');
      const serviceId = await service(f);
      await assert.rejects(
        db.kysely.transaction().execute(async (trx) => {
          await reconcileIssues(trx, {
            orgId: null,
            observedAt: T0,
            findings: [{ serviceId, finding: f, provider: 'AWS' }],
            policies,
          });
          throw new Error('import failed later');
        }),
        /import failed later/,
      );
      assert.equal((await issuesOf(serviceId)).length, 0);
    });

    it('reconciles 10,000 findings in one batch', async () => {
      const findings = [];
      const sightings = [];
      for (let i = 0; i < 10_000; i++) {
        const ip = `10.${String(i >> 8)}.${String(i & 255)}.1`;
        sightings.push({ kind: 'service' as const, key: `${ip}:23/tcp`, seenAt: T0 });
        findings.push({ ip, finding: telnet(ip) });
      }
      const ids = await assets.upsertAssets(sightings);
      const started = performance.now();
      const result = await reconcileIssues(db.kysely, {
        orgId: null,
        observedAt: T0,
        findings: findings.map((f, i) => ({
          serviceId: ids[i]!,
          finding: f.finding,
          provider: 'AWS',
        })),
        policies,
      });
      const ms = performance.now() - started;
      assert.equal(result.opened, 10_000);
      assert.ok(ms < 20_000, `took ${ms.toFixed(0)} ms`);
    });
  });
}
