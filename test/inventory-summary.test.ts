/**
 * GET /api/v1/services/summary on a real server: nmap files imported over HTTP for two
 * organizations across three weeks (AWS, GCP, Azure and on-prem addresses, fifteen product
 * labels, services closed by a later import) are summarised exactly as a naive replay of the
 * same files says; "summary" is never taken for a service id; bad input is a 4xx. Runs on
 * SQLite and, when configured, PostgreSQL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '#src/http/server.js';
import { engines, type ScratchDatabase } from './helpers/databases.js';
import { fixturePath, getJson, startTestServer } from './helpers/http.js';
import { expectedSummary, importHistory, type SummaryView } from './helpers/exposures.js';

interface ErrorView {
  error: { code: string; message: string };
}

for (const engine of engines()) {
  describe(`inventory summary over HTTP on ${engine.name}`, () => {
    let scratch: ScratchDatabase;
    let server: RunningServer;
    let base: string;
    let orgs: Record<string, string>;
    let now: number;

    before(async () => {
      scratch = await engine.create();
      server = await startTestServer(fixturePath('input-0.json'), { databaseUrl: scratch.url });
      base = server.url;
      now = Date.now();
      orgs = await importHistory(base, now);
    });

    after(async () => {
      await server.close();
      await scratch.drop();
    });

    const summary = async (query = ''): Promise<SummaryView> => {
      const answer = await getJson(`${base}/api/v1/services/summary${query}`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body as SummaryView;
    };

    it('counts one organization exactly as a replay of its imports says, by id or by name', async () => {
      const byName = await summary('?org=Exposure%20Corp');
      const today = byName.firstSeenByDay.at(-1)!.day;
      assert.equal(today, new Date().toISOString().slice(0, 10));
      const expected = expectedSummary('Exposure Corp', orgs['Exposure Corp']!, now, today);
      assert.deepEqual(byName, expected);
      assert.deepEqual(await summary(`?org=${orgs['Exposure Corp']!}`), expected);

      // The figures the history was built to show, spelled out.
      assert.deepEqual(byName.totals, {
        openServices: 28,
        closedServices: 2,
        ipAssets: 7,
        exposedIps: 7,
        products: 15,
        // 8 services first seen three days ago (two closed since) and 12 today.
        newThisWeek: 20,
      });
      // Products fall back to the service name (telnet), then to "unidentified".
      assert.deepEqual(byName.byProduct.items, [
        { name: 'nginx', count: 5 },
        { name: 'OpenSSH', count: 4 },
        { name: 'MySQL', count: 3 },
        { name: 'Microsoft IIS httpd', count: 2 },
        { name: 'PostgreSQL DB', count: 2 },
        { name: 'telnet', count: 2 },
        { name: 'unidentified', count: 2 },
        { name: 'Apache httpd', count: 1 },
        { name: 'Dovecot imapd', count: 1 },
        { name: 'Exim smtpd', count: 1 },
      ]);
      assert.deepEqual(byName.byProduct.other, { count: 5, names: 5 });
      assert.deepEqual(
        byName.byProvider.map((p) => [p.provider, p.ipAssets, p.exposedIps, p.openServices]),
        [
          ['AWS', 3, 3, 10],
          ['GCP', 2, 2, 8],
          ['On Prem', 1, 1, 7],
          ['Azure', 1, 1, 3],
        ],
      );
      // The 3 services of 20 days ago are outside the 14-day series, the 7 of ten days ago in.
      assert.equal(byName.firstSeenByDay.length, 14);
      assert.equal(
        byName.firstSeenByDay.reduce((n, d) => n + d.count, 0),
        7 + 8 + 12,
      );
    });

    it('summarises every organization when none is named, and only its own for another', async () => {
      const today = new Date().toISOString().slice(0, 10);
      const all = await summary();
      assert.deepEqual(all, expectedSummary(undefined, null, now, all.firstSeenByDay.at(-1)!.day));
      assert.equal(all.totals.openServices, 30);
      const other = await summary('?org=Other%20Corp');
      assert.deepEqual(other, expectedSummary('Other Corp', orgs['Other Corp']!, now, today));
      assert.equal(other.totals.openServices, 2);
      assert.deepEqual(other.byProvider, [
        { provider: 'On Prem', ipAssets: 1, exposedIps: 1, openServices: 2 },
      ]);
      assert.deepEqual(other.byProduct.items, [
        { name: 'OpenSSH', count: 1 },
        { name: 'memcache', count: 1 },
      ]);
    });

    it('is not taken for a service id, and the service route still answers ids', async () => {
      const answer = await getJson(`${base}/api/v1/services/summary`);
      assert.equal(answer.status, 200);
      assert.ok('totals' in (answer.body as object));
      const list = (await getJson(`${base}/api/v1/services?limit=1`)).body as {
        items: { id: string }[];
      };
      const id = list.items[0]!.id;
      const one = await getJson(`${base}/api/v1/services/${encodeURIComponent(id)}`);
      assert.equal(one.status, 200);
      assert.equal((one.body as { id: string }).id, id);
      const missing = await getJson(`${base}/api/v1/services/summaryx`);
      assert.equal(missing.status, 404);
      assert.match((missing.body as ErrorView).error.message, /no service "summaryx"/);
    });

    it('answers an empty organization with zeros and a full series of empty days', async () => {
      const created = await fetch(`${base}/api/v1/organizations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'Empty Corp',
          seeds: { domains: [], cidrs: ['127.2.0.0/24'], asns: [], names: [] },
        }),
      });
      assert.equal(created.status, 201);
      const empty = await summary('?org=Empty%20Corp');
      assert.deepEqual(empty.totals, {
        openServices: 0,
        closedServices: 0,
        ipAssets: 0,
        exposedIps: 0,
        products: 0,
        newThisWeek: 0,
      });
      assert.deepEqual(empty.byProduct, { items: [], other: { count: 0, names: 0 } });
      assert.deepEqual(empty.byProvider, []);
      assert.equal(empty.firstSeenByDay.length, 14);
      assert.ok(empty.firstSeenByDay.every((d) => d.count === 0));
    });

    it('refuses bad input with a 4xx error body', async () => {
      const unknown = await getJson(`${base}/api/v1/services/summary?org=Nobody`);
      assert.equal(unknown.status, 404);
      assert.deepEqual(unknown.body, {
        error: { code: 'not_found', message: 'no organization "Nobody"' },
      });
      const twice = await getJson(`${base}/api/v1/services/summary?org=a&org=b`);
      assert.equal(twice.status, 400);
      assert.equal((twice.body as ErrorView).error.code, 'validation_error');
      assert.match((twice.body as ErrorView).error.message, /"org" must be given once/);
      const long = await getJson(`${base}/api/v1/services/summary?org=${'x'.repeat(201)}`);
      assert.equal(long.status, 400);
      assert.equal((long.body as ErrorView).error.code, 'validation_error');
    });
  });
}
