/**
 * Scan imports end to end: nmap XML and masscan JSON files posted to a real server (and given to
 * the real CLI) land as services and issues, or are refused with nothing stored. Real nmap, when
 * installed, scans real loopback listeners and its output is imported. Runs on SQLite and, when
 * configured, PostgreSQL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunningServer } from '#src/http/server.js';
import { connectDatabase, type Db } from '#src/storage/database.js';
import { MAX_IMPORT_BYTES } from '#src/discovery/import-result.model.js';
import { engines, scratchSqlite, type ScratchDatabase } from './helpers/databases.js';
import { fixturePath, getJson, sendJson, startTestServer } from './helpers/http.js';
import { assertUsageError, cleanEnv, REPO_ROOT, runCli } from './helpers/cli.js';
import { freePort } from './helpers/private-engines.js';

const run = promisify(execFile);

/** A fixture of test/fixtures/imports/. */
function importFixture(name: string): string {
  return join(REPO_ROOT, 'test/fixtures/imports', name);
}

interface ImportView {
  id: string;
  orgId: string;
  format: string;
  scanner: { name: string; version: string | null; args: string | null };
  sha256: string;
  finishedAt: string | null;
  observedAt: string;
  ports: string | null;
  complete: boolean;
  hosts: number;
  services: number;
  newServices: number;
  updatedServices: number;
  closedServices: number;
  issuesOpened: number;
  importedAt: string;
  lastImportedAt: string;
  reimport?: boolean;
}

interface ServiceView {
  ip: string;
  port: number;
  state: string;
  source: string;
  service: string | null;
  lastSeen: string;
}

interface IssueView {
  policyId: string;
  port: number;
  ip: string;
  status: string;
}

interface ErrorView {
  error: { code: string; message: string };
}

