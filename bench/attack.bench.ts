/**
 * npm run bench:attack — the cloud attack API against its ceiling, in one run, with one load tool
 * (wrk) and the same settings for every scenario: 50 connections, 2 threads, fixed duration,
 * random vm_ids per request. Prints req/s, p50/p99 and the ratio to the ceiling, then index build
 * time and RSS per environment size. BENCH_DURATION (seconds, default 10) shortens a run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { environmentToJson, generateEnvironment } from '#src/cloud/gendata.model.js';
import { loadEnvironmentFile } from '#src/cloud/environment.loader.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const MAIN = join(ROOT, 'dist/src/cli/main.js');
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = 50;
const THREADS = 2;

interface WrkResult {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly bytesPerRequest: number;
  readonly errors: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  if (unit === 'us') return n / 1000;
  if (unit === 's') return n * 1000;
  return n;
}

function toBytes(value: string, unit: string): number {
  const scale: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };
  return Number(value) * (scale[unit] ?? 1);
}

function wrk(url: string, ids: readonly string[] | undefined, dir: string): WrkResult {
  const args = [
    '-t',
    String(THREADS),
    '-c',
    String(CONNECTIONS),
    '-d',
    `${String(DURATION)}s`,
    '--latency',
  ];
  if (ids) {
    // wrk calls request() for every request; each picks a random vm_id from the environment.
    const script = join(dir, 'random.lua');
    const list = ids.map((id) => `"${id.replace(/["\\]/g, '\\$&')}"`).join(',');
    writeFileSync(
      script,
      `local ids = {${list}}\nmath.randomseed(42)\n` +
        `request = function()\n  return wrk.format(nil, "${new URL(url).pathname}?vm_id=" .. ids[math.random(#ids)])\nend\n`,
    );
    args.push('-s', script);
  }
  args.push(url);
  const run = spawnSync('wrk', args, { encoding: 'utf8' });
  const out = run.stdout;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p50 = /\s50%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const transfer = /Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB)/.exec(out);
  const errors = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  return {
    rps,
    p50: p50 ? toMs(p50[1]!, p50[2]!) : NaN,
    p99: p99 ? toMs(p99[1]!, p99[2]!) : NaN,
    bytesPerRequest: transfer ? toBytes(transfer[1]!, transfer[2]!) / rps : NaN,
    errors: errors ? Number(errors[1]) : 0,
  };
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${String(child.exitCode)}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} did not become ready`);
}

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function startServer(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [...args, '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${String(port)}`;
  await waitReady(url, child);
  // Measure the steady state: wait for the background warm-up of the answer cache.
  const started = Date.now();
  for (;;) {
    const info = (await (await fetch(`${url}/api/v1/environment`)).json()) as {
      cache: { warmed: boolean };
    };
    if (info.cache.warmed || Date.now() - started > 120_000) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  warmMs.set(args.join(' '), Date.now() - started);
  return { child, url };
}

const warmMs = new Map<string, number>();

const CEILING_SOURCE = `
const http = require('node:http');
const body = Buffer.from('["vm-0c1791","vm-2987241"]');
http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  res.end(body);
}).listen(Number(process.argv[1]), '127.0.0.1');
`;

async function main(): Promise<void> {
  if (spawnSync('wrk', ['--version']).error) {
    console.error('wrk is not installed: apt-get install wrk');
    process.exit(1);
  }
  const dir = mkdtempSync(join(tmpdir(), 'surfacescan-bench-'));
  const sizes = [
    { label: '1k', vms: 1000, tags: 100, rules: 300 },
    { label: '10k', vms: 10_000, tags: 1000, rules: 1000 },
    { label: '100k', vms: 100_000, tags: 5000, rules: 10_000 },
  ];
  const files: Record<string, string> = {
    'input-3': join(ROOT, 'test/fixtures/cloud/input-3.json'),
  };
  for (const size of sizes) {
    const file = join(dir, `env-${size.label}.json`);
    writeFileSync(file, environmentToJson(generateEnvironment({ ...size, seed: 7 })));
    files[size.label] = file;
  }
  const idsOf = (name: string): string[] =>
    loadEnvironmentFile(files[name]!).vms.map((vm) => vm.vm_id);
  const serve = (name: string, workers = 1): string[] => [
    MAIN,
    'serve',
    '--cloud-env',
    files[name]!,
    '--host',
    '127.0.0.1',
    '--log-level',
    'warn',
    '--workers',
    String(workers),
  ];

  console.log(
    `machine: ${cpus()[0]?.model ?? '?'}, ${String(cpus().length)} cores, node ${process.version}`,
  );
  console.log(
    `load: wrk -t${String(THREADS)} -c${String(CONNECTIONS)} -d${String(DURATION)}s, random vm_ids\n`,
  );

  const rows: { scenario: string; result: WrkResult }[] = [];
  const measure = async (
    scenario: string,
    args: string[] | 'ceiling',
    path: string,
    ids?: string[],
  ) => {
    let child: ChildProcess;
    let url: string;
    if (args === 'ceiling') {
      const port = await freePort();
      child = spawn(process.execPath, ['-e', CEILING_SOURCE, String(port)], { stdio: 'ignore' });
      url = `http://127.0.0.1:${String(port)}`;
      await waitReady(url, child);
    } else {
      ({ child, url } = await startServer(args));
    }
    const result = wrk(`${url}${path}`, ids, dir);
    await stop(child);
    rows.push({ scenario, result });
    console.error(`  ${scenario}: ${result.rps.toFixed(0)} req/s`);
  };

  const input3 = idsOf('input-3');
  await measure('(a) ceiling: bare node:http, fixed JSON', 'ceiling', '/');
  await measure('(b) /attack input-3, 1 worker', serve('input-3'), '/api/v1/attack', input3);
  await measure('(b) /attack input-3, 2 workers', serve('input-3', 2), '/api/v1/attack', input3);
  await measure('(c) /attack 10k VMs', serve('10k'), '/api/v1/attack', idsOf('10k'));
  await measure('(c) /attack 100k VMs', serve('100k'), '/api/v1/attack', idsOf('100k'));
  await measure('(d) /stats input-3', serve('input-3'), '/api/v1/stats');
  await measure('(a) ceiling again (noise check)', 'ceiling', '/');

  const ceilings = rows.filter((r) => r.scenario.startsWith('(a)')).map((r) => r.result.rps);
  const ceiling = ceilings.reduce((a, b) => a + b, 0) / ceilings.length;
  console.log('| scenario | req/s | p50 ms | p99 ms | vs ceiling | bytes/response | non-2xx |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const { scenario, result } of rows) {
    console.log(
      `| ${scenario} | ${result.rps.toFixed(0)} | ${result.p50.toFixed(2)} | ${result.p99.toFixed(2)} | ` +
        `${((100 * result.rps) / ceiling).toFixed(0)}% | ${result.bytesPerRequest.toFixed(0)} | ${String(result.errors)} |`,
    );
  }

  console.log(
    '\n| environment | VMs | rules | attacker sets | build ms | warm-up ms | RSS after build+warm-up MB | RSS after 3 s of load MB |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const size of sizes) {
    const { child, url } = await startServer(serve(size.label));
    const info = (await (await fetch(`${url}/api/v1/environment`)).json()) as {
      build_ms: number;
      attacker_set_count: number;
    };
    const afterBuild = rssMb(child.pid);
    const ids = idsOf(size.label);
    wrkShort(url, ids, dir);
    const afterLoad = rssMb(child.pid);
    await stop(child);
    console.log(
      `| ${size.label} | ${String(size.vms)} | ${String(size.rules)} | ${String(info.attacker_set_count)} | ` +
        `${info.build_ms.toFixed(0)} | ${String(warmMs.get(serve(size.label).join(' ')) ?? NaN)} | ` +
        `${afterBuild.toFixed(0)} | ${afterLoad.toFixed(0)} |`,
    );
  }

  const b = rows.find((r) => r.scenario.startsWith('(b) /attack input-3, 1'))!.result;
  const c10 = rows.find((r) => r.scenario === '(c) /attack 10k VMs')!.result;
  const c100 = rows.find((r) => r.scenario === '(c) /attack 100k VMs')!.result;
  console.log('\ntargets:');
  console.log(`  (b) >= 80% of ceiling: ${((100 * b.rps) / ceiling).toFixed(0)}%`);
  console.log(`  (c) p99 < 10 ms: 10k ${c10.p99.toFixed(2)} ms, 100k ${c100.p99.toFixed(2)} ms`);
  console.log('  100k VMs / 10k rules: build < 3 s and RSS < 1 GiB: see the table above');
  rmSync(dir, { recursive: true, force: true });
}

/** A 3-second load with the environment's own ids, to see what the answer cache adds to RSS. */
function wrkShort(url: string, ids: readonly string[], dir: string): void {
  const script = join(dir, 'short.lua');
  const list = ids.map((id) => `"${id}"`).join(',');
  writeFileSync(
    script,
    `local ids = {${list}}\nrequest = function()\n  return wrk.format(nil, "/api/v1/attack?vm_id=" .. ids[math.random(#ids)])\nend\n`,
  );
  spawnSync('wrk', ['-t2', '-c50', '-d3s', '-s', script, url]);
}

await main();
