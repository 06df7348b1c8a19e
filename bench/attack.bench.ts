/**
 * npm run bench:attack: the cloud attack API against its ceiling, in one run, with one load
 * tool and the same settings for every scenario: wrk, 50 connections, 2 threads, a fixed
 * duration, a random vm_id of the environment per request (a Lua request() function).
 *
 * Every server, the ceiling included, runs as a child process, so all of them pay the same
 * process and loopback costs, and the load generator shares the machine with the server exactly
 * as in the other scenarios. The output is Markdown, ready to paste into docs/benchmarks.md.
 *
 * Environment variables:
 * - BENCH_DURATION: measured seconds per scenario (default 10; 3 for a quick run);
 * - BENCH_WARMUP: seconds of the same load before measuring, discarded (default 2), so the JIT
 *   and the answer cache are in their steady state, as in a long-running server;
 * - BENCH_ROUNDS: repeat the whole sequence and report medians (default 1). Rounds interleave the
 *   scenarios in time, which is what evens out a noisy shared machine.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { environmentToJson, generateEnvironment } from '#src/cloud/gendata.model.js';
import { int, machine, median, ms, pct, quantile, sleep, table, wholeNumber } from './common.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const MAIN = join(ROOT, 'dist/src/cli/main.js');
const INPUT_3 = join(ROOT, 'test/fixtures/cloud/input-3.json');
const CONNECTIONS = 50;
const THREADS = 2;
// Long enough that a slow answer is measured rather than dropped as a wrk timeout.
const WRK_TIMEOUT_S = 10;
const SEED = 7;
const ANSWER_SAMPLES = 100;

/** Environments the bench generates; 100k is the design's worst case (see gendata's skew). */
const GENERATED = [
  { label: '1k', vms: 1000, tags: 100, rules: 300 },
  { label: '10k', vms: 10_000, tags: 1000, rules: 1000 },
  { label: '100k', vms: 100_000, tags: 1000, rules: 10_000 },
] as const;

const DURATION = wholeNumber('BENCH_DURATION', 10, 1);
const WARMUP = wholeNumber('BENCH_WARMUP', 2, 0);
const ROUNDS = wholeNumber('BENCH_ROUNDS', 1, 1);

interface WrkResult {
  readonly rps: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly bytesPerResponse: number;
  readonly non2xx: number;
  readonly timeouts: number;
  readonly otherSocketErrors: number;
}

/** What /api/v1/environment says, as far as the bench needs it. */
interface EnvironmentInfo {
  readonly vm_count: number;
  readonly rule_count: number;
  readonly tag_count: number;
  readonly build_ms: number;
  readonly attacker_set_count?: number;
  readonly cache?: { readonly warmed: boolean };
}

interface ServerFigures {
  readonly info: EnvironmentInfo;
  readonly readyMs: number;
  /** From ready to the end of the server's background answer-cache warm-up. */
  readonly cacheWarmMs: number;
  readonly rssReady: number;
  readonly rssWarm: number;
  readonly rssAfterLoad: number;
}

interface AnswerSizes {
  /** The answer of median size, as the server sent it. */
  readonly medianBody: Buffer;
  readonly p50Bytes: number;
  readonly p99Bytes: number;
  readonly maxBytes: number;
  readonly p50Ids: number;
}

