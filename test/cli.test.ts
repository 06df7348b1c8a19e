import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MAIN,
  REPO_ROOT,
  assertUsageError,
  cleanEnv,
  exitWithin,
  listeningUrl,
  pool,
  runCli,
  startServe,
  tempEnvFile,
  type LogRecord,
} from './helpers/cli.js';

const VERSION = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
const FIXTURES = 'test/fixtures/cloud';
const EXPECTED = JSON.parse(
  readFileSync(join(REPO_ROOT, FIXTURES, 'expected.json'), 'utf8'),
) as Record<string, Record<string, string[]>>;
const fixture = (name: string): string => `${FIXTURES}/${name}`;
/** Spawns at most this many CLI processes at once (the machine has 2 cores). */
const CONCURRENCY = 3;
/** Upper bound for one test that starts a server, so a hang fails instead of blocking CI. */
const SERVE_TEST_TIMEOUT_MS = 60_000;

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

describe('surfacescan CLI: help, version and argument errors', () => {
  it('prints help listing every command with exit 0', async () => {
    const result = await runCli(['--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, /^Usage: surfacescan \[options\] \[command\]/);
    for (const command of ['serve', 'attack', 'path', 'gendata', 'openapi']) {
      assert.match(result.stdout, new RegExp(`^ {2}${command} \\[options\\] `, 'm'), command);
    }
  });

  it('prints the package.json version with exit 0', async () => {
    for (const flag of ['--version', '-V']) {
      const result = await runCli([flag]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${VERSION}\n`);
    }
  });

  it('treats a bare invocation as a usage error, printing help on stderr', async () => {
    const result = await runCli([]);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^Usage: surfacescan/);
  });

  it('rejects an unknown command with exit 2, naming it', async () => {
    assertUsageError(await runCli(['frobnicate']), "error: unknown command 'frobnicate'\n");
  });

  it('suggests the closest command for a typo', async () => {
    assertUsageError(await runCli(['attak']), "unknown command 'attak'", 'Did you mean attack?');
  });

  it('rejects an unknown flag with exit 2, naming it', async () => {
    assertUsageError(
      await runCli(['attack', '--vm-id', 'vm-a211de', '--nope']),
      "error: unknown option '--nope'",
    );
  });

  it('rejects attack without --vm-id with exit 2', async () => {
    const result = await runCli(['attack']);
    assertUsageError(result);
    assert.equal(result.stderr, "error: required option '--vm-id <id>' not specified\n");
  });

  it('rejects --mode sideways with exit 2, listing the allowed modes', async () => {
    const result = await runCli(['attack', '--vm-id', 'vm-a211de', '--mode', 'sideways']);
    assertUsageError(result);
    assert.equal(
      result.stderr,
      "error: option '--mode <mode>' argument 'sideways' is invalid. Allowed choices are direct, transitive.\n",
    );
  });

  it('rejects --format xml with exit 2', async () => {
    assertUsageError(
      await runCli(['attack', '--vm-id', 'vm-a211de', '--format', 'xml']),
      "argument 'xml' is invalid",
    );
  });

  it('rejects path without --to with exit 2', async () => {
    assertUsageError(
      await runCli(['path', '--from', 'vm-a211de']),
      "error: required option '--to <id>' not specified",
    );
  });

  it('rejects a negative gendata --vms with exit 2', async () => {
    assertUsageError(await runCli(['gendata', '--vms', '-5']), '--vms');
  });
});

describe('surfacescan attack', () => {
  it('answers every VM of every fixture exactly as expected.json says', async () => {
    const cases = Object.entries(EXPECTED).flatMap(([file, answers]) =>
      Object.entries(answers).map(([vmId, attackers]) => ({ file, vmId, attackers })),
    );
    assert.equal(cases.length, 28, 'expected.json covers 28 VMs');
    const results = await pool(cases.length, CONCURRENCY, async (i) => {
      const { file, vmId } = cases[i]!;
      const result = await runCli(['attack', '--cloud-env', fixture(file), '--vm-id', vmId]);
      return { file, vmId, code: result.code, stdout: result.stdout, stderr: result.stderr };
    });
    assert.deepEqual(
      results,
      cases.map(({ file, vmId, attackers }) => ({
        file,
        vmId,
        code: 0,
        stdout: `${JSON.stringify(attackers)}\n`,
        stderr: '',
      })),
    );
  });

  it('uses the bundled example when neither --cloud-env nor SURFACESCAN_CLOUD_ENV is set', async () => {
    // examples/cloud-env.json is a copy of input-3.
    const result = await runCli(['attack', '--vm-id', 'vm-ab51cba10']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${JSON.stringify(EXPECTED['input-3.json']!['vm-ab51cba10'])}\n`);
  });

  it('reads SURFACESCAN_CLOUD_ENV, and --cloud-env wins over it', async () => {
    const env = cleanEnv({ SURFACESCAN_CLOUD_ENV: fixture('input-0.json') });
    const fromEnv = await runCli(['attack', '--vm-id', 'vm-a211de'], env);
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.equal(fromEnv.stdout, '["vm-c7bac01a07"]\n');
    const fromFlag = await runCli(
      ['attack', '--vm-id', 'vm-a211de', '--cloud-env', fixture('input-2.json')],
      env,
    );
    assertUsageError(fromFlag, 'no VM with vm_id "vm-a211de"');
  });

  it('prints one id per line with --format lines, and nothing for no attackers', async () => {
    // input-2: every VM carries "http" and the rule http -> http lets each reach all others.
    const lines = await runCli([
      'attack',
      '--cloud-env',
      fixture('input-2.json'),
      '--vm-id',
      'vm-2ba4d2f87',
      '--format',
      'lines',
    ]);
    assert.equal(lines.code, 0, lines.stderr);
    assert.equal(lines.stdout, 'vm-7d1ff7af47\nvm-a3ed2eed23\nvm-b35b501\nvm-ec02d5c153\n');
    const none = await runCli([
      'attack',
      '--cloud-env',
      fixture('input-0.json'),
      '--vm-id',
      'vm-c7bac01a07',
      '--format',
      'lines',
    ]);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, '');
  });

  it('answers --mode transitive on input-0 as reasoned by hand', async () => {
    // input-0 has one rule, ssh -> dev. jira (vm-a211de: ci, dev) is reached from the bastion
    // (vm-c7bac01a07: ssh, dev). The only VM carrying ssh is the bastion itself, so nothing
    // but the bastion reaches the bastion, and the chain stops there: jira -> [bastion], and
    // the bastion's answer excludes itself -> [].
    const answer = (vmId: string): Promise<{ code: number | null; stdout: string }> =>
      runCli([
        'attack',
        '--cloud-env',
        fixture('input-0.json'),
        '--vm-id',
        vmId,
        '--mode',
        'transitive',
      ]);
    assert.deepEqual(await answer('vm-a211de'), {
      ...(await answer('vm-a211de')),
      code: 0,
      stdout: '["vm-c7bac01a07"]\n',
    });
    assert.deepEqual(await answer('vm-c7bac01a07'), {
      ...(await answer('vm-c7bac01a07')),
      code: 0,
      stdout: '[]\n',
    });
  });

  it('follows chains of hops in --mode transitive but only one hop in direct mode', async () => {
    // A chain admin -(ssh->http)-> web -(http->app)-> app -(app->db)-> db, plus a two-VM loop.
    // Direct attackers of db: holders of "app" (the source of the one rule into "db") = [app].
    // Transitive: app, then holders of "http" (into app) = web, then of "ssh" (into web) = admin.
    // In the loop a <-> b, each reaches itself via the other, but an answer never lists the VM
    // itself: transitive(a) = [b].
    const file = tempEnvFile(
      JSON.stringify({
        vms: [
          { vm_id: 'vm-web', name: 'web', tags: ['http'] },
          { vm_id: 'vm-app', name: 'app', tags: ['app'] },
          { vm_id: 'vm-db', name: 'db', tags: ['db'] },
          { vm_id: 'vm-admin', name: 'admin', tags: ['ssh'] },
          { vm_id: 'vm-a', name: 'a', tags: ['la'] },
          { vm_id: 'vm-b', name: 'b', tags: ['lb'] },
        ],
        fw_rules: [
          { fw_id: 'fw-1', source_tag: 'http', dest_tag: 'app' },
          { fw_id: 'fw-2', source_tag: 'app', dest_tag: 'db' },
          { fw_id: 'fw-3', source_tag: 'ssh', dest_tag: 'http' },
          { fw_id: 'fw-4', source_tag: 'la', dest_tag: 'lb' },
          { fw_id: 'fw-5', source_tag: 'lb', dest_tag: 'la' },
        ],
      }),
    );
    const queries: [string, string, string][] = [
      ['vm-db', 'direct', '["vm-app"]\n'],
      ['vm-db', 'transitive', '["vm-admin","vm-app","vm-web"]\n'],
      ['vm-app', 'transitive', '["vm-admin","vm-web"]\n'],
      ['vm-web', 'transitive', '["vm-admin"]\n'],
      ['vm-admin', 'transitive', '[]\n'],
      ['vm-a', 'transitive', '["vm-b"]\n'],
    ];
    const results = await pool(queries.length, CONCURRENCY, (i) => {
      const [vmId, mode] = queries[i]!;
      return runCli(['attack', '--cloud-env', file, '--vm-id', vmId, '--mode', mode]);
    });
    assert.deepEqual(
      results.map((r, i) => [queries[i]![0], queries[i]![1], r.code, r.stdout]),
      queries.map(([vmId, mode, out]) => [vmId, mode, 0, out]),
    );
  });

  it('reports an unknown vm-id in one line naming it, exit 2, no stack', async () => {
    const result = await runCli([
      'attack',
      '--cloud-env',
      fixture('input-0.json'),
      '--vm-id',
      'vm-missing',
    ]);
    assertUsageError(result);
    assert.equal(result.stderr, 'surfacescan: no VM with vm_id "vm-missing" in the environment\n');
  });

  it('finds no VM in an empty environment', async () => {
    const file = tempEnvFile('{"vms":[],"fw_rules":[]}');
    const result = await runCli(['attack', '--cloud-env', file, '--vm-id', 'a']);
    assertUsageError(result);
    assert.equal(result.stderr, 'surfacescan: no VM with vm_id "a" in the environment\n');
  });

  it('accepts unknown fields and rule tags no VM carries', async () => {
    const file = tempEnvFile(
      JSON.stringify({
        vms: [
          { vm_id: 'a', name: 'a', tags: ['x'], zone: 'eu' },
          { vm_id: 'b', name: '', tags: ['y', 'y'] },
        ],
        fw_rules: [
          { fw_id: 'f', source_tag: 'ghost', dest_tag: 'x' },
          { fw_id: 'g', source_tag: 'y', dest_tag: 'x', comment: 'ok' },
        ],
        extra: 1,
      }),
    );
    const result = await runCli(['attack', '--cloud-env', file, '--vm-id', 'a']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '["b"]\n');
  });
});

describe('surfacescan attack and serve reject a bad environment file', () => {
  /** [label, file content (or null: a path that does not exist), the JSON path and problem]. */
  const cases: [string, string | null, string][] = [
    ['not JSON', '{"vms": [}', 'not valid JSON at line 1 column 10: unexpected "}"'],
    [
      'not JSON on a later line',
      '{\n  "vms": [],\n  "fw_rules": [\n}',
      'not valid JSON at line 4 column 1: unexpected "}"',
    ],
    ['an empty file', '', 'not valid JSON at line 1 column 1: unexpected end of file'],
    ['a top-level array', '[]', '$: expected an object with "vms" and "fw_rules", got an array'],
    ['a top-level null', 'null', '$: expected an object with "vms" and "fw_rules", got null'],
    ['no fw_rules', '{"vms": []}', '$: missing required field "fw_rules"'],
    ['no vms', '{"fw_rules": []}', '$: missing required field "vms"'],
    ['vms not an array', '{"vms": {}, "fw_rules": []}', '$.vms: expected an array, got an object'],
    [
      'a vm_id that is a number',
      '{"vms": [{"vm_id": 7, "name": "a", "tags": []}], "fw_rules": []}',
      '$.vms[0].vm_id: expected a string, got number 7',
    ],
    [
      'a VM without tags',
      '{"vms": [{"vm_id": "a", "name": "a"}], "fw_rules": []}',
      '$.vms[0]: missing required field "tags"',
    ],
    [
      'a duplicate vm_id',
      '{"vms": [{"vm_id": "a", "name": "a", "tags": []}, {"vm_id": "a", "name": "b", "tags": []}], "fw_rules": []}',
      '$.vms[1].vm_id: duplicate vm_id "a" (first at $.vms[0])',
    ],
    [
      'a duplicate fw_id',
      '{"vms": [], "fw_rules": [{"fw_id": "f", "source_tag": "a", "dest_tag": "b"}, {"fw_id": "f", "source_tag": "a", "dest_tag": "c"}]}',
      '$.fw_rules[1].fw_id: duplicate fw_id "f" (first at $.fw_rules[0])',
    ],
    [
      'a non-string tag',
      '{"vms": [{"vm_id": "a", "name": "a", "tags": []}, {"vm_id": "b", "name": "b", "tags": ["x", "y", null]}], "fw_rules": []}',
      '$.vms[1].tags[2]: expected a string, got null',
    ],
    [
      'a rule without source_tag',
      '{"vms": [], "fw_rules": [{"fw_id": "f", "dest_tag": "b"}]}',
      '$.fw_rules[0]: missing required field "source_tag"',
    ],
    [
      'a mistyped dest_tag',
      '{"vms": [], "fw_rules": [{"fw_id": "f", "source_tag": "a", "dest_tag": 1}]}',
      '$.fw_rules[0].dest_tag: expected a string, got number 1',
    ],
    ['a missing file', null, 'cannot read file: no such file'],
  ];
  const files = cases.map(([, content]) =>
    content === null
      ? join(mkdtempSync(join(tmpdir(), 'surfacescan-cli-')), 'absent.json')
      : tempEnvFile(content),
  );
  const directory = mkdtempSync(join(tmpdir(), 'surfacescan-cli-'));

  for (const command of ['attack', 'serve'] as const) {
    it(`${command}: exit 2 with one line naming the file, the JSON path and the problem`, async () => {
      const argsFor = (file: string): string[] =>
        command === 'attack'
          ? ['attack', '--cloud-env', file, '--vm-id', 'a']
          : ['serve', '--cloud-env', file, '--port', '0', '--host', '127.0.0.1'];
      const results = await pool(cases.length, CONCURRENCY, (i) => runCli(argsFor(files[i]!)));
      for (const [i, [label, , problem]] of cases.entries()) {
        const result = results[i]!;
        assertUsageError(result);
        assert.equal(
          result.stderr,
          `surfacescan: cloud environment ${files[i]!}: ${problem}\n`,
          label,
        );
      }
    });
  }

  it('attack: exit 2 when --cloud-env is a directory', async () => {
    const result = await runCli(['attack', '--cloud-env', directory, '--vm-id', 'a']);
    assertUsageError(result);
    assert.equal(
      result.stderr,
      `surfacescan: cloud environment ${directory}: cannot read file: is a directory, not a file\n`,
    );
  });

  it('attack: names a relative path as given', async () => {
    const result = await runCli(['attack', '--cloud-env', 'no/such/env.json', '--vm-id', 'a']);
    assertUsageError(result);
    assert.equal(
      result.stderr,
      'surfacescan: cloud environment no/such/env.json: cannot read file: no such file\n',
    );
  });
});

describe('surfacescan serve start-up failures', () => {
  it('lists every invalid setting in one message, exit 2', async () => {
    const result = await runCli([
      'serve',
      '--port',
      'abc',
      '--workers',
      '0',
      '--log-level',
      'loud',
    ]);
    assertUsageError(result);
    assert.equal(
      result.stderr,
      'surfacescan: invalid configuration:\n' +
        '  - --port must be an integer from 0 to 65535, got "abc"\n' +
        '  - --workers must be an integer from 1 to 256, got "0"\n' +
        '  - --log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"\n',
    );
  });

  it('rejects an unknown SURFACESCAN_* variable, naming it, exit 2', async () => {
    const result = await runCli(['serve'], cleanEnv({ SURFACESCAN_PROT: '1' }));
    assertUsageError(
      result,
      'surfacescan: invalid configuration:\n  - SURFACESCAN_PROT is not a surfacescan setting (known: SURFACESCAN_HOST, SURFACESCAN_PORT,',
    );
    assert.equal(result.stderr.trimEnd().split('\n').length, 2, result.stderr);
  });

  it('names the variable when a bad value comes from the environment', async () => {
    const result = await runCli(
      ['serve', '--port', '0'],
      cleanEnv({ SURFACESCAN_WORKERS: 'many', SURFACESCAN_PORT: 'abc' }),
    );
    assertUsageError(result);
    assert.equal(
      result.stderr,
      'surfacescan: invalid configuration:\n' +
        '  - SURFACESCAN_WORKERS must be an integer from 1 to 256, got "many"\n',
    );
  });

  it('says "cannot listen" when the port is already in use, exit 2', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const address = blocker.address();
      assert.ok(address !== null && typeof address === 'object');
      const result = await runCli([
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(address.port),
        '--log-level',
        'silent',
      ]);
      assertUsageError(result);
      assert.equal(
        result.stderr,
        `surfacescan: cannot listen: listen EADDRINUSE: address already in use 127.0.0.1:${address.port}\n`,
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
  it('says "cannot listen" for an address this machine does not have, exit 2', async () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): documentation only, never a local interface.
    const result = await runCli(['serve', '--host', '192.0.2.1', '--port', '0']);
    assertUsageError(result);
    assert.equal(
      result.stderr,
      'surfacescan: cannot listen: listen EADDRNOTAVAIL: address not available 192.0.2.1\n',
    );
  });

  it('says "cannot listen" for a host name that does not resolve, exit 2', async () => {
    // A typo in --host is bad input like a taken port, not an internal error. ".invalid" never
    // resolves (RFC 2606); without network the lookup fails too, just with another code.
    const result = await runCli(['serve', '--host', 'no-such-host.invalid', '--port', '0']);
    assertUsageError(result, 'surfacescan: cannot listen: ', 'no-such-host.invalid');
    assert.ok(!result.stderr.includes('internal error'), result.stderr);
    assert.equal(result.stderr.split('\n').length, 2, result.stderr);
  });
});

describe('surfacescan output files and pipes', () => {
  it('rejects an --out path in a missing directory as bad input, exit 2', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'surfacescan-cli-')), 'no', 'dir', 'out.json');
    for (const args of [
      ['openapi', '--out', missing],
      ['gendata', '--vms', '5', '--out', missing],
    ]) {
      const result = await runCli(args);
      assertUsageError(result, 'surfacescan: ', missing);
      assert.ok(!result.stderr.includes('internal error'), result.stderr);
    }
  });

  it('stops quietly, without a stack trace, when the reader of stdout goes away', async () => {
    // Like `surfacescan gendata --vms 20000 | head -c 100`: a closed pipe is not an error to
    // report. The exit code is left open (0, or 1 like a failed write); stderr must stay empty.
    const child = spawn(process.execPath, [MAIN, 'gendata', '--vms', '20000'], {
      cwd: REPO_ROOT,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.stdout.once('data', () => {
      child.stdout.destroy();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
      child.once('close', (c, s) => {
        resolve([c, s]);
      });
    });
    clearTimeout(timer);
    assert.equal(signal, null, 'not killed by the timeout');
    assert.ok(code === 0 || code === 1, String(code));
    assert.equal(stderr, '');
  });
});

