/**
 * The issues API over HTTP on a real server: filters, every sort, cursor paging through 1,000
 * issues with no duplicates or gaps, user changes (one and bulk) that persist or change
 * nothing, and exports a CSV parser reads back. Runs on SQLite and on PostgreSQL (when
 * configured); the issues are made by the real lifecycle from findings.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceFinding } from '#src/discovery/discovery.model.js';
import type { RunningServer } from '#src/http/server.js';
import { connectDatabase } from '#src/storage/database.js';
import { migrate } from '#src/storage/migrations.js';
import { AssetRepository } from '#src/assets/assets.repository.js';
import { loadPolicies } from '#src/issues/policy.model.js';
import { reconcileIssues } from '#src/issues/issues.service.js';
import { engines, type ScratchDatabase } from './helpers/databases.js';
import { fixturePath, getJson, sendJson, startTestServer } from './helpers/http.js';

interface IssueJson {
  id: string;
  title: string;
  policyId: string;
  priority: string;
  status: string;
  progress: string;
  assignee: string | null;
  ip: string;
  port: number;
  provider: string;
  orgId: string | null;
  firstAdded: string;
  lastObserved: string;
}
interface Page {
  items: IssueJson[];
  nextCursor: string | null;
  total: number;
}

const COUNT = 1000;
const PROVIDERS = ['AWS', 'GCP', 'Azure'];
const SEVERITY: Record<string, number> = { critical: 4, high: 3, medium: 2, low: 1 };

/** A finding that fires exactly one bundled policy, by index. */
function findingFor(i: number): ServiceFinding {
  const ip = `10.${String(i >> 8)}.${String(i & 255)}.7`;
  switch (i % 4) {
    case 0:
      return { ip, port: 23, protocol: 'tcp', service: 'telnet' };
    case 1:
      return { ip, port: 6379, protocol: 'tcp', service: 'redis', extra: { auth: 'none' } };
    case 2:
      return { ip, port: 3306, protocol: 'tcp', service: 'mysql', product: 'MySQL' };
    default:
      return { ip, port: 22, protocol: 'tcp', service: 'ssh', product: 'OpenSSH' };
  }
}