/** POSTs raw bytes as a file import. */
async function postFile(
  base: string,
  query: string,
  body: string | Buffer,
  type = 'application/octet-stream',
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}/api/v1/imports?${query}`, {
    method: 'POST',
    headers: { 'content-type': type },
    body,
  });
  const answer: unknown = await response.json();
  return { status: response.status, body: answer };
}

/** Every row of the tables an import writes, sorted, without the columns a re-import may move. */
async function snapshot(db: Db, ignore: readonly string[] = []): Promise<Record<string, string[]>> {
  const tables = [
    'assets',
    'observations',
    'services',
    'issues',
    'issue_history',
    'imports',
  ] as const;
  const out: Record<string, string[]> = {};
  for (const table of tables) {
    const rows = (await db.kysely.selectFrom(table).selectAll().execute()) as Record<
      string,
      unknown
    >[];
    out[table] = rows
      .map((row) => {
        const kept = Object.fromEntries(Object.entries(row).filter(([k]) => !ignore.includes(k)));
        return JSON.stringify(kept);
      })
      .sort();
  }
  return out;
}

/** A loopback listener on `host:port` (0: any free port) that greets and hangs up. */
async function listen(host: string, port: number): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end('220 ready\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}

const nmapPresent = await run('sh', ['-c', 'command -v nmap'])
  .then(() => true)
  .catch(() => false);

for (const engine of engines()) {
  describe(`imports over HTTP on ${engine.name}`, () => {
    let scratch: ScratchDatabase;
    let server: RunningServer;
    let base: string;
    let db: Db;
    let orgId: string;

    before(async () => {
      scratch = await engine.create();
      server = await startTestServer(fixturePath('input-0.json'), { databaseUrl: scratch.url });
      base = server.url;
      db = server.platform.db;
      const created = await sendJson('POST', `${base}/api/v1/organizations`, {
        name: 'Loopback Imports',
        seeds: { domains: [], cidrs: ['127.0.0.0/8'], asns: [], names: [] },
      });
      assert.equal(created.status, 201);
      orgId = (created.body as { id: string }).id;
    });

    after(async () => {
      await server.close();
      await scratch.drop();
    });

    it('refuses malformed and truncated files with 400 naming line and column, storing nothing', async () => {
      const before = await snapshot(db);
      const cases: [string, string, RegExp][] = [
        ['nmap-truncated.xml', 'application/xml', /at line 24, column 108: nmap XML is truncated/],
        ['nmap-malformed.xml', 'text/xml', /at line 21, column 7: nmap XML is malformed/],
        ['masscan-malformed.json', 'application/json', /at line 4, column 78: masscan JSON/],
        ['masscan-truncated.json', 'text/plain', /at line 3: masscan JSON is truncated/],
      ];
      for (const [file, type, message] of cases) {
        const answer = await postFile(
          base,
          'org=Loopback%20Imports',
          readFileSync(importFixture(file)),
          type,
        );
        assert.equal(answer.status, 400, file);
        const { error } = answer.body as ErrorView;
        assert.equal(error.code, 'import_format', file);
        assert.match(error.message, message, file);
        assert.match(error.message, /nothing was imported/);
      }
      // Neither format, an empty body, and a forced format the file is not.
      for (const [query, body] of [
        ['org=Loopback%20Imports', 'hello'],
        ['org=Loopback%20Imports', ''],
        [
          'org=Loopback%20Imports&format=masscan-json',
          readFileSync(importFixture('nmap-full.xml')),
        ],
      ] as const) {
        const answer = await postFile(base, query, body);
        assert.equal(answer.status, 400, query);
        assert.equal((answer.body as ErrorView).error.code, 'import_format');
      }
      assert.deepEqual(await snapshot(db), before);
    });

    it('refuses unknown organizations, hosts outside the scope, bad types and oversized bodies', async () => {
      const before = await snapshot(db);
      const nmap = readFileSync(importFixture('nmap-full.xml'));
      const unknown = await postFile(base, 'org=Nobody', nmap);
      assert.equal(unknown.status, 404);
      assert.match((unknown.body as ErrorView).error.message, /no organization "Nobody"/);

      // ::1 is loopback, but the scope names only 127.0.0.0/8.
      const ipv6 = await postFile(
        base,
        'org=Loopback%20Imports',
        readFileSync(importFixture('nmap-ipv6.xml')),
      );
      assert.equal(ipv6.status, 403);
      assert.equal((ipv6.body as ErrorView).error.code, 'out_of_scope');
      assert.match((ipv6.body as ErrorView).error.message, /::1 \(loopback range/);

      // One in-scope host and two outside it: nothing of the file is stored.
      const mixed = JSON.stringify([
        {
          ip: '127.0.0.9',
          timestamp: '1795514500',
          ports: [{ port: 23, proto: 'tcp', status: 'open' }],
        },
        {
          ip: '10.0.0.5',
          timestamp: '1795514500',
          ports: [{ port: 23, proto: 'tcp', status: 'open' }],
        },
        {
          ip: '203.0.113.7',
          timestamp: '1795514501',
          ports: [{ port: 21, proto: 'tcp', status: 'open' }],
        },
      ]);
      const outside = await postFile(base, 'org=Loopback%20Imports', mixed, 'application/json');
      assert.equal(outside.status, 403);
      const message = (outside.body as ErrorView).error.message;
      assert.match(message, /10\.0\.0\.5 \(private range/);
      assert.match(message, /203\.0\.113\.7 \(/);
      assert.doesNotMatch(message, /127\.0\.0\.9/);

      const wrongType = await postFile(base, 'org=Loopback%20Imports', nmap, 'image/png');
      assert.equal(wrongType.status, 415);
      const missingOrg = await postFile(base, '', nmap);
      assert.equal(missingOrg.status, 400);

      // A body announced past the limit is refused from its headers, before it is read.
      const tooLarge = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`${base}/api/v1/imports?org=Loopback%20Imports`, {
          method: 'POST',
          headers: {
            'content-type': 'application/xml',
            'content-length': String(MAX_IMPORT_BYTES + 1),
          },
        });
        req.on('response', (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => {
            resolve({ status: response.statusCode ?? 0, body: text });
            req.destroy();
          });
        });
        req.on('error', reject);
        req.write('<?xml version="1.0"?>');
      });
      assert.equal(tooLarge.status, 413);
      assert.equal((JSON.parse(tooLarge.body) as ErrorView).error.code, 'payload_too_large');
      assert.deepEqual(await snapshot(db), before);
    });

    it('imports an nmap file at the scanner time with services and issues, and lists it', async () => {
      const answer = await postFile(
        base,
        'org=Loopback%20Imports',
        readFileSync(importFixture('nmap-service.xml')),
        'application/xml',
      );
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      const imported = answer.body as ImportView;
      assert.equal(imported.format, 'nmap-xml');
      assert.equal(imported.scanner.name, 'nmap');
      assert.equal(imported.scanner.version, '7.93');
      assert.equal(imported.reimport, false);
      assert.equal(imported.complete, true);
      assert.equal(imported.hosts, 1);
      assert.equal(imported.services, 6);
      assert.equal(imported.newServices, 6);
      assert.equal(imported.closedServices, 0);
      assert.ok(imported.issuesOpened >= 3, JSON.stringify(imported));
      assert.equal(imported.observedAt, imported.finishedAt);
      assert.equal(imported.observedAt, new Date(1795513805000).toISOString());

      const services = (
        (await getJson(`${base}/api/v1/services?org=${orgId}&limit=100`)).body as {
          items: ServiceView[];
        }
      ).items;
      assert.deepEqual(
        services.map((s) => s.port).sort((a, b) => a - b),
        [1883, 3306, 5432, 6379, 37627, 52537],
      );
      for (const s of services) {
        assert.equal(s.source, 'nmap');
        assert.equal(s.state, 'open');
        assert.equal(s.lastSeen, imported.observedAt);
      }
      const issues = (
        (await getJson(`${base}/api/v1/issues?org=${orgId}&limit=100`)).body as {
          items: IssueView[];
        }
      ).items;
      const policies = new Set(issues.map((i) => i.policyId));
      for (const policy of ['mysql-server', 'postgresql-server', 'redis-server']) {
        assert.ok(policies.has(policy), `${policy} in ${[...policies].join(',')}`);
      }
      assert.equal(issues.length, imported.issuesOpened);

      const list = (await getJson(`${base}/api/v1/imports?org=Loopback%20Imports`))
        .body as ImportView[];
      assert.deepEqual(
        list.map((i) => i.id),
        [imported.id],
      );
      const one = await getJson(`${base}/api/v1/imports/${imported.id}`);
      assert.equal(one.status, 200);
      assert.equal((one.body as ImportView).sha256, imported.sha256);
      assert.equal((one.body as ImportView).newServices, 6);
      assert.equal((await getJson(`${base}/api/v1/imports/nope`)).status, 404);
      assert.equal((await getJson(`${base}/api/v1/imports?org=Nobody`)).status, 404);
    });

    it('importing the same file again changes nothing but last-seen and last-imported times', async () => {
      const moving = ['last_seen', 'last_imported_at'];
      const before = await snapshot(db, moving);
      const answer = await postFile(
        base,
        `org=${orgId}`,
        readFileSync(importFixture('nmap-service.xml')),
        'text/xml',
      );
      assert.equal(answer.status, 201);
      const again = answer.body as ImportView;
      assert.equal(again.reimport, true);
      assert.equal(again.newServices, 0);
      assert.equal(again.updatedServices, 6);
      assert.equal(again.issuesOpened, 0);
      assert.equal(again.closedServices, 0);
      assert.ok(again.lastImportedAt >= again.importedAt);
      assert.deepEqual(await snapshot(db, moving), before);
      const list = (await getJson(`${base}/api/v1/imports`)).body as ImportView[];
      assert.equal(list.length, 1);
    });

    it('imports masscan JSON; an incomplete file or one without a port list closes nothing', async () => {
      // masscan-banners.json also lists ::1, which this organization's scope names.
      const dual = await sendJson('POST', `${base}/api/v1/organizations`, {
        name: 'Dual Stack',
        seeds: { domains: [], cidrs: ['127.0.0.0/8', '::1/128'], asns: [], names: [] },
      });
      assert.equal(dual.status, 201);
      for (const [file, org, complete] of [
        ['masscan-full.json', 'Loopback%20Imports', true],
        ['masscan-banners.json', 'Dual%20Stack', false],
      ] as const) {
        const answer = await postFile(
          base,
          `org=${org}&format=masscan-json`,
          readFileSync(importFixture(file)),
          'application/json',
        );
        assert.equal(answer.status, 201, JSON.stringify(answer.body));
        const imported = answer.body as ImportView;
        assert.equal(imported.format, 'masscan-json');
        assert.equal(imported.ports, null);
        assert.equal(imported.complete, complete);
        assert.equal(imported.closedServices, 0);
      }
      const dualServices = (
        (await getJson(`${base}/api/v1/services?org=Dual%20Stack&limit=100`)).body as {
          items: ServiceView[];
        }
      ).items;
      assert.ok(dualServices.some((s) => s.ip === '::1' && s.port === 4369 && s.state === 'open'));
      const closed = (await getJson(`${base}/api/v1/services?state=closed`)).body as {
        total: number;
      };
      assert.equal(closed.total, 0);
      const list = (await getJson(`${base}/api/v1/imports`)).body as ImportView[];
      assert.equal(list.length, 3);
      assert.equal(list[0]!.format, 'masscan-json', 'newest first');
    });

    it(
      'real nmap: a complete import closes what a later scan no longer finds, an older one closes nothing',
      { skip: nmapPresent ? false : 'nmap is not installed' },
      async () => {
        // An address of its own inside 127.0.0.0/8, so well-known ports are free and nmap names
        // them from its table: 21 ftp and 23 telnet (each raises an issue).
        let host = '';
        let ftp: { server: Server; port: number } | undefined;
        let telnet: { server: Server; port: number } | undefined;
        for (let attempt = 0; ftp === undefined && attempt < 20; attempt++) {
          host = `127.${String(100 + Math.floor(Math.random() * 150))}.${String(Math.floor(Math.random() * 250))}.${String(2 + Math.floor(Math.random() * 250))}`;
          try {
            ftp = await listen(host, 21);
            telnet = await listen(host, 23);
          } catch {
            if (ftp !== undefined) await close(ftp.server);
            ftp = undefined;
          }
        }
        assert.ok(ftp !== undefined && telnet !== undefined, 'no free loopback address');
        const later = await freePort();
        const ports = `21,23,${String(later)}`;
        const nmap = async (): Promise<string> =>
          (
            await run('nmap', ['-sT', '-Pn', '-n', '-p', ports, host, '-oX', '-'], {
              timeout: 60_000,
              maxBuffer: 16 * 1024 * 1024,
            })
          ).stdout;
        let added: { server: Server; port: number } | undefined;
        try {
          const first = await nmap();
          // nmap records whole seconds: the second scan must end in a later one.
          await new Promise((resolve) => setTimeout(resolve, 1100 - (Date.now() % 1000)));
          await close(telnet.server);
          added = await listen(host, later);
          const second = await nmap();

          const org = await sendJson('POST', `${base}/api/v1/organizations`, {
            name: 'Nmap Host',
            seeds: { domains: [], cidrs: [`${host}/32`], asns: [], names: [] },
          });
          assert.equal(org.status, 201);
          const id = (org.body as { id: string }).id;
          const services = async (): Promise<Map<number, ServiceView>> => {
            const page = (await getJson(`${base}/api/v1/services?org=${id}&limit=100`)).body as {
              items: ServiceView[];
            };
            return new Map(page.items.map((s) => [s.port, s]));
          };
          const issues = async (): Promise<Map<number, IssueView>> => {
            const page = (await getJson(`${base}/api/v1/issues?org=${id}&limit=100`)).body as {
              items: IssueView[];
            };
            return new Map(page.items.map((i) => [i.port, i]));
          };

          const one = await postFile(base, 'org=Nmap%20Host', first, 'application/xml');
          assert.equal(one.status, 201, JSON.stringify(one.body));
          const firstImport = one.body as ImportView;
          assert.equal(firstImport.complete, true);
          assert.equal(firstImport.ports, [21, 23, later].sort((a, b) => a - b).join(','));
          assert.equal(firstImport.services, 2);
          assert.equal(firstImport.newServices, 2);
          assert.equal(firstImport.issuesOpened, 2);
          let seen = await services();
          assert.equal(seen.get(21)?.service, 'ftp');
          assert.equal(seen.get(23)?.service, 'telnet');
          let raised = await issues();
          assert.equal(raised.get(21)?.policyId, 'ftp-server');
          assert.equal(raised.get(23)?.policyId, 'telnet-server');
          assert.equal(raised.get(23)?.status, 'active');

          const two = await postFile(base, 'org=Nmap%20Host', second, 'text/xml');
          assert.equal(two.status, 201, JSON.stringify(two.body));
          const secondImport = two.body as ImportView;
          assert.ok(secondImport.observedAt > firstImport.observedAt);
          assert.equal(secondImport.newServices, 1);
          assert.equal(secondImport.updatedServices, 1);
          assert.equal(secondImport.closedServices, 1);
          seen = await services();
          assert.equal(seen.get(23)?.state, 'closed');
          assert.equal(seen.get(21)?.state, 'open');
          assert.equal(seen.get(later)?.state, 'open');
          assert.equal(seen.get(21)?.lastSeen, secondImport.observedAt);
          raised = await issues();
          assert.equal(raised.get(23)?.status, 'inactive');
          assert.equal(raised.get(21)?.status, 'active');

          // The older file again, after the newer one: it closes nothing the newer one saw,
          // reopens nothing the newer one closed, and moves no time backwards.
          const before = await snapshot(db, ['last_imported_at']);
          const old = await postFile(base, 'org=Nmap%20Host', first, 'application/xml');
          assert.equal(old.status, 201);
          assert.equal((old.body as ImportView).reimport, true);
          assert.equal((old.body as ImportView).closedServices, 0);
          seen = await services();
          assert.equal(seen.get(later)?.state, 'open');
          assert.equal(seen.get(23)?.state, 'closed');
          assert.equal(seen.get(21)?.lastSeen, secondImport.observedAt);
          assert.equal((await issues()).get(23)?.status, 'inactive');
          assert.deepEqual(await snapshot(db, ['last_imported_at']), before);
        } finally {
          await close(ftp.server);
          if (added !== undefined) await close(added.server);
        }
      },
    );
  });
}

describe('surfacescan import (CLI)', () => {
  let scratch: ScratchDatabase;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    scratch = await scratchSqlite();
    env = cleanEnv({ SURFACESCAN_DATABASE_URL: scratch.url });
    const org = await runCli(['org', 'add', 'Cli Corp', '--cidr', '127.0.0.0/8'], env);
    assert.equal(org.code, 0, org.stderr);
  });

  after(async () => {
    await scratch.drop();
  });

  const counts = async (): Promise<{ imports: number; services: number }> => {
    const db = await connectDatabase(scratch.url);
    try {
      const one = async (table: 'imports' | 'services'): Promise<number> =>
        Number(
          (
            await db.kysely
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<number | string>().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      return { imports: await one('imports'), services: await one('services') };
    } finally {
      await db.close();
    }
  };

  it('bad input exits 2 with one paragraph naming line:column, and stores nothing', async () => {
    const truncated = await runCli(
      ['import', 'test/fixtures/imports/nmap-truncated.xml', '--org', 'Cli Corp'],
      env,
    );
    assertUsageError(
      truncated,
      'cannot import test/fixtures/imports/nmap-truncated.xml:24:108: nmap XML is truncated',
      'nothing was imported',
    );
    const malformed = await runCli(
      ['import', 'test/fixtures/imports/masscan-malformed.json', '--org', 'Cli Corp'],
      env,
    );
    assertUsageError(malformed, 'masscan-malformed.json:4:78: masscan JSON is malformed');
    assertUsageError(
      await runCli(['import', 'test/fixtures/imports/nmap-full.xml', '--org', 'Nobody'], env),
      'no organization "Nobody"',
    );
    assertUsageError(
      await runCli(['import', 'test/fixtures/imports/nmap-ipv6.xml', '--org', 'Cli Corp'], env),
      'outside the scope of Cli Corp',
      '::1',
    );
    assertUsageError(
      await runCli(['import', 'test/fixtures/imports/no-such.xml', '--org', 'Cli Corp'], env),
      'no-such.xml: no such file',
    );
    const badFormat = await runCli(
      ['import', 'test/fixtures/imports/nmap-full.xml', '--org', 'Cli Corp', '--format', 'csv'],
      env,
    );
    assert.equal(badFormat.code, 2, badFormat.stderr);
    assert.deepEqual(await counts(), { imports: 0, services: 0 });
  });

  it('imports a file with one summary line, and again as a re-import', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'surfacescan-import-'));
    const file = join(dir, 'scan.xml');
    writeFileSync(file, readFileSync(importFixture('nmap-full.xml')));
    const first = await runCli(['import', file, '--org', 'Cli Corp'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stderr, '');
    assert.match(
      first.stdout,
      /^imported .*scan\.xml \(nmap-xml, nmap\): 1 host, 4 open services \(4 new, 0 updated\), 0 closed, \d+ issues? opened; import \S+\n$/,
    );
    const again = await runCli(['import', file, '--org', 'Cli Corp', '--format', 'nmap-xml'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^re-imported .*\(0 new, 4 updated\), 0 closed, 0 issues opened/);
    assert.deepEqual(await counts(), { imports: 1, services: 4 });
  });
});