describe('surfacescan serve', () => {
  it(
    'serves the bundled example and exits 0 on SIGTERM',
    { timeout: SERVE_TEST_TIMEOUT_MS },
    async () => {
      const server = startServe(['--port', '0', '--host', '127.0.0.1', '--log-level', 'info']);
      try {
        const url = await listeningUrl(server);
        assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
        const listening = server.logs.find((r) => r.msg === 'surfacescan listening')!;
        assert.equal(listening.vms, 11);
        const answer = await getJson(`${url}/api/v1/attack?vm_id=vm-ab51cba10`);
        assert.deepEqual(answer, {
          status: 200,
          body: EXPECTED['input-3.json']!['vm-ab51cba10'],
        });
        server.child.kill('SIGTERM');
        assert.deepEqual(await exitWithin(server), { code: 0, signal: null });
        assert.ok(
          server.logs.some((r) => r.msg.startsWith('shutting down') && r.signal === 'SIGTERM'),
          JSON.stringify(server.logs),
        );
        assert.equal(server.stderr(), '');
      } finally {
        server.kill();
      }
    },
  );

  it(
    'reloads on SIGHUP, keeps serving the old environment when the new file is bad, exits 0 on SIGTERM',
    { timeout: SERVE_TEST_TIMEOUT_MS },
    async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'surfacescan-cli-')), 'env.json');
      copyFileSync(join(REPO_ROOT, fixture('input-0.json')), file);
      const server = startServe([
        '--cloud-env',
        file,
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--log-level',
        'info',
      ]);
      type Info = { version: number; vm_count: number };
      try {
        const url = await listeningUrl(server);
        const info = async (): Promise<Info> => {
          const { status, body } = await getJson(`${url}/api/v1/environment`);
          assert.equal(status, 200);
          return body as Info;
        };
        /** Polls /api/v1/environment until `check` holds, for at most 10 s. */
        const waitForInfo = async (check: (i: Info) => boolean): Promise<Info> => {
          for (let attempt = 0; attempt < 200; attempt++) {
            const current = await info();
            if (check(current)) return current;
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          assert.fail(`environment never matched; last: ${JSON.stringify(await info())}`);
        };
        assert.deepEqual(await info(), { ...(await info()), version: 1, vm_count: 2 });
        assert.deepEqual(await getJson(`${url}/api/v1/attack?vm_id=vm-a211de`), {
          status: 200,
          body: ['vm-c7bac01a07'],
        });

        writeFileSync(file, readFileSync(join(REPO_ROOT, fixture('input-2.json'))));
        server.child.kill('SIGHUP');
        const reloaded = await waitForInfo((i) => i.version === 2);
        assert.equal(reloaded.vm_count, 5);
        assert.deepEqual(await getJson(`${url}/api/v1/attack?vm_id=vm-2ba4d2f87`), {
          status: 200,
          body: EXPECTED['input-2.json']!['vm-2ba4d2f87'],
        });
        assert.equal((await getJson(`${url}/api/v1/attack?vm_id=vm-a211de`)).status, 404);

        writeFileSync(file, '{"vms": [}');
        server.child.kill('SIGHUP');
        const rejected: LogRecord = await server.waitForLog((r) =>
          r.msg.startsWith('reload rejected'),
        );
        assert.equal(
          rejected.err,
          `cloud environment ${file}: not valid JSON at line 1 column 10: unexpected "}"`,
        );
        assert.deepEqual(await info(), { ...(await info()), version: 2, vm_count: 5 });
        assert.deepEqual(await getJson(`${url}/api/v1/attack?vm_id=vm-2ba4d2f87`), {
          status: 200,
          body: EXPECTED['input-2.json']!['vm-2ba4d2f87'],
        });

        server.child.kill('SIGTERM');
        assert.deepEqual(await exitWithin(server), { code: 0, signal: null });
      } finally {
        server.kill();
      }
    },
  );
});

