import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FIXTURES, fixturePath, tempCopy } from './helpers/http.js';

const MAIN = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith('SURFACESCAN_')),
);

function run(
  args: string[],
  env: NodeJS.ProcessEnv = CLEAN_ENV,
): { code: number | null; out: string; err: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], {
    env,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

/** A bad-input failure: exit 2, one paragraph on stderr, no stack trace. */
function assertUsageError(
  result: { code: number | null; err: string },
  ...patterns: RegExp[]
): void {
  assert.equal(result.code, 2, result.err);
  assert.doesNotMatch(result.err, /\n\s+at /, 'no stack trace');
  for (const pattern of patterns) assert.match(result.err, pattern);
}

function badFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'surfacescan-cli-')), 'env.json');
  writeFileSync(file, content);
  return file;
}

describe('CLI', () => {
  it('prints help and version with exit 0', () => {
    const help = run(['--help']);
    assert.equal(help.code, 0);
    for (const command of ['serve', 'attack', 'path', 'gendata', 'openapi'])
      assert.match(help.out, new RegExp(command));
    const version = run(['--version']);
    assert.equal(version.code, 0);
    assert.equal(version.out.trim(), VERSION);
  });

  it('rejects an unknown command, an unknown flag, a missing --vm-id and a bad --mode with exit 2', () => {
    assertUsageError(run(['frobnicate']), /unknown command 'frobnicate'/);
    assertUsageError(run(['attack', '--vm-id', 'x', '--nope']), /unknown option '--nope'/);
    assertUsageError(run(['attack']), /required option '--vm-id <id>' not specified/);
    assertUsageError(run(['attack', '--vm-id', 'x', '--mode', 'sideways']), /sideways/);
    assertUsageError(run(['gendata', '--vms', '-5']), /--vms/);
  });

  it('answers attack for every VM of every fixture exactly as expected.json says', () => {
    const expected = JSON.parse(readFileSync(new URL('expected.json', FIXTURES), 'utf8')) as Record<
      string,
      Record<string, string[]>
    >;
    for (const [file, answers] of Object.entries(expected)) {
      for (const [vmId, attackers] of Object.entries(answers)) {
        const result = run(['attack', '--cloud-env', fixturePath(file), '--vm-id', vmId]);
        assert.equal(result.code, 0, result.err);
        assert.equal(result.out, `${JSON.stringify(attackers)}\n`, `${file} ${vmId}`);
      }
    }
  });

  it('answers transitive mode and --format lines', () => {
    // input-0: bastion (ssh, dev) -> jira (ci, dev) via ssh->dev; nothing reaches the bastion
    // except the bastion itself, so both modes agree here.
    const env = fixturePath('input-0.json');
    const lines = run([
      'attack',
      '--cloud-env',
      env,
      '--vm-id',
      'vm-a211de',
      '--mode',
      'transitive',
      '--format',
      'lines',
    ]);
    assert.equal(lines.code, 0);
    assert.equal(lines.out, 'vm-c7bac01a07\n');
  });

  it('reports an unknown vm-id in one line, exit 2', () => {
    const result = run([
      'attack',
      '--cloud-env',
      fixturePath('input-0.json'),
      '--vm-id',
      'vm-missing',
    ]);
    assertUsageError(result, /no VM with vm_id "vm-missing"/);
    assert.equal(result.err.trim().split('\n').length, 1);
  });

  it('names the file, the JSON path and the problem for every bad environment, exit 2', () => {
    const cases: [string, RegExp][] = [
      ['{"vms": [}', /not valid JSON at line 1 column 10/],
      ['[]', /\$: expected an object with "vms" and "fw_rules", got an array/],
      ['{"vms": []}', /\$: missing required field "fw_rules"/],
      [
        '{"vms": [{"vm_id": 7, "name": "a", "tags": []}], "fw_rules": []}',
        /\$\.vms\[0\]\.vm_id: expected a string, got number 7/,
      ],
      [
        '{"vms": [{"vm_id": "a", "name": "a"}], "fw_rules": []}',
        /\$\.vms\[0\]: missing required field "tags"/,
      ],
      [
        '{"vms": [{"vm_id": "a", "name": "a", "tags": []}, {"vm_id": "a", "name": "b", "tags": []}], "fw_rules": []}',
        /\$\.vms\[1\]\.vm_id: duplicate vm_id "a" \(first at \$\.vms\[0\]\)/,
      ],
      [
        '{"vms": [], "fw_rules": [{"fw_id": "f", "source_tag": "a", "dest_tag": "b"}, {"fw_id": "f", "source_tag": "a", "dest_tag": "c"}]}',
        /\$\.fw_rules\[1\]\.fw_id: duplicate fw_id "f"/,
      ],
      [
        '{"vms": [{"vm_id": "a", "name": "a", "tags": ["x", null]}], "fw_rules": []}',
        /\$\.vms\[0\]\.tags\[1\]: expected a string, got null/,
      ],
      [
        '{"vms": [], "fw_rules": [{"fw_id": "f", "dest_tag": "b"}]}',
        /\$\.fw_rules\[0\]: missing required field "source_tag"/,
      ],
    ];
    for (const [content, pattern] of cases) {
      const file = badFile(content);
      const escaped = new RegExp(file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
      assertUsageError(run(['attack', '--cloud-env', file, '--vm-id', 'a']), escaped, pattern);
      assertUsageError(run(['serve', '--cloud-env', file, '--port', '0']), escaped, pattern);
    }
    assertUsageError(
      run(['attack', '--cloud-env', '/nonexistent/env.json', '--vm-id', 'a']),
      /\/nonexistent\/env\.json: cannot read file: no such file/,
    );
  });

  it('accepts extra fields, unknown tags and an empty environment', () => {
    const file = badFile(
      '{"vms": [{"vm_id": "a", "name": "a", "tags": [], "zone": "eu"}], "fw_rules": [{"fw_id": "f", "source_tag": "ghost", "dest_tag": "x"}], "extra": 1}',
    );
    assert.equal(run(['attack', '--cloud-env', file, '--vm-id', 'a']).out, '[]\n');
    const empty = badFile('{"vms": [], "fw_rules": []}');
    assertUsageError(run(['attack', '--cloud-env', empty, '--vm-id', 'a']), /no VM with vm_id "a"/);
  });

  it('lists every invalid setting in one message, exit 2', () => {
    const result = run(['serve', '--port', 'abc', '--workers', '0', '--log-level', 'loud']);
    assertUsageError(
      result,
      /--port must be an integer/,
      /--workers must be an integer/,
      /--log-level must be one of/,
    );
    assertUsageError(
      run(['serve'], { ...CLEAN_ENV, SURFACESCAN_PROT: '1' }),
      /SURFACESCAN_PROT is not a surfacescan setting/,
    );
    assertUsageError(
      run(['serve', '--port', '1'], { ...CLEAN_ENV, SURFACESCAN_WORKERS: 'many' }),
      /SURFACESCAN_WORKERS must be an integer/,
    );
  });

  it('fails with exit 2 when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      assertUsageError(
        run(['serve', '--port', String(port), '--host', '127.0.0.1']),
        /cannot listen: .*EADDRINUSE/,
      );
    } finally {
      blocker.close();
    }
  });

  it('serves, reloads on SIGHUP (keeping the old environment when the new one is bad), and exits 0 on SIGTERM', async () => {
    const file = tempCopy('input-0.json');
    const child = spawn(
      process.execPath,
      [MAIN, 'serve', '--cloud-env', file, '--port', '0', '--log-level', 'info'],
      {
        env: CLEAN_ENV,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => {
        resolve(code);
      });
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    let url = '';
    for await (const line of createInterface({ input: child.stdout })) {
      const record = JSON.parse(line) as { msg?: string; url?: string };
      if (record.msg === 'surfacescan listening' && record.url !== undefined) {
        url = record.url;
        break;
      }
    }
    child.stdout.resume();
    const info = async (): Promise<{ version: number; vm_count: number }> =>
      (await (await fetch(`${url}/api/v1/environment`)).json()) as {
        version: number;
        vm_count: number;
      };
    const waitFor = async (
      check: (i: { version: number; vm_count: number }) => boolean,
    ): Promise<void> => {
      for (let k = 0; k < 100 && !check(await info()); k++)
        await new Promise((resolve) => setTimeout(resolve, 50));
    };
    assert.deepEqual(await (await fetch(`${url}/api/v1/attack?vm_id=vm-a211de`)).json(), [
      'vm-c7bac01a07',
    ]);
    writeFileSync(file, readFileSync(fixturePath('input-2.json')));
    child.kill('SIGHUP');
    await waitFor((i) => i.version === 2);
    assert.deepEqual(await info(), { ...(await info()), version: 2, vm_count: 5 });
    writeFileSync(file, '{"vms": [}');
    child.kill('SIGHUP');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await info()).version, 2, 'a bad file is rejected');
    assert.equal((await fetch(`${url}/api/v1/attack?vm_id=vm-2ba4d2f87`)).status, 200);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    clearTimeout(killer);
  });

  it('prints a shortest path, exit 1 when there is none', () => {
    const env = fixturePath('input-0.json');
    const path = run(['path', '--cloud-env', env, '--from', 'vm-c7bac01a07', '--to', 'vm-a211de']);
    assert.equal(path.code, 0);
    assert.equal(
      path.out,
      '[{"vm_id":"vm-c7bac01a07","fw_id":null},{"vm_id":"vm-a211de","fw_id":"fw-82af742"}]\n',
    );
    const none = run(['path', '--cloud-env', env, '--from', 'vm-a211de', '--to', 'vm-c7bac01a07']);
    assert.equal(none.code, 1);
    assert.match(none.err, /no chain of allowed hops/);
  });

  it('generates reproducible environments and prints the OpenAPI document', () => {
    const a = run(['gendata', '--vms', '50', '--tags', '10', '--rules', '20', '--seed', '3']);
    const b = run(['gendata', '--vms', '50', '--tags', '10', '--rules', '20', '--seed', '3']);
    const c = run(['gendata', '--vms', '50', '--tags', '10', '--rules', '20', '--seed', '4']);
    assert.equal(a.code, 0);
    assert.equal(a.out, b.out);
    assert.notEqual(a.out, c.out);
    const doc = JSON.parse(a.out) as { vms: unknown[]; fw_rules: unknown[] };
    assert.equal(doc.vms.length, 50);
    assert.equal(doc.fw_rules.length, 20);
    const spec = JSON.parse(run(['openapi']).out) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    assert.equal(spec.openapi, '3.1.0');
    assert.ok('/api/v1/attack' in spec.paths);
  });
});
