/**
 * `npm start`'s example exposure data (serve --example-data): loaded through the import path
 * into a database without organizations, once, and never into a database that has its own.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { engines, type ScratchDatabase } from './helpers/databases.js';
import { fixturePath, getJson, sendJson, startTestServer } from './helpers/http.js';

interface Summary {
  byPriority: Record<string, number>;
  byStatus: Record<string, number>;
}

const sqlite = engines()[0]!;

describe('serve --example-data', () => {
  const scratches: ScratchDatabase[] = [];
  after(async () => {
    for (const s of scratches) await s.drop();
  });
  const scratch = async (): Promise<ScratchDatabase> => {
    const s = await sqlite.create();
    scratches.push(s);
    return s;
  };
  const serve = (url: string, exampleData: string) =>
    startTestServer(fixturePath('input-0.json'), { databaseUrl: url, exampleData });

  it('fills an empty database with Example Corp, its services and issues, once', async () => {
    const db = await scratch();
    let server = await serve(db.url, 'true');
    let summary: Summary;
    try {
      const orgs = (await getJson(`${server.url}/api/v1/organizations`)).body as {
        name: string;
      }[];
      assert.deepEqual(
        orgs.map((o) => o.name),
        ['Example Corp'],
      );
      summary = (await getJson(`${server.url}/api/v1/issues/summary`)).body as Summary;
      const total = Object.values(summary.byStatus).reduce((a, b) => a + b, 0);
      assert.ok(total >= 50, `issues: ${JSON.stringify(summary)}`);
      assert.ok((summary.byPriority.high ?? 0) > 0);
      const services = (await getJson(`${server.url}/api/v1/services?limit=1`)).body as {
        total: number;
      };
      assert.equal(services.total, 124);
      const telnet = (await getJson(`${server.url}/api/v1/issues?q=telnet&limit=1`)).body as {
        items: { title: string; provider: string }[];
      };
      assert.match(telnet.items[0]!.title, /^Telnet Server at (203\.0\.113|198\.51\.100)\.\d+:23$/);
      // Organizations are named by id or name in every filter; an unknown one is a 404.
      const byName = (await getJson(`${server.url}/api/v1/issues/summary?org=Example%20Corp`))
        .body as Summary;
      assert.deepEqual(byName, summary);
      const unknown = await getJson(`${server.url}/api/v1/issues?org=Nobody`);
      assert.equal(unknown.status, 404);
    } finally {
      await server.close();
    }
    // A second start finds an organization and loads nothing again.
    server = await serve(db.url, 'true');
    try {
      const again = (await getJson(`${server.url}/api/v1/issues/summary`)).body as Summary;
      assert.deepEqual(again, summary);
    } finally {
      await server.close();
    }
  });

  it('leaves a database with its own organization alone, and is off by default', async () => {
    const db = await scratch();
    let server = await serve(db.url, 'false');
    try {
      assert.deepEqual((await getJson(`${server.url}/api/v1/organizations`)).body, []);
      const created = await sendJson('POST', `${server.url}/api/v1/organizations`, {
        name: 'Mine',
        seeds: { domains: [], cidrs: ['192.0.2.0/24'], asns: [], names: [] },
      });
      assert.equal(created.status, 201);
    } finally {
      await server.close();
    }
    server = await serve(db.url, 'true');
    try {
      const orgs = (await getJson(`${server.url}/api/v1/organizations`)).body as {
        name: string;
      }[];
      assert.deepEqual(
        orgs.map((o) => o.name),
        ['Mine'],
      );
      const services = (await getJson(`${server.url}/api/v1/services?limit=1`)).body as {
        total: number;
      };
      assert.equal(services.total, 0);
    } finally {
      await server.close();
    }
  });
});
