/**
 * Discovery over HTTP on a real server: organizations with seeds, scans run by the server's own
 * workers against real loopback listeners, services stored (and closed when a later complete
 * scan no longer finds them), and bad input refused with nothing stored. Runs on SQLite and,
 * when configured, PostgreSQL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:net';
import type { RunningServer } from '#src/http/server.js';
import { engines, type ScratchDatabase } from './helpers/databases.js';
import { fixturePath, getJson, sendJson, startTestServer, until } from './helpers/http.js';
import { bannerListener } from './helpers/listeners.js';

interface ScanView {
  id: string;
  state: string;
  probesTotal: number;
  probesDone: number;
  openFound: number;
  shards: number;
  shardsDone: number;
}

interface ServiceView {
  id: string;
  ip: string;
  port: number;
  state: string;
  orgId: string;
  firstSeen: string;
  lastSeen: string;
}

/** A loopback listener that greets like a tiny FTP server. */
const listener = () => bannerListener('220 test ready\r\n');

for (const engine of engines()) {
  describe(`discovery over HTTP on ${engine.name}`, () => {
    let scratch: ScratchDatabase;
    let server: RunningServer;
    let base: string;
    const listeners: { server: Server; port: number }[] = [];

    before(async () => {
      scratch = await engine.create();
      server = await startTestServer(fixturePath('input-0.json'), {
        databaseUrl: scratch.url,
        scanMaxRate: '20000',
      });
      base = server.url;
      for (let i = 0; i < 3; i++) listeners.push(await listener());
    });

    after(async () => {
      for (const l of listeners) l.server.close();
      await server.close();
      await scratch.drop();
    });

    const scanToEnd = async (body: Record<string, unknown>): Promise<ScanView> => {
      const started = await sendJson('POST', `${base}/api/v1/scans`, body);
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const id = (started.body as ScanView).id;
      let view: ScanView | undefined;
      await until(
        async () => {
          view = (await getJson(`${base}/api/v1/scans/${id}`)).body as ScanView;
          return view.state !== 'running';
        },
        30_000,
        'scan finished',
      );
      return view!;
    };

    it('creates an organization and refuses seeds that are not CIDRs or domains', async () => {
      const created = await sendJson('POST', `${base}/api/v1/organizations`, {
        name: 'Loopback Corp',
        seeds: { domains: ['localhost'], cidrs: ['127.0.0.0/8'], asns: [], names: [] },
      });
      assert.equal(created.status, 201);
      const again = await sendJson('POST', `${base}/api/v1/organizations`, {
        name: 'Loopback Corp',
        seeds: { domains: [], cidrs: [], asns: [], names: [] },
      });
      assert.equal(again.status, 409);
      const bad = await sendJson('POST', `${base}/api/v1/organizations`, {
        name: 'Bad Seeds',
        seeds: { domains: ['not a domain'], cidrs: ['10.0.0.1/8'], asns: [], names: [] },
      });
      assert.equal(bad.status, 400);
      assert.match(JSON.stringify(bad.body), /10\.0\.0\.1\/8/);
      const list = (await getJson(`${base}/api/v1/organizations`)).body as { name: string }[];
      assert.deepEqual(
        list.map((o) => o.name),
        ['Loopback Corp'],
      );
    });

    it('refuses bad scans with a clear 4xx and stores nothing', async () => {
      const cases: [Record<string, unknown>, number, RegExp][] = [
        [{ org: 'Loopback Corp', targets: ['10.1.2.3'], ports: '22' }, 403, /outside/],
        [{ org: 'Loopback Corp', targets: ['0.0.0.0/0'], ports: '22' }, 400, /more than/],
        [
          { org: 'Loopback Corp', targets: ['example.org'], ports: '22' },
          403,
          /not under any domain/,
        ],
        [{ org: 'Loopback Corp', targets: ['127.0.0.1/33'], ports: '22' }, 400, /CIDR/],
        [{ org: 'Loopback Corp', targets: ['no such thing!'], ports: '22' }, 400, /not an IP/],
        [{ org: 'Loopback Corp', targets: ['127.0.0.1'], ports: '70000' }, 400, /outside 1-65535/],
        [{ org: 'Loopback Corp', targets: ['127.0.0.1'], ports: 'ssh' }, 400, /not a port/],
        [{ org: 'Loopback Corp', targets: ['127.0.0.1'], ports: '22', rate: 50_000 }, 400, /cap/],
        [{ org: 'Nobody', targets: ['127.0.0.1'], ports: '22' }, 404, /organization/],
      ];
      for (const [body, status, message] of cases) {
        const answer = await sendJson('POST', `${base}/api/v1/scans`, body);
        assert.equal(answer.status, status, JSON.stringify(body));
        assert.match((answer.body as { error: { message: string } }).error.message, message);
      }
      const scans = (await getJson(`${base}/api/v1/scans`)).body as unknown[];
      assert.equal(scans.length, 0);
    });

    it('a scan run by the workers finds exactly the open loopback ports and stores them', async () => {
      const ports = listeners.map((l) => l.port);
      const low = Math.min(...ports) - 20;
      const spec = `${String(low)}-${String(low + 40)},${ports.join(',')}`;
      const scan = await scanToEnd({
        org: 'Loopback Corp',
        targets: ['127.0.0.1'],
        ports: spec,
        rate: 5000,
      });
      assert.equal(scan.state, 'completed');
      assert.equal(scan.probesDone, scan.probesTotal);
      const page = (await getJson(`${base}/api/v1/services?org=Loopback%20Corp&limit=500`))
        .body as { items: ServiceView[]; total: number };
      const found = page.items.filter((s) => s.state === 'open').map((s) => s.port);
      // Only ports in the scanned list count (other services of this machine may be open too).
      for (const p of ports) assert.ok(found.includes(p), `port ${String(p)} found`);
      const service = page.items.find((s) => s.port === ports[0])!;
      const detail = (await getJson(`${base}/api/v1/services/${service.id}`)).body as {
        observations: unknown[];
        ip: string;
      };
      assert.equal(detail.ip, '127.0.0.1');
      assert.equal(detail.observations.length, 1);
    });

    it('a service no longer found by a later complete scan is closed; found again, it is open', async () => {
      const gone = listeners[0]!;
      await new Promise<void>((resolve) => {
        gone.server.close(() => {
          resolve();
        });
      });
      const ports = listeners.map((l) => l.port).join(',');
      await scanToEnd({ org: 'Loopback Corp', targets: ['127.0.0.1'], ports, rate: 5000 });
      const services = async (): Promise<ServiceView[]> =>
        ((await getJson(`${base}/api/v1/services?limit=500`)).body as { items: ServiceView[] })
          .items;
      const closed = (await services()).find((s) => s.port === gone.port)!;
      assert.equal(closed.state, 'closed');
      assert.ok(
        (await services())
          .filter((s) => listeners.slice(1).some((l) => l.port === s.port))
          .every((s) => s.state === 'open'),
      );
      await new Promise<void>((resolve) => gone.server.listen(gone.port, '127.0.0.1', resolve));
      await scanToEnd({ org: 'Loopback Corp', targets: ['127.0.0.1'], ports, rate: 5000 });
      const back = (await services()).find((s) => s.port === gone.port)!;
      assert.equal(back.state, 'open');
      assert.equal(back.firstSeen, closed.firstSeen);
      assert.ok(back.lastSeen > closed.lastSeen);
    });

    it('pages services with a cursor and rejects a forged cursor', async () => {
      const first = (await getJson(`${base}/api/v1/services?limit=1`)).body as {
        items: ServiceView[];
        nextCursor: string | null;
        total: number;
      };
      assert.equal(first.items.length, 1);
      assert.ok(first.total >= 3);
      const seen = new Set(first.items.map((s) => s.id));
      let cursor = first.nextCursor;
      while (cursor !== null) {
        const page = (await getJson(`${base}/api/v1/services?limit=1&cursor=${cursor}`)).body as {
          items: ServiceView[];
          nextCursor: string | null;
        };
        for (const s of page.items) {
          assert.ok(!seen.has(s.id), 'no duplicates');
          seen.add(s.id);
        }
        cursor = page.nextCursor;
      }
      assert.equal(seen.size, first.total);
      const forged = await getJson(`${base}/api/v1/services?cursor=abc`);
      assert.equal(forged.status, 400);
    });

    it('lists the inventory and shows an ip asset with its services and history', async () => {
      const ips = (await getJson(`${base}/api/v1/assets?kind=ip&q=127.0.0.1`)).body as {
        items: { id: string; key: string; kind: string }[];
        total: number;
      };
      assert.equal(ips.total, 1);
      const ip = ips.items[0]!;
      assert.equal(ip.key, '127.0.0.1');
      const detail = (await getJson(`${base}/api/v1/assets/${ip.id}`)).body as {
        services: { port: number }[];
      };
      for (const l of listeners) assert.ok(detail.services.some((s) => s.port === l.port));
      const wild = (await getJson(`${base}/api/v1/assets?q=%25_`)).body as { total: number };
      assert.equal(wild.total, 0, 'LIKE wildcards in q are literal');
      assert.equal((await getJson(`${base}/api/v1/assets/nope`)).status, 404);
      assert.equal((await getJson(`${base}/api/v1/assets?kind=planet`)).status, 400);
    });
  });
}
