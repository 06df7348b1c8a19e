/**
 * Scans keep the host names they were given: a real loopback HTTPS server presents a different
 * certificate and page per TLS SNI name (and a default one without SNI); an organization whose
 * seed domain resolves to 127.0.0.1 is scanned by name, and the service detail API shows each
 * name's certificate and page, the issue only one name shows stays open when the scan
 * completes, and the CLI scan of `localhost` reports localhost's certificate. SQLite, and
 * PostgreSQL when configured.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { promisify } from 'node:util';
import { AssetRepository } from '#src/assets/assets.repository.js';
import {
  defaultScanHooks,
  loadScanCapabilities,
  loadScanData,
} from '#src/discovery/discovery.wiring.js';
import { MAX_NAMES_PER_ADDRESS, ScanService } from '#src/discovery/scan.service.js';
import { AppError } from '#src/http/errors.js';
import type { RunningServer } from '#src/http/server.js';
import { connectDatabase, type Db } from '#src/storage/database.js';
import { cleanEnv, runCli } from './helpers/cli.js';
import { engines, type ScratchDatabase } from './helpers/databases.js';
import { fixturePath, getJson, sendJson, startTestServer } from './helpers/http.js';
import { listenTracked } from './helpers/listeners.js';

const run = promisify(execFile);

/** A key and certificate in PEM. */
interface KeyPair {
  readonly key: string;
  readonly cert: string;
}

