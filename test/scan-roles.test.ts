/**
 * Scans as users run them outside one server process: shards taken by separate `surfacescan
 * worker` processes survive a worker killed mid-shard, and `surfacescan scan` runs a scan in
 * its own process with no server, with CLI errors for bad input (exit 2, nothing stored).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assertUsageError,
  cleanEnv,
  exitWithin,
  listeningUrl,
  runCli,
  startCommand,
  type ServeProcess,
} from './helpers/cli.js';
import { fixturePath, getJson, sendJson, until } from './helpers/http.js';
import { bannerListener } from './helpers/listeners.js';

const dir = mkdtempSync(join(tmpdir(), 'surfacescan-scan-roles-'));
const children: ServeProcess[] = [];
const listeners: Server[] = [];

async function listen(): Promise<number> {
  const { server, port } = await bannerListener('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
  listeners.push(server);
  return port;
}

after(() => {
  for (const child of children) child.kill();
  for (const server of listeners) server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('scan shards run by worker processes', () => {
  const env = (): NodeJS.ProcessEnv =>
    cleanEnv({
      SURFACESCAN_DATABASE_URL: `sqlite:${join(dir, 'workers.db')}`,
      SURFACESCAN_HEARTBEAT_MS: '200',
      SURFACESCAN_JOB_LEASE_MS: '1500',
      SURFACESCAN_WORKER_THREADS: '1',
    });

  it('a worker killed mid-shard loses the shard to another worker, and the scan completes', async () => {
    const port = await listen();
    const api = startCommand(
      ['serve', '--role', 'api', '--port', '0', '--cloud-env', fixturePath('input-0.json')],
      env(),
    );
    children.push(api);
    const base = await listeningUrl(api);
    const org = await sendJson('POST', `${base}/api/v1/organizations`, {
      name: 'Loopback',
      seeds: { domains: [], cidrs: ['127.0.0.1/32'], asns: [], names: [] },
    });
    assert.equal(org.status, 201);
    // About 8 s of probing at 400/s in one shard: time to kill its worker half-way.
    const low = Math.max(1, port - 1600);
    const started = await sendJson('POST', `${base}/api/v1/scans`, {
      org: 'Loopback',
      targets: ['127.0.0.1'],
      ports: `${String(low)}-${String(low + 3199)},${String(port)}`,
      rate: 400,
      parallelism: 1,
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const id = (started.body as { id: string }).id;
    const scan = async () =>
      (await getJson(`${base}/api/v1/scans/${id}`)).body as {
        state: string;
        probesDone: number;
        probesTotal: number;
        shardRestarts: number;
      };

    const doomed = startCommand(['worker'], env());
    children.push(doomed);
    await until(async () => (await scan()).probesDone > 300, 20_000, 'the first worker probing');
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const halfway = await scan();
    assert.equal(halfway.state, 'running');
    assert.ok(halfway.probesDone < halfway.probesTotal);

    const survivor = startCommand(['worker'], env());
    children.push(survivor);
    await until(async () => (await scan()).state !== 'running', 40_000, 'the scan finished');
    const done = await scan();
    assert.equal(done.state, 'completed');
    assert.equal(done.probesDone, done.probesTotal);
    assert.ok(done.shardRestarts >= 1, JSON.stringify(done));
    const services = (await getJson(`${base}/api/v1/services?port=${String(port)}`)).body as {
      items: { port: number; state: string; service?: string; product?: string }[];
    };
    assert.deepEqual(
      services.items.map((s) => [s.port, s.state, s.service, s.product]),
      [[port, 'open', 'ssh', 'OpenSSH']],
    );
    survivor.child.kill('SIGTERM');
    assert.equal((await exitWithin(survivor)).code, 0);
    api.child.kill('SIGTERM');
    assert.equal((await exitWithin(api)).code, 0);
  });
});

describe('surfacescan scan (no server)', () => {
  const env = (): NodeJS.ProcessEnv =>
    cleanEnv({ SURFACESCAN_DATABASE_URL: `sqlite:${join(dir, 'cli.db')}` });
  let port = 0;

  before(async () => {
    port = await listen();
    const created = await runCli(['org', 'add', 'Loopback', '--cidr', '127.0.0.0/8'], env());
    assert.equal(created.code, 0, created.stderr);
  });

  it('scans, prints what it found and stores it', async () => {
    const result = await runCli(
      [
        'scan',
        '--org',
        'Loopback',
        '--targets',
        '127.0.0.1',
        '--ports',
        `${String(port)},1`,
        '--rate',
        '500',
      ],
      env(),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`127\\.0\\.0\\.1:${String(port)}`));
    assert.match(result.stdout, /2 probes of 1 host\(s\).*1 open/);
    const json = await runCli(
      ['scan', '--org', 'Loopback', '--targets', '127.0.0.1', '--ports', String(port), '--json'],
      env(),
    );
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as {
      services: { port: number; service?: string; product?: string; version?: string }[];
    };
    // The listener's banner is identified by the bundled fingerprint database.
    assert.deepEqual(
      parsed.services.map((s) => [s.port, s.service, s.product, s.version]),
      [[port, 'ssh', 'OpenSSH', '9.2p1']],
    );
  });

  it('stops on SIGINT with exit 130, keeping what it found', async () => {
    // 65,535 probes at 300/s: minutes of work, interrupted after the first second.
    const scan = startCommand(
      ['scan', '--org', 'Loopback', '--targets', '127.0.0.1', '--ports', '-', '--rate', '300'],
      env(),
    );
    children.push(scan);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    scan.child.kill('SIGINT');
    const exit = await exitWithin(scan);
    assert.equal(exit.code, 130, scan.stderr());
    assert.match(scan.stderr(), /interrupted; what it found so far is stored\n$/);
  });

  it('refuses out-of-scope targets, bad ports, a rate over the cap and unknown organizations', async () => {
    const cases: [string[], string][] = [
      [
        ['--org', 'Loopback', '--targets', '192.168.1.1', '--ports', '22'],
        'outside the organization',
      ],
      [['--org', 'Loopback', '--targets', '127.0.0.1', '--ports', '1-70000'], 'outside 1-65535'],
      [['--org', 'Loopback', '--targets', '127.0.0.1', '--rate', '99999999'], 'cap'],
      [['--org', 'Loopback', '--targets', '127.0.0.1', '--rate', 'fast'], 'whole number'],
      [['--org', 'Nobody', '--targets', '127.0.0.1'], 'no organization'],
      [['--org', 'Loopback', '--targets', 'what?'], 'not an IP address'],
    ];
    for (const [args, message] of cases) {
      assertUsageError(await runCli(['scan', ...args], env()), message);
    }
    assertUsageError(
      await runCli(['org', 'add', 'Broken', '--cidr', '10.0.0.1/8'], env()),
      'not a CIDR block',
    );
    assertUsageError(await runCli(['org', 'add', 'Loopback'], env()), 'exists already');
  });
});
