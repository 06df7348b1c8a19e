/**
 * The daemon harness the scanner's integration tests stand on: every kind starts as a private
 * instance on 127.0.0.1, greets a real client in its own protocol, closes its port on stop()
 * and answers on the same port again after start(); nothing outlives the test process.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { nmapServiceDetect, nmapVersion } from '../bench/scan-nmap.js';
import {
  closeAll,
  DAEMON_KINDS,
  type Daemon,
  type DaemonKind,
  missingBinaries,
  startDaemonOrSkip,
  startDaemons,
} from './helpers/daemons.js';

const run = promisify(execFile);

/**
 * Connects to 127.0.0.1:port, sends `hello` (if any) and returns what arrived within `ms` of
 * the last chunk (latin1, so binary greetings survive); rejects when the connection fails.
 */
function greet(port: number, hello?: Buffer | string, ms = 300): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    let quiet: NodeJS.Timeout | undefined;
    const finish = (): void => {
      socket.destroy();
      resolve(received);
    };
    socket.setTimeout(5000, finish);
    socket.once('connect', () => {
      if (hello !== undefined) socket.write(hello);
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      clearTimeout(quiet);
      quiet = setTimeout(finish, ms);
    });
    socket.once('close', () => {
      clearTimeout(quiet);
      resolve(received);
    });
    socket.once('error', reject);
  });
}

/** Whether host:port refuses connections. */
function refuses(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => {
      resolve(true);
    });
  });
}

/** A PostgreSQL StartupMessage for user postgres, database postgres (protocol 3.0). */
function postgresStartup(): Buffer {
  const body = Buffer.from('user\0postgres\0database\0postgres\0\0', 'latin1');
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(196608, 4);
  return Buffer.concat([head, body]);
}

/** Reads the daemon's greeting and checks it is the protocol (and product) we expect. */
async function assertGreets(daemon: Daemon): Promise<void> {
  const { port } = daemon;
  switch (daemon.kind) {
    case 'vsftpd':
      assert.match(await greet(port), /^220 \(vsFTPd \d+\.\d+\.\d+\)\r\n/);
      return;
    case 'telnetd': {
      const banner = await greet(port);
      assert.equal(banner.charCodeAt(0), 0xff, 'telnet option negotiation (IAC) first');
      assert.match(banner, /login: $/);
      return;
    }
    case 'rsyncd':
      assert.match(await greet(port), /^@RSYNCD: \d+\.\d+/);
      return;
    case 'sshd':
      assert.match(await greet(port), /^SSH-2\.0-OpenSSH_\d/);
      return;
    case 'nginx':
      assert.match(
        await greet(port, 'HEAD / HTTP/1.0\r\n\r\n'),
        /^HTTP\/1\.1 200 [^]*Server: nginx/,
      );
      return;
    case 'apache2':
      assert.match(
        await greet(port, 'HEAD / HTTP/1.0\r\n\r\n'),
        /^HTTP\/1\.1 200 [^]*Server: Apache\/2/,
      );
      return;
    case 'redis':
      assert.equal(await greet(port, 'PING\r\n'), '+PONG\r\n');
      return;
    case 'redis-auth':
      assert.match(await greet(port, 'PING\r\n'), /^-NOAUTH /);
      assert.equal(
        await greet(port, `AUTH ${daemon.password ?? ''}\r\nPING\r\n`),
        '+OK\r\n+PONG\r\n',
      );
      return;
    case 'postgres': {
      // Trust authentication: AuthenticationOk ('R', code 0), then parameters incl. the version.
      const answer = await greet(port, postgresStartup());
      assert.equal(answer[0], 'R');
      assert.match(answer, /server_version\0\d+/);
      return;
    }
    case 'mariadb': {
      // The handshake packet: protocol 10, then the server version string.
      const answer = await greet(port);
      assert.equal(answer.charCodeAt(4), 10);
      assert.match(answer, /^.{5}[\d.]+-\d+\.\d+\.\d+-MariaDB/s);
      return;
    }
    case 'memcached':
      assert.match(await greet(port, 'version\r\n'), /^VERSION \d+\.\d+\.\d+\r\n$/);
      return;
  }
}