/** Certificates made with the openssl CLI: a test CA, and one leaf per name. */
class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'hostnames-pki-'));
  private readonly ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  private async openssl(args: string[]): Promise<void> {
    await run('openssl', args, { cwd: this.dir });
  }

  private read(name: string): string {
    return readFileSync(join(this.dir, name), 'utf8');
  }

  async ca(): Promise<void> {
    await this.openssl([
      'req',
      '-x509',
      ...this.ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '30',
      '-subj',
      '/CN=Hostnames Test CA/O=Hostnames Test CA',
    ]);
  }

  /** A leaf for `name`, signed by the CA, or self-signed. */
  async leaf(name: string, selfSigned = false): Promise<KeyPair> {
    writeFileSync(join(this.dir, `${name}.ext`), `subjectAltName=DNS:${name}\n`);
    const subject = `/CN=${name}/O=Hostnames Test`;
    if (selfSigned) {
      await this.openssl([
        'req',
        '-x509',
        ...this.ec,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.crt`,
        '-days',
        '30',
        '-subj',
        subject,
        '-addext',
        `subjectAltName=DNS:${name}`,
      ]);
    } else {
      await this.openssl([
        'req',
        ...this.ec,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        subject,
      ]);
      await this.openssl([
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.crt`,
        '-days',
        '30',
        '-extfile',
        `${name}.ext`,
      ]);
    }
    return { key: this.read(`${name}.key`), cert: this.read(`${name}.crt`) };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** SHA-256 of a PEM certificate's DER, as the finding writes it. */
function sha256Of(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return createHash('sha256').update(der).digest('hex');
}

/**
 * An HTTPS server on 127.0.0.1 that picks its certificate by SNI (the default one without SNI
 * or for a name it does not know) and its page title by the Host header.
 */
async function virtualHosts(
  fallback: KeyPair,
  sites: ReadonlyMap<string, KeyPair>,
): Promise<{ port: number; close(): Promise<void> }> {
  const contexts = new Map<string, SecureContext>(
    [...sites].map(([name, pair]) => [name, createSecureContext(pair)]),
  );
  const server: Server = createHttpsServer(
    {
      ...fallback,
      SNICallback: (servername, done) => {
        done(null, contexts.get(servername));
      },
    },
    (request, response) => {
      const host = (request.headers.host ?? '').replace(/:\d+$/, '');
      response.writeHead(200, { server: 'nginx/1.24.0', 'content-type': 'text/html' });
      response.end(
        `<html><head><title>Site ${sites.has(host) ? host : 'default'}</title></head></html>`,
      );
    },
  );
  return listenTracked(server);
}

/** The test zone: names under the organization's seed domain, all on loopback. */
const ZONE: Record<string, string[]> = {
  'a.test.example': ['127.0.0.1'],
  'b.test.example': ['127.0.0.1'],
  ...Object.fromEntries(
    Array.from({ length: MAX_NAMES_PER_ADDRESS + 1 }, (_, i) => [
      `n${String(i)}.test.example`,
      ['127.0.0.1'],
    ]),
  ),
};

function resolveInZone(name: string): Promise<string[]> {
  const answer = ZONE[name];
  return answer === undefined ? Promise.reject(new Error('NXDOMAIN')) : Promise.resolve(answer);
}

interface Observation {
  source: string;
  data: {
    hostname?: string;
    service?: string;
    tls?: { chain: { subject: string; sha256: string; selfSigned: boolean }[] };
    http?: { title?: string };
  };
}

interface ServiceDetail {
  id: string;
  port: number;
  finding: { hostname?: string; hostnames?: string[] };
  observations: Observation[];
}

let pki: TestPki;
let certs: Record<'fallback' | 'a' | 'b' | 'localhost', KeyPair>;
let site: { port: number; close(): Promise<void> };

before(async () => {
  pki = new TestPki();
  await pki.ca();
  certs = {
    fallback: await pki.leaf('default.test.example'),
    a: await pki.leaf('a.test.example'),
    // Only b's certificate is self-signed: an issue only the name b shows.
    b: await pki.leaf('b.test.example', true),
    localhost: await pki.leaf('localhost'),
  };
  site = await virtualHosts(
    certs.fallback,
    new Map([
      ['a.test.example', certs.a],
      ['b.test.example', certs.b],
      ['localhost', certs.localhost],
    ]),
  );
});

after(async () => {
  await site.close();
  pki.remove();
});

for (const engine of engines()) {
  describe(`scans by host name on ${engine.name}`, () => {
    let scratch: ScratchDatabase;
    let server: RunningServer;
    let db: Db;
    let scans: ScanService;

    before(async () => {
      scratch = await engine.create();
      // The server migrates the database and answers the API; the scans run in this process.
      server = await startTestServer(fixturePath('input-0.json'), { databaseUrl: scratch.url });
      db = await connectDatabase(scratch.url);
      const capabilities = loadScanCapabilities(
        db,
        loadScanData({ policies: [], fingerprints: [] }),
      );
      scans = new ScanService(
        db,
        new AssetRepository(db),
        {
          ...defaultScanHooks({
            ...capabilities,
            probe: {
              connectTimeoutMs: 1000,
              readTimeoutMs: 800,
              idleMs: 200,
              totalTimeoutMs: 8000,
            },
          }),
          resolve: resolveInZone,
        },
        { maxRate: 5000, defaultRate: 1000, maxHosts: 16 },
      );
      const created = await sendJson('POST', `${server.url}/api/v1/organizations`, {
        name: 'Vhost Corp',
        seeds: { domains: ['test.example'], cidrs: ['127.0.0.0/8'], asns: [], names: [] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    });

    after(async () => {
      await db.close();
      await server.close();
      await scratch.drop();
    });

    /** Plans a scan and runs all its shards here; returns the scan as stored. */
    const scanToEnd = async (targets: string[]) => {
      const planned = await scans.plan({
        org: 'Vhost Corp',
        targets,
        ports: String(site.port),
        rate: 1000,
      });
      let completed = false;
      for (let shard = 0; shard < planned.shardCount; shard++) {
        const outcome = await scans.runShard(planned.id, shard, {
          signal: new AbortController().signal,
        });
        completed ||= outcome.scanCompleted;
        assert.equal(outcome.openFound, 1, 'one open port, however many names');
      }
      assert.ok(completed, 'the scan completed');
      return (await scans.repository.getScan(planned.id))!;
    };

    const serviceDetail = async (): Promise<ServiceDetail> => {
      const list = (await getJson(`${server.url}/api/v1/services?port=${String(site.port)}`))
        .body as { items: { id: string }[] };
      assert.equal(list.items.length, 1, 'one service per ip:port');
      return (await getJson(`${server.url}/api/v1/services/${list.items[0]!.id}`))
        .body as ServiceDetail;
    };

    it('a scan of two names stores them and the service shows each name’s certificate and page', async () => {
      const scan = await scanToEnd(['a.test.example', 'B.test.example.']);
      assert.deepEqual(scan.hosts, ['127.0.0.1']);
      assert.deepEqual(scan.names, { '127.0.0.1': ['a.test.example', 'b.test.example'] });

      const detail = await serviceDetail();
      assert.equal(detail.finding.hostname, 'a.test.example');
      assert.deepEqual(detail.finding.hostnames, ['a.test.example', 'b.test.example']);
      const byName = new Map(detail.observations.map((o) => [o.data.hostname, o.data]));
      assert.deepEqual([...byName.keys()].sort(), ['a.test.example', 'b.test.example']);
      for (const [name, pair, title] of [
        ['a.test.example', certs.a, 'Site a.test.example'],
        ['b.test.example', certs.b, 'Site b.test.example'],
      ] as const) {
        const data = byName.get(name)!;
        assert.equal(data.service, 'https', name);
        const leaf = data.tls?.chain[0];
        assert.ok(leaf !== undefined, name);
        assert.equal(leaf.subject, `CN=${name}, O=Hostnames Test`);
        assert.equal(leaf.sha256, sha256Of(pair.cert));
        assert.equal(data.http?.title, title);
      }
      assert.equal(byName.get('b.test.example')!.tls?.chain[0]?.selfSigned, true);
      assert.equal(byName.get('a.test.example')!.tls?.chain[0]?.selfSigned, false);
    });

    it('an issue only one name shows stays active when the scan completes', async () => {
      const detail = await serviceDetail();
      const issues = (await getJson(`${server.url}/api/v1/issues?limit=500`)).body as {
        items: { serviceId: string; policyId: string; status: string }[];
      };
      const mine = issues.items.filter((i) => i.serviceId === detail.id);
      assert.deepEqual(
        mine.map((i) => [i.policyId, i.status]),
        [['self-signed-tls-certificate', 'active']],
      );
    });

    it('a scan of the address itself sends no name and sees the default certificate', async () => {
      const scan = await scanToEnd(['127.0.0.1']);
      assert.deepEqual(scan.names, {});
      const detail = await serviceDetail();
      assert.equal(detail.finding.hostname, undefined);
      assert.equal(detail.finding.hostnames, undefined);
      const latest = detail.observations.at(-1)!.data;
      assert.equal(latest.hostname, undefined);
      assert.equal(latest.tls?.chain[0]?.sha256, sha256Of(certs.fallback.cert));
      assert.equal(latest.http?.title, 'Site default');
      // The earlier per-name observations are still there, beside the new one.
      assert.equal(detail.observations.length, 3);
    });

    it('refuses more names per address than the cap, storing no scan', async () => {
      const before = (await scans.repository.listScans(100)).length;
      const names = Object.keys(ZONE).filter((n) => n.startsWith('n'));
      assert.equal(names.length, MAX_NAMES_PER_ADDRESS + 1);
      await assert.rejects(
        scans.plan({ org: 'Vhost Corp', targets: names, ports: String(site.port) }),
        (e: unknown) =>
          e instanceof AppError &&
          e.status === 400 &&
          new RegExp(`more than ${String(MAX_NAMES_PER_ADDRESS)} .*127\\.0\\.0\\.1`).test(
            e.message,
          ),
      );
      assert.equal((await scans.repository.listScans(100)).length, before);
    });
  });
}

describe('surfacescan scan of a host name (CLI)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hostnames-cli-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('scans localhost by name and reports localhost’s certificate and page', async () => {
    const env = cleanEnv({ SURFACESCAN_DATABASE_URL: `sqlite:${join(dir, 'cli.db')}` });
    // localhost may resolve to ::1 as well; the scope names both loopbacks.
    const created = await runCli(
      [
        'org',
        'add',
        'Local',
        '--domain',
        'localhost',
        '--cidr',
        '127.0.0.0/8',
        '--cidr',
        '::1/128',
      ],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    const result = await runCli(
      ['scan', '--org', 'Local', '--targets', 'localhost', '--ports', String(site.port), '--json'],
      env,
    );
    assert.equal(result.code, 0, result.stderr);
    const parsed = JSON.parse(result.stdout) as {
      services: {
        ip: string;
        hostname?: string;
        tls?: { chain: { subject: string; sha256: string }[] };
        http?: { title?: string };
      }[];
    };
    const v4 = parsed.services.filter((s) => s.ip === '127.0.0.1');
    assert.equal(v4.length, 1, result.stdout);
    assert.equal(v4[0]!.hostname, 'localhost');
    const leaf = v4[0]!.tls?.chain[0];
    assert.ok(leaf !== undefined, result.stdout);
    assert.equal(leaf.subject, 'CN=localhost, O=Hostnames Test');
    assert.equal(leaf.sha256, sha256Of(certs.localhost.cert));
    assert.equal(v4[0]!.http?.title, 'Site localhost');
  });
});