/** A minimal RFC 4180 reader: quoted cells, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

for (const engine of engines()) {
  describe(`issues API over HTTP on ${engine.name}`, () => {
    let scratch: ScratchDatabase;
    let server: RunningServer;
    let api: string;
    let orgId: string;
    const now = Date.now();

    before(async () => {
      scratch = await engine.create();
      const db = await connectDatabase(scratch.url);
      try {
        await migrate(db);
        const assets = new AssetRepository(db);
        orgId = (
          await assets.createOrganization(
            'Example Corp',
            { domains: [], cidrs: [], asns: [], names: [] },
            now,
          )
        ).id;
        const policies = loadPolicies();
        // Ten observation times, so first_added ties a hundred times each: paging must still
        // neither repeat nor skip.
        for (let batch = 0; batch < 10; batch++) {
          const findings = [];
          for (let i = batch * 100; i < (batch + 1) * 100; i++) {
            const finding = findingFor(i);
            const [serviceId] = await assets.upsertAssets([
              { kind: 'service', key: `${finding.ip}:${String(finding.port)}/tcp`, seenAt: now },
            ]);
            findings.push({ serviceId: serviceId!, finding, provider: PROVIDERS[i % 3]! });
          }
          await reconcileIssues(db.kysely, {
            orgId: batch < 5 ? orgId : null,
            observedAt: now - (10 - batch) * 86_400_000,
            findings,
            policies,
          });
        }
        // A complete scan of 10.0.0.0/24 that finds nothing: those issues go inactive.
        await reconcileIssues(db.kysely, {
          orgId,
          observedAt: now,
          findings: [],
          coverage: { covers: (ip) => ip.startsWith('10.0.') },
          policies,
        });
      } finally {
        await db.close();
      }
      server = await startTestServer(fixturePath('input-0.json'), { databaseUrl: scratch.url });
      api = `${server.url}/api/v1/issues`;
    });
    after(async () => {
      await server.close();
      await scratch.drop();
    });

    const page = async (query: string): Promise<Page> => {
      const answer = await getJson(`${api}?${query}`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body as Page;
    };
    const walk = async (query: string, limit: number): Promise<IssueJson[]> => {
      const all: IssueJson[] = [];
      let cursor: string | null = null;
      do {
        const p: Page = await page(
          `${query}&limit=${String(limit)}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
        );
        all.push(...p.items);
        cursor = p.nextCursor;
      } while (cursor !== null);
      return all;
    };

    it('lists the first page most severe first, with the total and a cursor', async () => {
      const first = await page('');
      assert.equal(first.total, COUNT);
      assert.equal(first.items.length, 50);
      assert.ok(first.nextCursor);
      assert.ok(first.items.every((i) => i.priority === 'critical'));
      const item = first.items[0]!;
      assert.match(item.title, /^Unauthenticated Redis Server at 10\.\d+\.\d+\.7:6379$/);
      assert.match(item.firstAdded, /^\d{4}-\d\d-\d\dT/);
    });

    const sortKeys: Record<string, (i: IssueJson) => string | number> = {
      priority: (i) => SEVERITY[i.priority]!,
      name: (i) => i.title,
      status: (i) => i.status,
      progress: (i) => i.progress,
      assignee: (i) => i.assignee ?? '',
      first_added: (i) => i.firstAdded,
      last_observed: (i) => i.lastObserved,
      provider: (i) => i.provider,
    };
    for (const [sort, key] of Object.entries(sortKeys)) {
      for (const order of ['asc', 'desc']) {
        it(`pages through all issues by ${sort} ${order} with no duplicates or gaps`, async () => {
          const all = await walk(`sort=${sort}&order=${order}`, 97);
          assert.equal(all.length, COUNT);
          assert.equal(new Set(all.map((i) => i.id)).size, COUNT);
          for (let i = 1; i < all.length; i++) {
            const a = key(all[i - 1]!);
            const b = key(all[i]!);
            // Text compares as the database does (binary, C collation on the test server).
            const ok = order === 'asc' ? a <= b : a >= b;
            assert.ok(ok, `row ${String(i)}: ${String(a)} then ${String(b)}`);
          }
        });
      }
    }

    it('filters by status, priority, provider, org and text', async () => {
      const inactive = await page('status=inactive&limit=500');
      assert.equal(inactive.total, 256);
      assert.ok(inactive.items.every((i) => i.status === 'inactive' && i.ip.startsWith('10.0.')));
      const severe = await page('priority=critical,high&status=active');
      assert.equal(severe.total, 500 - 128);
      const aws = await page('provider=AWS');
      assert.equal(aws.total, 334);
      const org = await page(`org=${orgId}`);
      assert.equal(org.total, 500);
      const byIp = await page('q=10.3.17.');
      assert.deepEqual(
        byIp.items.map((i) => i.ip),
        ['10.3.17.7'],
      );
      const byPolicyName = await page('q=mysql&limit=1');
      assert.equal(byPolicyName.total, 250);
      const byTitle = await page('q=TELNET server');
      assert.equal(byTitle.total, 250);
      // LIKE wildcards match literally.
      assert.equal((await page('q=%25')).total, 0);
      assert.equal((await page('q=_')).total, 0);
      const combined = await walk('status=active&priority=medium&provider=GCP&sort=name', 40);
      assert.ok(combined.every((i) => i.priority === 'medium' && i.provider === 'GCP'));
      assert.equal(
        combined.length,
        (await page('status=active&priority=medium&provider=GCP')).total,
      );
    });

    it('rejects unknown filter values, sorts, limits and cursors with 400', async () => {
      for (const query of [
        'status=open',
        'priority=urgent',
        'progress=done',
        'sort=severity',
        'order=up',
        'limit=0',
        'limit=501',
        'cursor=garbage',
      ]) {
        const answer = await getJson(`${api}?${query}`);
        assert.equal(answer.status, 400, query);
        assert.equal((answer.body as { error: { code: string } }).error.code, 'validation_error');
      }
      const first = await page('sort=name');
      const wrong = await getJson(`${api}?sort=provider&cursor=${first.nextCursor!}`);
      assert.equal(wrong.status, 400);
    });

    it('shows one issue with evidence, remediation and history, and 404 for unknown ids', async () => {
      const [issue] = (await page('q=10.0.1.7')).items;
      assert.ok(issue);
      const detail = await getJson(`${api}/${issue.id}`);
      assert.equal(detail.status, 200);
      const body = detail.body as IssueJson & {
        evidence: Record<string, unknown>;
        remediation: string;
        policyName: string;
        history: { field: string; from: string | null; to: string | null; actor: string }[];
      };
      assert.equal(body.policyName, 'Unauthenticated Redis Server');
      assert.deepEqual(body.evidence, { service: 'redis', 'extra.auth': 'none' });
      assert.match(body.remediation, /requirepass/);
      assert.deepEqual(
        body.history.map((h) => [h.field, h.from, h.to, h.actor]),
        [
          ['status', null, 'active', 'system'],
          ['status', 'active', 'inactive', 'system'],
        ],
      );
      const missing = await getJson(`${api}/no-such-issue`);
      assert.equal(missing.status, 404);
      assert.equal((missing.body as { error: { code: string } }).error.code, 'not_found');
    });

    it('patches progress and assignee, records the actor, and writes no history for a no-op', async () => {
      const [issue] = (await page('q=10.2.2.7')).items;
      assert.ok(issue);
      const patch = (body: unknown, user?: string) =>
        fetch(`${api}/${issue.id}`, {
          method: 'PATCH',
          headers: {
            'content-type': 'application/json',
            ...(user === undefined ? {} : { 'x-surfacescan-user': user }),
          },
          body: JSON.stringify(body),
        });
      const ok = await patch({ progress: 'investigating', assignee: 'alice' }, 'bob');
      assert.equal(ok.status, 200);
      const updated = (await ok.json()) as IssueJson;
      assert.equal(updated.progress, 'investigating');
      assert.equal(updated.assignee, 'alice');
      const again = await patch({ progress: 'investigating' });
      assert.equal(again.status, 200);
      const history = async () =>
        (
          (await getJson(`${api}/${issue.id}`)).body as {
            history: { field: string; actor: string }[];
          }
        ).history;
      const changes = (await history()).filter((h) => h.field !== 'status');
      assert.deepEqual(
        changes.map((h) => [h.field, h.actor]),
        [
          ['progress', 'bob'],
          ['assignee', 'bob'],
        ],
      );
      // Status is system-owned; unknown fields and values change nothing.
      for (const body of [
        { status: 'inactive' },
        { progress: 'done' },
        { progress: 'resolved', colour: 'red' },
        { assignee: '' },
      ]) {
        const bad = await patch(body);
        assert.equal(bad.status, 400, JSON.stringify(body));
      }
      const after = (await getJson(`${api}/${issue.id}`)).body as IssueJson;
      assert.equal(after.status, 'active');
      assert.equal(after.progress, 'investigating');
      assert.equal((await history()).length, changes.length + 1);
      const unassign = await patch({ assignee: null });
      assert.equal(((await unassign.json()) as IssueJson).assignee, null);
      const unknown = await sendJson('PATCH', `${api}/nope`, { progress: 'new' });
      assert.equal(unknown.status, 404);
    });

    it('bulk-updates all or nothing', async () => {
      const ids = (await page('provider=Azure&limit=10&sort=name')).items.map((i) => i.id);
      const refused = await sendJson('POST', `${api}/bulk`, {
        ids: [...ids, 'missing-id'],
        progress: 'acceptable_risk',
      });
      assert.equal(refused.status, 404);
      assert.match((refused.body as { error: { message: string } }).error.message, /missing-id/);
      for (const id of ids) {
        assert.notEqual(
          ((await getJson(`${api}/${id}`)).body as IssueJson).progress,
          'acceptable_risk',
        );
      }
      const bad = await sendJson('POST', `${api}/bulk`, { ids, status: 'inactive' });
      assert.equal(bad.status, 400);
      const empty = await sendJson('POST', `${api}/bulk`, { ids: [], progress: 'new' });
      assert.equal(empty.status, 400);
      const done = await sendJson('POST', `${api}/bulk`, {
        ids,
        progress: 'acceptable_risk',
        assignee: '=HYPERLINK("http://x")',
      });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.deepEqual(done.body, { updated: 10 });
      const repeat = await sendJson('POST', `${api}/bulk`, { ids, progress: 'acceptable_risk' });
      assert.deepEqual(repeat.body, { updated: 0 });
      const accepted = await page('progress=acceptable_risk&limit=500');
      assert.deepEqual(new Set(accepted.items.map((i) => i.id)), new Set(ids));
    });

    it('exports every matching issue as CSV a parser reads back, injection-safe', async () => {
      const response = await fetch(`${api}/export?format=csv&provider=Azure`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/csv/);
      assert.match(
        response.headers.get('content-disposition') ?? '',
        /attachment; filename="issues\.csv"/,
      );
      const rows = parseCsv(await response.text());
      const [header, ...records] = rows;
      assert.deepEqual(header?.slice(0, 4), ['id', 'title', 'policyId', 'priority']);
      assert.equal(records.length, 333);
      assert.equal(new Set(records.map((r) => r[0])).size, 333);
      const assigneeColumn = header.indexOf('assignee');
      const injected = records.filter((r) => r[assigneeColumn] !== '');
      assert.equal(injected.length, 10);
      assert.ok(injected.every((r) => r[assigneeColumn] === `'=HYPERLINK("http://x")`));
    });

    it('exports JSON with the same filters', async () => {
      const response = await fetch(`${api}/export?format=json&status=inactive`);
      assert.equal(response.status, 200);
      const items = (await response.json()) as IssueJson[];
      assert.equal(items.length, 256);
      const bad = await fetch(`${api}/export?format=xml`);
      assert.equal(bad.status, 400);
    });

    it('summarises by priority, status, progress, provider and day', async () => {
      const answer = await getJson(`${api}/summary`);
      assert.equal(answer.status, 200);
      const s = answer.body as {
        byPriority: Record<string, number>;
        byStatus: Record<string, number>;
        byProvider: Record<string, number>;
        openedByDay: { day: string; count: number }[];
      };
      assert.deepEqual(s.byPriority, { critical: 250, high: 250, medium: 250, low: 250 });
      assert.deepEqual(s.byStatus, { active: 744, inactive: 256 });
      assert.equal(s.byProvider.AWS, 334);
      assert.equal(s.openedByDay.length, 30);
      assert.equal(s.openedByDay.at(-1)!.day, new Date(now).toISOString().slice(0, 10));
      assert.equal(
        s.openedByDay.reduce((sum, d) => sum + d.count, 0),
        COUNT,
      );
      const org = (await getJson(`${api}/summary?org=${orgId}`)).body as typeof s;
      assert.equal(
        Object.values(org.byStatus).reduce((a, b) => a + b, 0),
        500,
      );
    });
  });
}