interface Measurement {
  readonly result: WrkResult;
  readonly server: ServerFigures | undefined;
  readonly answers: AnswerSizes | undefined;
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

/** RSS in MiB of a process and all its descendants (the primary and workers of a cluster). */
function treeRssMb(pid: number): number {
  let kb = 0;
  const visit = (p: number): void => {
    try {
      const status = readFileSync(`/proc/${String(p)}/status`, 'utf8');
      kb += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
      const children = readFileSync(`/proc/${String(p)}/task/${String(p)}/children`, 'utf8');
      for (const child of children.trim().split(/\s+/).filter(Boolean)) visit(Number(child));
    } catch {
      // The process (or a worker) exited between listing and reading.
    }
  };
  visit(pid);
  return kb / 1024;
}

// --- wrk -----------------------------------------------------------------------------------

/**
 * A wrk script whose request() draws a random id per request. Each thread seeds its own
 * generator: with one seed, both threads would ask for the same ids in the same order and the
 * second would mostly hit answers the first had just put in the server's cache. Without ids,
 * request() returns a fixed path: every scenario, the ceiling included, then pays wrk the same
 * Lua call per request.
 */
function writeRequestScript(path: string, route: string, ids?: readonly string[]): void {
  const list = (ids ?? []).map((id) => JSON.stringify(encodeURIComponent(id))).join(',\n');
  const target =
    ids === undefined
      ? JSON.stringify(route)
      : `${JSON.stringify(`${route}?vm_id=`)} .. ids[math.random(#ids)]`;
  writeFileSync(
    path,
    `local ids = {\n${list}\n}\n` +
      `local threads = 0\n` +
      `function setup(thread)\n  threads = threads + 1\n  thread:set("thread_no", threads)\nend\n` +
      `function init(args)\n  math.randomseed(7919 * thread_no)\nend\n` +
      `function request()\n  return wrk.format(nil, ${target})\nend\n`,
  );
}

const UNITS_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };
const UNITS_BYTES: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

