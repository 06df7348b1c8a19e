/**
 * User-supplied policies and fingerprints, as an operator uses them: `policies check|list` and
 * `fingerprints check` validate files; `--policies` / `--fingerprints` (and their variables)
 * reach serve, worker, scan and import; a custom fingerprint names a made-up product on a real
 * loopback listener and a custom policy raises an issue on it; a bad file (invalid regex,
 * unknown field, bad priority, duplicate id) stops every command with exit 2 and one paragraph
 * naming the file, the entry and the problem, before anything is stored or anything listens.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  REPO_ROOT,
  assertUsageError,
  cleanEnv,
  escapeRegExp as escape,
  exitWithin,
  listeningUrl,
  runCli,
  startCommand,
  startServe,
  type ServeProcess,
} from './helpers/cli.js';
import { fixturePath, getJson } from './helpers/http.js';
import { bannerListener } from './helpers/listeners.js';
import { freePort } from './helpers/private-engines.js';

const dir = mkdtempSync(join(tmpdir(), 'surfacescan-custom-data-'));
const children: ServeProcess[] = [];
const listeners: Server[] = [];

after(() => {
  for (const child of children) child.kill();
  for (const server of listeners) server.close();
  rmSync(dir, { recursive: true, force: true });
});

let fileCount = 0;
/** Writes a JSON document (or raw text) to a fresh file in the test directory. */
function file(content: unknown): string {
  fileCount += 1;
  const path = join(dir, `file-${String(fileCount)}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

/** A loopback service that greets every connection with `banner`. */
async function listen(banner: string): Promise<number> {
  const { server, port } = await bannerListener(banner);
  listeners.push(server);
  return port;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

const ACME_FINGERPRINTS = {
  $comment: 'A made-up product, recognised from its greeting.',
  fingerprints: [
    {
      probe: 'null',
      pattern: '^ACME-Widget (\\d+(?:\\.\\d+)+)',
      service: 'acme-widget',
      product: 'ACME-Widget',
      version: '$1',
      cpe: 'cpe:2.3:a:acme:widget:$1:*:*:*:*:*:*:*',
    },
  ],
};

const ACME_POLICIES = {
  policies: [
    {
      id: 'acme-widget-exposed',
      name: 'ACME Widget Console',
      priority: 'critical',
      match: { product: '^ACME-Widget$', version: { lt: '4.0' } },
      titleVersion: true,
      remediation: 'Upgrade the ACME Widget to 4.0 and keep its console off the internet.',
    },
    {
      // Re-prioritises a bundled policy by id.
      id: 'ssh-server',
      name: 'SSH Server',
      priority: 'high',
      match: { service: '^ssh$' },
      remediation: 'Only the bastion may expose SSH.',
    },
  ],
};

const basePolicy = {
  id: 'custom-1',
  name: 'Custom',
  priority: 'low',
  match: { service: '^custom$' },
  remediation: 'Fix it.',
};

/** Bad files, what the message must name, and what kind of file they are. */
const BAD_FILES: {
  what: string;
  kind: 'policies' | 'fingerprints';
  doc: unknown;
  says: string[];
}[] = [
  {
    what: 'a policy with an invalid regex',
    kind: 'policies',
    doc: { policies: [{ ...basePolicy, match: { banner: 'ACME-(Widget' } }] },
    says: [
      'policy "custom-1"',
      'match.banner is not a valid regular expression',
      'Unterminated group',
    ],
  },
  {
    what: 'a policy with an unknown field',
    kind: 'policies',
    doc: { policies: [{ ...basePolicy, severity: 'high' }] },
    says: ['policy "custom-1"', 'unknown field "severity"'],
  },
  {
    what: 'a policy with a bad priority',
    kind: 'policies',
    doc: { policies: [{ ...basePolicy, priority: 'urgent' }] },
    says: ['policy "custom-1"', 'priority must be one of critical, high, medium, low', '"urgent"'],
  },
  {
    what: 'a policy id used twice',
    kind: 'policies',
    doc: { policies: [basePolicy, { ...basePolicy, name: 'Again' }] },
    says: ['policy "custom-1"', 'the id is used twice', 'policies[0] and policies[1]'],
  },
  {
    what: 'a fingerprint with an invalid regex',
    kind: 'fingerprints',
    doc: { fingerprints: [{ probe: 'null', pattern: 'ACME-(Widget', service: 'acme' }] },
    says: ['fingerprints[0]', 'invalid regex', 'Unterminated group'],
  },
  {
    what: 'a fingerprint with an unknown field',
    kind: 'fingerprints',
    doc: {
      fingerprints: [
        ACME_FINGERPRINTS.fingerprints[0],
        { probe: 'null', pattern: 'x', service: 'acme', vendor: 'ACME' },
      ],
    },
    says: ['fingerprints[1]', 'unknown field "vendor"'],
  },
  {
    what: 'a probe that redefines a bundled one',
    kind: 'fingerprints',
    doc: { probes: [{ name: 'http', send: 'GET / HTTP/1.0\r\n\r\n' }] },
    says: ['probes[0]', 'probe "http" is defined twice'],
  },
];

describe('policies check, policies list and fingerprints check', () => {
  it('prints what valid files define, with the bundled ids they override', async () => {
    const policies = file(ACME_POLICIES);
    const checked = await runCli(['policies', 'check', policies]);
    assert.equal(checked.code, 0, checked.stderr);
    assert.equal(
      checked.stdout,
      `${policies}: 2 policies (acme-widget-exposed, ssh-server); overrides bundled: ssh-server\n` +
        `ok: ${String((await bundledPolicyCount()) + 1)} policies in effect\n`,
    );

    const fingerprints = file({
      ...ACME_FINGERPRINTS,
      portHints: { '22': ['ssh'], '7777': ['null'] },
    });
    const fp = await runCli(['fingerprints', 'check', fingerprints]);
    assert.equal(fp.code, 0, fp.stderr);
    assert.match(
      fp.stdout,
      new RegExp(
        `^${escape(fingerprints)}: 0 probes, 1 rule \\(tried before the bundled ones\\), 2 port hints; overrides bundled hints for port 22\\nok: \\d+ rules in effect\\n$`,
      ),
    );

    // list: the effective set, from the flag or the variable; the override wins.
    const listed = await runCli(['policies', 'list', '--policies', policies]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID +PRIORITY +NAME\n/);
    assert.match(listed.stdout, /\nacme-widget-exposed +critical +ACME Widget Console\n/);
    assert.match(listed.stdout, /\nssh-server +high +SSH Server\n/);
    const viaEnv = await runCli(['policies', 'list'], cleanEnv({ SURFACESCAN_POLICIES: policies }));
    assert.equal(viaEnv.stdout, listed.stdout);
    const plain = await runCli(['policies', 'list']);
    assert.doesNotMatch(plain.stdout, /acme-widget-exposed/);
    assert.match(plain.stdout, /\nssh-server +\w+ +SSH Server\n/);
    assert.doesNotMatch(plain.stdout, /\nssh-server +high /);
  });

  it('refuses bad files with exit 2 naming the file, the entry and the problem', async () => {
    for (const bad of BAD_FILES) {
      const path = file(bad.doc);
      const result = await runCli([bad.kind, 'check', path]);
      assertUsageError(result, path, ...bad.says);
    }
    const broken = file('{"policies": [');
    assertUsageError(await runCli(['policies', 'check', broken]), broken, 'not valid JSON');
    assertUsageError(
      await runCli(['fingerprints', 'check', join(dir, 'missing.json')]),
      join(dir, 'missing.json'),
      'cannot be read (ENOENT)',
    );
    // Every file is checked, not only the first.
    const good = file(ACME_POLICIES);
    const second = file(BAD_FILES[0]!.doc);
    assertUsageError(await runCli(['policies', 'check', good, second]), second);
  });
});

describe('bad files stop serve, worker, scan and import before anything is stored', () => {
  const database = join(dir, 'refused.db');
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
    cleanEnv({ SURFACESCAN_DATABASE_URL: `sqlite:${database}`, ...extra });

  it('serve with a bad --policies file exits 2 with the message, and nothing listens', async () => {
    const port = await freePort();
    const bad = file(BAD_FILES[0]!.doc);
    const server = startServe(
      ['--port', String(port), '--cloud-env', fixturePath('input-0.json'), '--policies', bad],
      env(),
    );
    children.push(server);
    const exit = await exitWithin(server);
    assert.equal(exit.code, 2, server.stderr());
    assert.match(
      server.stderr(),
      new RegExp(
        `^surfacescan: ${escape(bad)}: policy "custom-1": match\\.banner is not a valid regular expression: .+\\n$`,
      ),
    );
    assert.equal(await accepts(port), false);
    assert.ok(!server.logs.some((r) => r.msg === 'surfacescan listening'));
    // Policies are read before the database is opened: not even the file was created.
    assert.equal(existsSync(database), false);
  });

  it('serve and worker refuse bad fingerprint files from the variable too', async () => {
    const bad = file(BAD_FILES[4]!.doc);
    const port = await freePort();
    const server = startServe(
      ['--port', String(port), '--cloud-env', fixturePath('input-0.json')],
      env({ SURFACESCAN_FINGERPRINTS: bad }),
    );
    children.push(server);
    assert.equal((await exitWithin(server)).code, 2, server.stderr());
    assert.match(
      server.stderr(),
      new RegExp(
        `^surfacescan: fingerprint file ${escape(bad)}: fingerprints\\[0\\]: invalid regex`,
      ),
    );
    assert.equal(await accepts(port), false);
    // Fingerprints too are read before the database is opened.
    assert.equal(existsSync(database), false);
    const worker = startCommand(['worker', '--policies', file(BAD_FILES[2]!.doc)], env());
    children.push(worker);
    assert.equal((await exitWithin(worker)).code, 2);
    assert.match(worker.stderr(), /^surfacescan: .*policy "custom-1": priority must be one of/);
  });

  it('scan and import refuse every kind of bad file, and store no scan, service or issue', async () => {
    const created = await runCli(['org', 'add', 'Loopback', '--cidr', '127.0.0.0/8'], env());
    assert.equal(created.code, 0, created.stderr);
    const port = await listen('ACME-Widget 3.1 ready\r\n');
    const nmap = join(REPO_ROOT, 'test/fixtures/imports/nmap-service.xml');
    for (const bad of BAD_FILES) {
      const path = file(bad.doc);
      const flag = `--${bad.kind}`;
      const scan = await runCli(
        [
          'scan',
          '--org',
          'Loopback',
          '--targets',
          '127.0.0.1',
          '--ports',
          String(port),
          flag,
          path,
          '--no-progress',
        ],
        env(),
      );
      assertUsageError(scan, path, ...bad.says);
      assertUsageError(
        await runCli(['import', nmap, '--org', 'Loopback', flag, path], env()),
        path,
        ...bad.says,
      );
    }
    const server = startServe(
      ['--port', '0', '--role', 'api', '--cloud-env', fixturePath('input-0.json')],
      env(),
    );
    children.push(server);
    const base = await listeningUrl(server);
    assert.deepEqual((await getJson(`${base}/api/v1/scans`)).body, []);
    const services = (await getJson(`${base}/api/v1/services`)).body as { items: unknown[] };
    assert.deepEqual(services.items, []);
    const issues = (await getJson(`${base}/api/v1/issues`)).body as { items: unknown[] };
    assert.deepEqual(issues.items, []);
    server.child.kill('SIGTERM');
    assert.equal((await exitWithin(server)).code, 0);
  });
});

describe('custom files in a real scan of a loopback listener', () => {
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
    cleanEnv({ SURFACESCAN_DATABASE_URL: `sqlite:${join(dir, 'scans.db')}`, ...extra });
  let port = 0;

  before(async () => {
    port = await listen('ACME-Widget 3.1 ready\r\n');
    const created = await runCli(['org', 'add', 'Loopback', '--cidr', '127.0.0.0/8'], env());
    assert.equal(created.code, 0, created.stderr);
  });

  const scan = (...extra: string[]) =>
    runCli(
      [
        'scan',
        '--org',
        'Loopback',
        '--targets',
        '127.0.0.1',
        '--ports',
        String(port),
        '--json',
        '--no-progress',
        ...extra,
      ],
      env(),
    );
  type Scanned = {
    services: {
      port: number;
      service?: string;
      product?: string;
      version?: string;
      cpe?: string[];
    }[];
  };

  it('a custom fingerprint names the made-up product the bundled database does not know', async () => {
    const without = await scan();
    assert.equal(without.code, 0, without.stderr);
    const unknown = (JSON.parse(without.stdout) as Scanned).services;
    assert.equal(unknown.length, 1);
    assert.equal(unknown[0]!.product, undefined);

    const result = await scan('--fingerprints', file(ACME_FINGERPRINTS));
    assert.equal(result.code, 0, result.stderr);
    const services = (JSON.parse(result.stdout) as Scanned).services;
    assert.deepEqual(
      services.map((s) => [s.port, s.service, s.product, s.version, s.cpe]),
      [[port, 'acme-widget', 'ACME-Widget', '3.1', ['cpe:2.3:a:acme:widget:3.1:*:*:*:*:*:*:*']]],
    );
  });

  it('a custom policy raises its issue on the custom service, and the API lists the policy', async () => {
    const policies = file(ACME_POLICIES);
    const fingerprints = file(ACME_FINGERPRINTS);
    // From the variables this time: the same settings as the flags.
    const result = await runCli(
      [
        'scan',
        '--org',
        'Loopback',
        '--targets',
        '127.0.0.1',
        '--ports',
        String(port),
        '--no-progress',
      ],
      env({ SURFACESCAN_POLICIES: policies, SURFACESCAN_FINGERPRINTS: fingerprints }),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /ACME-Widget 3\.1/);

    const server = startServe(
      [
        '--port',
        '0',
        '--role',
        'api',
        '--cloud-env',
        fixturePath('input-0.json'),
        '--policies',
        policies,
      ],
      env(),
    );
    children.push(server);
    const base = await listeningUrl(server);
    const list = (await getJson(`${base}/api/v1/issues?q=ACME`)).body as {
      items: {
        id: string;
        title: string;
        policyId: string;
        priority: string;
        status: string;
        port: number;
      }[];
    };
    assert.deepEqual(
      list.items.map((i) => [i.policyId, i.title, i.priority, i.status, i.port]),
      [
        [
          'acme-widget-exposed',
          `ACME Widget Console (3.1) at 127.0.0.1:${String(port)}`,
          'critical',
          'active',
          port,
        ],
      ],
    );
    const detail = (await getJson(`${base}/api/v1/issues/${list.items[0]!.id}`)).body as {
      evidence: Record<string, unknown>;
      remediation: string;
    };
    assert.deepEqual(detail.evidence, { product: 'ACME-Widget', version: '3.1' });
    assert.match(detail.remediation, /Upgrade the ACME Widget to 4\.0/);

    const policiesAnswer = await getJson(`${base}/api/v1/policies`);
    assert.equal(policiesAnswer.status, 200);
    const all = policiesAnswer.body as {
      id: string;
      priority: string;
      match: unknown[];
      remediation: string;
    }[];
    assert.deepEqual(
      all.find((p) => p.id === 'acme-widget-exposed'),
      {
        id: 'acme-widget-exposed',
        name: 'ACME Widget Console',
        priority: 'critical',
        remediation: 'Upgrade the ACME Widget to 4.0 and keep its console off the internet.',
        match: [{ product: '^ACME-Widget$', version: [{ lt: '4.0' }] }],
        unless: [],
        titleVersion: true,
        references: [],
      },
    );
    assert.equal(all.find((p) => p.id === 'ssh-server')?.priority, 'high');
    assert.equal(new Set(all.map((p) => p.id)).size, all.length);
    server.child.kill('SIGTERM');
    assert.equal((await exitWithin(server)).code, 0);
  });
});

/** The number of bundled policies, as `policies list` prints them. */
async function bundledPolicyCount(): Promise<number> {
  const listed = await runCli(['policies', 'list']);
  return listed.stdout.trim().split('\n').length - 1;
}
