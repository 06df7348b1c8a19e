/**
 * GET /api/v1/services/summary on a seeded inventory: SERVICES services (default 100,000, ten
 * ports on each of SERVICES / 10 addresses, 40 products, 6 providers, first seen over 30 days,
 * 10% closed, two organizations) recorded through the discovery repository, then the summary
 * asked over HTTP of a real server, for all organizations and for one. Prints a Markdown table.
 * Run: node dist/bench/inventory-summary.bench.js [postgres://... (an empty database)].
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssetRepository } from '#src/assets/assets.repository.js';
import { loadConfig } from '#src/config/config.js';
import { DiscoveryRepository } from '#src/discovery/discovery.repository.js';
import type { ServiceFinding } from '#src/discovery/discovery.model.js';
import { startServer } from '#src/http/server.js';
import { connectDatabase } from '#src/storage/database.js';
import { migrateDatabase } from '#src/storage/migrations.js';
import { median, ms, int, wholeNumber } from './common.js';

const SERVICES = wholeNumber('SERVICES', 100_000, 10);
const RUNS = wholeNumber('RUNS', 7, 1);
const PROVIDERS = ['AWS', 'GCP', 'Azure', 'Hetzner', 'OVH', 'On Prem'];
const PORTS = [22, 80, 443, 3306, 5432, 6379, 8080, 8443, 21, 25];
const DAY = 86_400_000;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'surfacescan-summary-bench-'));
  const url = process.argv[2] ?? `sqlite:${join(dir, 'bench.db')}`;
  try {
    await migrateDatabase(url);
    const db = await connectDatabase(url);
    const assets = new AssetRepository(db);
    const now = Date.now();
    const orgs = [
      await assets.createOrganization(
        'Bench A',
        { domains: [], cidrs: ['10.0.0.0/9'], asns: [], names: [] },
        now,
      ),
      await assets.createOrganization(
        'Bench B',
        { domains: [], cidrs: ['10.128.0.0/9'], asns: [], names: [] },
        now,
      ),
    ];
    const repository = new DiscoveryRepository(db, assets);
    const began = performance.now();
    const hosts = Math.ceil(SERVICES / PORTS.length);
    const batch = 200; // hosts per transaction
    for (let h0 = 0; h0 < hosts; h0 += batch) {
      const org = h0 < hosts / 2 ? orgs[0]! : orgs[1]!;
      const findings: ServiceFinding[] = [];
      for (let h = h0; h < Math.min(hosts, h0 + batch); h++) {
        const base = org === orgs[0] ? 0 : 128 << 16;
        const n = base + h;
        const ip = `10.${String((n >> 16) & 255)}.${String((n >> 8) & 255)}.${String(n & 255)}`;
        for (const [k, port] of PORTS.entries()) {
          if (h * PORTS.length + k >= SERVICES) break;
          const p = (h * 7 + k * 13) % 40;
          findings.push({
            ip,
            port,
            protocol: 'tcp',
            service: `svc${String(p % 12)}`,
            ...(p % 9 === 0 ? {} : { product: `Product ${String(p)}` }),
          });
        }
      }
      await db.kysely.transaction().execute((trx) =>
        repository.recordFindings(trx, {
          orgId: org.id,
          findings,
          source: 'scan',
          observedAt: now - ((h0 / batch) % 30) * DAY,
          runId: `bench-${String(h0)}`,
          providerOf: (ip) => PROVIDERS[Number(ip.split('.')[3]) % PROVIDERS.length]!,
        }),
      );
    }
    // A tenth of them closed, as a later complete scan would leave them.
    await db.kysely
      .updateTable('services')
      .set({ state: 'closed' })
      .where('port', '=', 21)
      .execute();
    const seeded = performance.now() - began;
    const count = await db.kysely
      .selectFrom('services')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    await db.close();

    const server = await startServer(
      loadConfig(
        {
          cloudEnv: new URL('../../test/fixtures/cloud/input-0.json', import.meta.url).pathname,
          port: '0',
          host: '127.0.0.1',
          logLevel: 'silent',
          databaseUrl: url,
          workerThreads: '1',
        },
        {},
      ),
    );
    try {
      console.log(
        `${url.startsWith('sqlite') ? 'SQLite' : 'PostgreSQL'}: ${int(Number(count.n))} services seeded in ${ms(seeded)} ms\n`,
      );
      console.log('| query | median ms | min ms | open services |');
      console.log('|---|---:|---:|---:|');
      for (const [name, query] of [
        ['all organizations', ''],
        ['one organization', '?org=Bench%20A'],
      ] as const) {
        const times: number[] = [];
        let open = 0;
        for (let i = 0; i < RUNS; i++) {
          const t = performance.now();
          const response = await fetch(`${server.url}/api/v1/services/summary${query}`);
          const body = (await response.json()) as { totals: { openServices: number } };
          times.push(performance.now() - t);
          if (response.status !== 200) throw new Error(JSON.stringify(body));
          open = body.totals.openServices;
        }
        console.log(
          `| ${name} | ${ms(median(times))} | ${ms(Math.min(...times))} | ${int(open)} |`,
        );
      }
    } finally {
      await server.close();
    }
  } finally {
    if (process.env.KEEP_DB === undefined) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  }
}

await main();