describe('surfacescan path', () => {
  it('prints one shortest chain of hops as JSON', async () => {
    const result = await runCli([
      'path',
      '--cloud-env',
      fixture('input-0.json'),
      '--from',
      'vm-c7bac01a07',
      '--to',
      'vm-a211de',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      '[{"vm_id":"vm-c7bac01a07","fw_id":null},{"vm_id":"vm-a211de","fw_id":"fw-82af742"}]\n',
    );
  });

  it('exits 1 with a message when no chain leads from one VM to the other', async () => {
    // jira (ci, dev) is the source of no rule, so it reaches nothing.
    const result = await runCli([
      'path',
      '--cloud-env',
      fixture('input-0.json'),
      '--from',
      'vm-a211de',
      '--to',
      'vm-c7bac01a07',
    ]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      'surfacescan: no chain of allowed hops leads from vm-a211de to vm-c7bac01a07\n',
    );
  });

  it('rejects an unknown --to with exit 2', async () => {
    const result = await runCli([
      'path',
      '--cloud-env',
      fixture('input-0.json'),
      '--from',
      'vm-a211de',
      '--to',
      'vm-nowhere',
    ]);
    assertUsageError(result);
    assert.equal(result.stderr, 'surfacescan: no VM with vm_id "vm-nowhere" in the environment\n');
  });
});

describe('surfacescan openapi and gendata', () => {
  it('prints an OpenAPI 3.1 document with the attack path', async () => {
    const result = await runCli(['openapi']);
    assert.equal(result.code, 0, result.stderr);
    const spec = JSON.parse(result.stdout) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(spec.openapi, '3.1.0');
    assert.ok('/api/v1/attack' in spec.paths, Object.keys(spec.paths).join(', '));
  });

  it('generates the same environment for the same seed and another for another seed', async () => {
    const args = ['gendata', '--vms', '50', '--tags', '10', '--rules', '20', '--seed'];
    const [a, b, c] = await Promise.all([
      runCli([...args, '3']),
      runCli([...args, '3']),
      runCli([...args, '4']),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.notEqual(a.stdout, c.stdout);
    const doc = JSON.parse(a.stdout) as { vms: unknown[]; fw_rules: unknown[] };
    assert.equal(doc.vms.length, 50);
    assert.equal(doc.fw_rules.length, 20);
    const file = tempEnvFile(a.stdout);
    const loaded = await runCli(['attack', '--cloud-env', file, '--vm-id', 'no-such-vm']);
    assertUsageError(loaded, 'no VM with vm_id "no-such-vm"');
  });
});