after(closeAll);

describe('private daemons', { concurrency: 3 }, () => {
  for (const kind of DAEMON_KINDS) {
    test(`${kind} greets on 127.0.0.1, closes its port on stop and returns on the same port`, async (t) => {
      const daemon = await startDaemonOrSkip(t, kind);
      if (daemon === undefined) return;
      try {
        const { port } = daemon;
        assert.equal(daemon.kind, kind);
        assert.ok(daemon.pid !== undefined && daemon.pid > 0);
        await assertGreets(daemon);
        // Bound to 127.0.0.1 alone, not to every address: another loopback address is refused.
        assert.ok(await refuses(port, '127.0.0.2'), `${kind} listens beyond 127.0.0.1`);

        await daemon.stop();
        assert.equal(daemon.pid, undefined);
        assert.ok(await refuses(port), `${kind} still accepts on ${String(port)} after stop()`);

        await daemon.start();
        assert.equal(daemon.port, port);
        await assertGreets(daemon);
      } finally {
        await daemon.close();
      }
      assert.ok(!existsSync(daemon.dir), 'close() removes the temp dir');
      assert.ok(await refuses(daemon.port));
    });
  }
});

test('a test process that dies without closing its daemons leaves nothing running', async (t) => {
  const kinds: DaemonKind[] = ['redis', 'nginx'];
  const missing = kinds.flatMap(missingBinaries);
  if (missing.length > 0 && process.env.CI !== 'true') {
    t.skip(`needs ${missing.join(', ')}`);
    return;
  }
  const helper = fileURLToPath(new URL('./helpers/daemons.js', import.meta.url));
  // The child starts a single-process daemon and a multi-process one (nginx forks workers), prints where they
  // are, and then fails with an uncaught error: its cleanup code never runs.
  const script = `
    import { startDaemons } from ${JSON.stringify(helper)};
    const daemons = await startDaemons(${JSON.stringify(kinds)});
    console.log(JSON.stringify(daemons.map((d) => ({ port: d.port, dir: d.dir }))));
    throw new Error('the test failed');
  `;
  const outcome = await run(process.execPath, ['--input-type=module', '-e', script]).then(
    () => assert.fail('the child should have failed'),
    (error: unknown) => error as { stdout: string; code: number },
  );
  assert.equal(outcome.code, 1);
  const left = JSON.parse(outcome.stdout.trim()) as { port: number; dir: string }[];
  assert.equal(left.length, 2);
  for (const { port, dir } of left) {
    assert.ok(await refuses(port), `port ${String(port)} still open`);
    assert.ok(!existsSync(dir), `${dir} still there`);
  }
});

test('nmap service detection names the daemons as the harness expects', async (t) => {
  // Two daemons nmap identifies from their greeting alone (quick to start, quick to name).
  const kinds: DaemonKind[] = ['vsftpd', 'sshd'];
  const missing = kinds.flatMap(missingBinaries);
  if ((missing.length > 0 || (await nmapVersion()) === undefined) && process.env.CI !== 'true') {
    t.skip(`needs nmap and ${kinds.join(', ')}`);
    return;
  }
  const daemons = await startDaemons(kinds);
  try {
    const { services, seconds } = await nmapServiceDetect(
      '127.0.0.1',
      daemons.map((d) => d.port),
    );
    assert.ok(seconds > 0);
    for (const daemon of daemons) {
      const found = services.get(daemon.port);
      assert.equal(
        found?.name,
        daemon.expected.service,
        `${daemon.kind}: ${JSON.stringify(found)}`,
      );
      const said = `${found.product ?? ''} ${found.version ?? ''}`;
      assert.ok(said.includes(daemon.expected.product ?? ''), `${daemon.kind}: ${said}`);
    }
  } finally {
    await Promise.all(daemons.map((d) => d.close()));
  }
});

test('the nmap benchmark refuses targets outside 127.0.0.0/8', async () => {
  await assert.rejects(nmapServiceDetect('192.0.2.1', [22]), /127\.0\.0\.0\/8 only/);
});