function parseWrk(out: string): WrkResult {
  const number = (re: RegExp, fallback = NaN): number => Number(re.exec(out)?.[1] ?? fallback);
  const duration = (match: RegExpExecArray | null): number =>
    match ? Number(match[1]) * (UNITS_MS[match[2]!] ?? NaN) : NaN;
  const latency = (label: string): number =>
    duration(new RegExp(`^\\s+${label}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out));
  const transfer = /Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB)/.exec(out);
  const rps = number(/Requests\/sec:\s+([\d.]+)/);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps,
    p50: latency('50'),
    p90: latency('90'),
    p99: latency('99'),
    max: duration(/Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)/.exec(out)),
    bytesPerResponse: transfer
      ? (Number(transfer[1]) * (UNITS_BYTES[transfer[2]!] ?? NaN)) / rps
      : NaN,
    non2xx: number(/Non-2xx or 3xx responses:\s+(\d+)/, 0),
    timeouts: Number(socket?.[4] ?? 0),
    otherSocketErrors: socket ? Number(socket[1]) + Number(socket[2]) + Number(socket[3]) : 0,
  };
}

async function wrk(url: string, script: string, seconds: number): Promise<WrkResult> {
  const args = [
    `-t${String(THREADS)}`,
    `-c${String(CONNECTIONS)}`,
    `-d${String(seconds)}s`,
    `--timeout`,
    `${String(WRK_TIMEOUT_S)}s`,
    '--latency',
    '-s',
    script,
    url,
  ];
  // Asynchronous, so the bench process stays idle (and off the CPU) while wrk runs.
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const result = parseWrk(out);
  if (code !== 0 || Number.isNaN(result.rps))
    throw new Error(`wrk failed (${String(code)}):\n${out}`);
  return result;
}

// --- servers -------------------------------------------------------------------------------

/**
 * The ceiling: what bare node:http answers with a fixed JSON body, nothing else. The body is
 * small by default; given a file, it is that file, to see what a payload alone costs.
 */
const CEILING_SOURCE = `
const http = require('node:http');
const file = process.argv[2];
const body = file ? require('node:fs').readFileSync(file) : Buffer.from('["vm-0c1791","vm-2987241"]');
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length };
const server = http.createServer((req, res) => {
  if (req.url === '/readyz') { res.writeHead(200); res.end('ok'); return; }
  res.writeHead(200, headers);
  res.end(body);
}).listen(Number(process.argv[1]), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  readonly readyMs: number;
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`server exited early (${String(child.exitCode ?? child.signalCode)})`);
    try {
      const res = await fetch(`${url}/readyz`);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(20);
  }
  throw new Error(`${url} was not ready within 120 s`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function start(args: (port: number) => readonly string[]): Promise<Running> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, args(port), { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${String(port)}`;
  try {
    await waitReady(url, child);
  } catch (error) {
    await stop(child);
    throw error;
  }
  return { child, url, readyMs: performance.now() - started };
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${String(res.status)}`);
  return res.json();
}

/** Index figures, RSS once ready, and RSS once the background answer-cache warm-up is done. */
async function startupFigures(running: Running): Promise<Omit<ServerFigures, 'rssAfterLoad'>> {
  const pid = running.child.pid!;
  const rssReady = treeRssMb(pid);
  const environment = `${running.url}/api/v1/environment`;
  const started = performance.now();
  let info = (await getJson(environment)) as EnvironmentInfo;
  while (info.cache?.warmed === false && performance.now() - started < 300_000) {
    await sleep(50);
    info = (await getJson(environment)) as EnvironmentInfo;
  }
  return {
    info,
    readyMs: running.readyMs,
    cacheWarmMs: performance.now() - started,
    rssReady,
    rssWarm: treeRssMb(pid),
  };
}

/** Sizes of real answers for ids spread over the environment: what each response carries. */
async function sampleAnswers(url: string, ids: readonly string[]): Promise<AnswerSizes> {
  const bodies: Buffer[] = [];
  for (let i = 0; i < ANSWER_SAMPLES; i++) {
    const id = ids[Math.floor((i * ids.length) / ANSWER_SAMPLES)]!;
    const res = await fetch(`${url}/api/v1/attack?vm_id=${encodeURIComponent(id)}`);
    bodies.push(Buffer.from(await res.arrayBuffer()));
  }
  bodies.sort((a, b) => a.length - b.length);
  const counts = bodies.map((body) => (JSON.parse(body.toString('utf8')) as unknown[]).length);
  counts.sort((a, b) => a - b);
  const sizes = bodies.map((body) => body.length);
  return {
    medianBody: bodies[bodies.length >> 1]!,
    p50Bytes: quantile(sizes, 0.5),
    p99Bytes: quantile(sizes, 0.99),
    maxBytes: sizes.at(-1) ?? NaN,
    p50Ids: quantile(counts, 0.5),
  };
}

/** What to start for one scenario. */
type Target =
  | { readonly kind: 'ceiling'; readonly script: string; readonly body?: string }
  | {
      readonly kind: 'server';
      readonly file: string;
      readonly workers: number;
      readonly script: string;
      /** Ids to sample answer sizes with after the load, for the large environments. */
      readonly sampleIds?: readonly string[];
    };

/** Starts the target, warms it up, measures it under load, and stops it. */
async function measure(target: Target): Promise<Measurement> {
  const running = await start((port) =>
    target.kind === 'ceiling'
      ? [
          '-e',
          CEILING_SOURCE,
          '--',
          String(port),
          ...(target.body === undefined ? [] : [target.body]),
        ]
      : [
          MAIN,
          'serve',
          '--cloud-env',
          target.file,
          '--host',
          '127.0.0.1',
          '--port',
          String(port),
          '--workers',
          String(target.workers),
          '--log-level',
          'warn',
        ],
  );
  try {
    const startup = target.kind === 'server' ? await startupFigures(running) : undefined;
    if (WARMUP > 0) await wrk(running.url, target.script, WARMUP);
    const result = await wrk(running.url, target.script, DURATION);
    const server = startup && { ...startup, rssAfterLoad: treeRssMb(running.child.pid!) };
    const answers =
      target.kind === 'server' && target.sampleIds !== undefined
        ? await sampleAnswers(running.url, target.sampleIds)
        : undefined;
    return { result, server, answers };
  } finally {
    await stop(running.child);
  }
}

/** Medians over rounds, field by field; errors are summed. */
function combine(all: readonly Measurement[]): Measurement {
  const med = (pick: (m: Measurement) => number | undefined): number =>
    median(all.map((m) => pick(m) ?? NaN));
  const sum = (pick: (r: WrkResult) => number): number =>
    all.reduce((total, m) => total + pick(m.result), 0);
  const first = all[0]!;
  return {
    result: {
      rps: med((m) => m.result.rps),
      p50: med((m) => m.result.p50),
      p90: med((m) => m.result.p90),
      p99: med((m) => m.result.p99),
      max: Math.max(...all.map((m) => m.result.max)),
      bytesPerResponse: med((m) => m.result.bytesPerResponse),
      non2xx: sum((r) => r.non2xx),
      timeouts: sum((r) => r.timeouts),
      otherSocketErrors: sum((r) => r.otherSocketErrors),
    },
    server: first.server && {
      info: { ...first.server.info, build_ms: med((m) => m.server?.info.build_ms) },
      readyMs: med((m) => m.server?.readyMs),
      cacheWarmMs: med((m) => m.server?.cacheWarmMs),
      rssReady: med((m) => m.server?.rssReady),
      rssWarm: med((m) => m.server?.rssWarm),
      rssAfterLoad: med((m) => m.server?.rssAfterLoad),
    },
    answers: first.answers,
  };
}

// --- formatting ----------------------------------------------------------------------------

const mib = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : '-');
const size = (n: number): string =>
  !Number.isFinite(n)
    ? '-'
    : n >= 1024 * 1024
      ? `${(n / 1024 / 1024).toFixed(2)} MiB`
      : n >= 10_240
        ? `${(n / 1024).toFixed(0)} KiB`
        : `${int(n)} B`;

function machineWithWrk(): string {
  const wrkOut = spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout;
  return `${machine()}, wrk ${/wrk\s+(\S+)/.exec(wrkOut)?.[1] ?? '?'}`;
}

// --- the run -------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (spawnSync('wrk', ['-v']).error !== undefined) {
    console.error('bench:attack needs wrk, which is not installed. Install it with:');
    console.error('  apt-get install wrk     (Debian/Ubuntu; `brew install wrk` on macOS)');
    process.exit(1);
  }
  if (!existsSync(MAIN)) {
    console.error(`${MAIN} is missing: run npm run build first`);
    process.exit(1);
  }
  const dir = mkdtempSync(join(tmpdir(), 'surfacescan-bench-'));
  try {
    await run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(dir: string): Promise<void> {
  console.log(`machine: ${machineWithWrk()}`);
  console.log(
    `load: wrk -t${String(THREADS)} -c${String(CONNECTIONS)} -d${String(DURATION)}s ` +
      `--timeout ${String(WRK_TIMEOUT_S)}s --latency, a random vm_id of the environment per ` +
      `request, after ${String(WARMUP)} s of the same load (discarded); ` +
      `${String(ROUNDS)} round(s)${ROUNDS > 1 ? ', medians' : ''}\n`,
  );

  // Environments: the fixture, and gendata's at three sizes (seed 7), with their ids.
  const files = new Map<string, string>([['input-3', INPUT_3]]);
  const ids = new Map<string, readonly string[]>();
  const fixture = JSON.parse(readFileSync(INPUT_3, 'utf8')) as { vms: { vm_id: string }[] };
  ids.set(
    'input-3',
    fixture.vms.map((vm) => vm.vm_id),
  );
  for (const spec of GENERATED) {
    const started = performance.now();
    const env = generateEnvironment({ ...spec, seed: SEED });
    const file = join(dir, `env-${spec.label}.json`);
    writeFileSync(file, environmentToJson(env));
    files.set(spec.label, file);
    ids.set(
      spec.label,
      env.vms.map((vm) => vm.vm_id),
    );
    console.error(
      `  generated ${spec.label} (${int(spec.vms)} VMs, ${int(spec.tags)} tags, ` +
        `${int(spec.rules)} rules) in ${ms(performance.now() - started)} ms`,
    );
  }
  const scripts = new Map<string, string>();
  for (const [label, list] of ids) {
    const script = join(dir, `random-${label}.lua`);
    writeRequestScript(script, '/api/v1/attack', list);
    scripts.set(label, script);
  }
  const statsScript = join(dir, 'stats.lua');
  writeRequestScript(statsScript, '/api/v1/stats');

  const attack = (label: string, workers = 1, sample = false): Target => ({
    kind: 'server',
    file: files.get(label)!,
    workers,
    script: scripts.get(label)!,
    ...(sample ? { sampleIds: ids.get(label)! } : {}),
  });
  // The small-body ceiling uses input-3's script: the very request lines of (b).
  const ceiling: Target = { kind: 'ceiling', script: scripts.get('input-3')! };
  // After each large-answer scenario, the ceiling serves that environment's median answer as
  // a fixed body: what node:http and the loopback alone allow at that payload.
  const matchedCeiling = (label: string): Target => ({
    kind: 'ceiling',
    script: scripts.get(label)!,
    body: join(dir, `median-answer-${label}.json`),
  });

  const scenarios: { key: string; name: string; target: () => Target; after?: string }[] = [
    { key: 'a1', name: '(a) ceiling: bare node:http, fixed small JSON', target: () => ceiling },
    { key: 'b', name: '(b) /attack, input-3 (11 VMs)', target: () => attack('input-3') },
    { key: 'e', name: '(e) /attack, input-3, --workers 2', target: () => attack('input-3', 2) },
    { key: 'c1k', name: '(c) /attack, 1k VMs / 300 rules', target: () => attack('1k', 1, true) },
    {
      key: 'c10k',
      name: '(c) /attack, 10k VMs / 1k rules',
      target: () => attack('10k', 1, true),
      after: '10k',
    },
    {
      key: 'm10k',
      name: '(a) ceiling, body = 10k median answer',
      target: () => matchedCeiling('10k'),
    },
    {
      key: 'c100k',
      name: '(c) /attack, 100k VMs / 10k rules',
      target: () => attack('100k', 1, true),
      after: '100k',
    },
    {
      key: 'm100k',
      name: '(a) ceiling, body = 100k median answer',
      target: () => matchedCeiling('100k'),
    },
    {
      key: 'd',
      name: '(d) /stats, input-3',
      target: () => ({ ...attack('input-3'), script: statsScript }),
    },
    { key: 'a2', name: '(a) ceiling again (noise check)', target: () => ceiling },
  ];

  const runs = new Map<string, Measurement[]>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const scenario of scenarios) {
      const measurement = await measure(scenario.target());
      if (scenario.after !== undefined && round === 1) {
        writeFileSync(
          join(dir, `median-answer-${scenario.after}.json`),
          measurement.answers!.medianBody,
        );
      }
      runs.set(scenario.key, [...(runs.get(scenario.key) ?? []), measurement]);
      const r = measurement.result;
      console.error(
        `  round ${String(round)}: ${scenario.name}: ${int(r.rps)} req/s, ` +
          `p50 ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms`,
      );
    }
  }
  const at = (key: string): Measurement => combine(runs.get(key)!);
  const range = (key: string): string => {
    const rps = runs.get(key)!.map((m) => m.result.rps);
    return `${int(Math.min(...rps))}-${int(Math.max(...rps))}`;
  };

  // Ratios are to the small-body ceiling, measured first and last; the two show the noise.
  const ceilingRps = median([at('a1').result.rps, at('a2').result.rps]);
  console.log(
    `Ceiling for the ratios: mean of the first and last ceiling runs, ${int(ceilingRps)} req/s ` +
      `(${int(at('a1').result.rps)} and ${int(at('a2').result.rps)}).\n`,
  );
  const errors = (r: WrkResult): string =>
    [
      r.non2xx > 0 ? `${int(r.non2xx)} non-2xx` : '',
      r.timeouts > 0 ? `${int(r.timeouts)} timeouts` : '',
      r.otherSocketErrors > 0 ? `${int(r.otherSocketErrors)} socket errors` : '',
    ]
      .filter(Boolean)
      .join(', ') || '0';
  console.log(
    table(
      [
        'scenario',
        'req/s',
        ...(ROUNDS > 1 ? ['req/s range'] : []),
        'p50 ms',
        'p90 ms',
        'p99 ms',
        'max ms',
        'vs ceiling',
        'bytes/response',
        'errors',
      ],
      scenarios.map(({ key, name }) => {
        const r = at(key).result;
        return [
          name,
          int(r.rps),
          ...(ROUNDS > 1 ? [range(key)] : []),
          ms(r.p50),
          ms(r.p90),
          ms(r.p99),
          ms(r.max),
          pct(r.rps / ceilingRps),
          size(r.bytesPerResponse),
          errors(r),
        ];
      }),
    ),
  );

  const envRows = [
    ['input-3', 'b'],
    ['1k', 'c1k'],
    ['10k', 'c10k'],
    ['100k', 'c100k'],
  ] as const;
  console.log(`\nAnswers of the generated environments (${String(ANSWER_SAMPLES)} VMs):\n`);
  console.log(
    table(
      ['environment', 'median attackers', 'median answer', 'p99 answer', 'largest answer'],
      envRows.slice(1).map(([label, key]) => {
        const a = at(key).answers;
        return [
          label,
          int(a?.p50Ids ?? NaN),
          size(a?.p50Bytes ?? NaN),
          size(a?.p99Bytes ?? NaN),
          size(a?.maxBytes ?? NaN),
        ];
      }),
    ),
  );

  console.log('\nIndex build and memory (1 worker; RSS = VmRSS of /proc/<pid>/status):\n');
  console.log(
    table(
      [
        'environment',
        'VMs',
        'rules',
        'tags',
        'attacker sets',
        'build ms',
        'spawn to ready ms',
        'cache warm-up ms',
        'RSS ready MiB',
        'RSS warmed MiB',
        'RSS after load MiB',
      ],
      envRows.map(([label, key]) => {
        const s = at(key).server!;
        return [
          label,
          int(s.info.vm_count),
          int(s.info.rule_count),
          int(s.info.tag_count),
          int(s.info.attacker_set_count ?? NaN),
          ms(s.info.build_ms),
          int(s.readyMs),
          int(s.cacheWarmMs),
          mib(s.rssReady),
          mib(s.rssWarm),
          mib(s.rssAfterLoad),
        ];
      }),
    ),
  );
  const two = at('e').server!;
  console.log(
    `\n--workers 2 on input-3 (primary + 2 workers): RSS ${mib(two.rssWarm)} MiB warmed up, ` +
      `${mib(two.rssAfterLoad)} MiB after load.`,
  );

  // Targets: pass or miss, and by how much.
  const verdict = (ok: boolean): string => (ok ? 'PASS' : 'MISS');
  const b = at('b').result;
  const bRatio = b.rps / ceilingRps;
  console.log('\nTargets:');
  console.log(
    `- (b) >= 80% of the ceiling's req/s: ${verdict(bRatio >= 0.8)}, ${pct(bRatio)} ` +
      `(${int(b.rps)} of ${int(ceilingRps)} req/s)`,
  );
  for (const [label, key, matched] of [
    ['10k', 'c10k', 'm10k'],
    ['100k', 'c100k', 'm100k'],
  ] as const) {
    const c = at(key);
    const m = at(matched).result;
    const p99 = c.result.p99;
    console.log(
      `- (c) p99 < 10 ms at ${label}: ${verdict(p99 < 10)}, ${ms(p99)} ms` +
        `${p99 < 10 ? '' : ` (${(p99 / 10).toFixed(1)}x the target)`}, ${int(c.result.rps)} req/s, ` +
        `${size(c.result.bytesPerResponse)} per response on average ` +
        `(median answer ${size(c.answers?.p50Bytes ?? NaN)}); bare node:http sending the median ` +
        `answer: p99 ${ms(m.p99)} ms, ${int(m.rps)} req/s (server at ${pct(c.result.rps / m.rps)})`,
    );
  }
  const big = at('c100k').server!;
  const peak = Math.max(big.rssReady, big.rssWarm, big.rssAfterLoad);
  console.log(
    `- 100k VMs / 10k rules indexed in < 3 s: ${verdict(big.info.build_ms < 3000)}, ` +
      `${ms(big.info.build_ms)} ms (${pct(big.info.build_ms / 3000)} of the budget; ` +
      `spawn to ready ${int(big.readyMs)} ms, including reading and validating the file)`,
  );
  console.log(
    `- 100k VMs / 10k rules with RSS < 1 GiB: ${verdict(peak < 1024)}, peak ${mib(peak)} MiB ` +
      `(${pct(peak / 1024)} of the budget)`,
  );
  const e = at('e').result;
  console.log(
    `- (e) --workers 2: ${int(e.rps)} req/s, ${pct(e.rps / b.rps)} of 1 worker ` +
      `(${String(cpus().length)} cores, shared with wrk)`,
  );
}

await main();
