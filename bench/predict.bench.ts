/**
 * `npm run bench:predict`: the attribution predict service and the candidate filter.
 *
 * 1. Pairs/s through POST /api/v1/predict on a `serve --role predict` child process with 1 and
 *    2 worker threads (batches of BENCH_BATCH pairs, BENCH_CONCURRENCY requests in flight, for
 *    BENCH_SECONDS each), next to the ceiling: features and scores in-process without HTTP.
 * 2. p99 latency of a 1,000-pair batch, one request at a time.
 * 3. The filter at scale: BENCH_FACTS facts x BENCH_ORGS organizations, generated and joined in
 *    batches of 50,000 facts as the attribution.filter jobs do (index build, facts/s, pairs).
 *
 * Requests are serialised once up front, and the client does not parse the answers, so the
 * load generator costs as little as it can on the two cores it shares with the server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { featurize } from '#src/attribution/features.model.js';
import { scoreInto } from '#src/attribution/model.js';
import { loadModel } from '#src/attribution/predict.service.js';
import {
  EVIDENCE_TYPES,
  SeedIndex,
  emptyStats,
  generateCandidates,
  type SeededOrganization,
} from '#src/attribution/filter.model.js';
import { toFact, type Fact, type FactInput } from '#src/attribution/facts.model.js';
import { bundledStopList } from '#src/attribution/bulk-entities.js';
import { prng } from '#src/attribution/evalset.model.js';
import { int, machine, median, ms, quantile, table, wholeNumber } from './common.js';

const MAIN = new URL('../src/cli/main.js', import.meta.url).pathname;
const SECONDS = wholeNumber('BENCH_SECONDS', 6, 1);
const BATCH = wholeNumber('BENCH_BATCH', 10_000, 1);
const CONCURRENCY = wholeNumber('BENCH_CONCURRENCY', 4, 1);
const LATENCY_REQUESTS = wholeNumber('BENCH_LATENCY_REQUESTS', 200, 10);
const FACTS = wholeNumber('BENCH_FACTS', 1_000_000, 1000);
const ORGS = wholeNumber('BENCH_ORGS', 10_000, 10);
const T = Date.UTC(2026, 9, 1);

/** A deterministic batch of pairs with 1-4 pieces of evidence each. */
function pairs(count: number, seed: number): unknown[] {
  const rand = prng(seed);
  return Array.from({ length: count }, (_, i) => ({
    asset: `host${String(i)}.example${String(i % 97)}.com`,
    org_id: `org-${String(i % 1000)}`,
    evidence: Array.from({ length: 1 + Math.floor(rand() * 4) }, () => ({
      type: EVIDENCE_TYPES[Math.floor(rand() * EVIDENCE_TYPES.length)]!,
      value: 'example.com',
      source: rand() < 0.5 ? 'whois' : 'ct',
      similarity: rand() < 0.8 ? 1 : 0.5,
      shared: 1 + Math.floor(rand() * 3),
      seen_at: T - Math.floor(rand() * 400) * 86_400_000,
    })),
  }));
}

/** A port free right now (a cluster's workers cannot share port 0). */
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

/** Starts `serve --role predict` and resolves once every worker process listens. */
async function startPredict(
  threads: number,
  workers: number,
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'serve',
      '--role',
      'predict',
      '--port',
      String(port),
      '--workers',
      String(workers),
      '--worker-threads',
      String(threads),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, SURFACESCAN_LOG_LEVEL: 'info' },
    },
  );
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const record = JSON.parse(line) as { msg?: string; url?: string };
        if (record.msg === 'surfacescan predict listening') resolve({ child, url: record.url! });
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => {
      reject(new Error(`predict server exited with ${String(code)}`));
    });
  });
}

async function post(url: string, body: string): Promise<void> {
  const response = await fetch(`${url}/api/v1/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  if (response.status !== 200) throw new Error(`predict answered ${String(response.status)}`);
  await response.arrayBuffer();
}

/** Pairs/s over SECONDS with CONCURRENCY requests of BATCH pairs in flight. */
async function throughput(url: string, body: string): Promise<number> {
  await post(url, body); // warm-up: JIT, threads
  const until = performance.now() + SECONDS * 1000;
  const start = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        await post(url, body);
        done++;
      }
    }),
  );
  return (done * BATCH) / ((performance.now() - start) / 1000);
}

/** Latencies (ms) of 1,000-pair batches, one at a time. */
async function latencies(url: string, body: string): Promise<number[]> {
  for (let i = 0; i < 10; i++) await post(url, body);
  const out: number[] = [];
  for (let i = 0; i < LATENCY_REQUESTS; i++) {
    const start = performance.now();
    await post(url, body);
    out.push(performance.now() - start);
  }
  return out.sort((a, b) => a - b);
}

/** In-process ceiling: featurize + score, no HTTP, no JSON, no threads. */
function ceiling(batch: unknown[]): number {
  const model = loadModel(null);
  const typed = batch as Parameters<typeof featurize>[0];
  const out = new Float64Array(typed.length);
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < 500) {
      const x = featurize(typed, T);
      scoreInto(model.weights, model.bias, x, typed.length, out);
      n += typed.length;
    }
    rounds.push(n / ((performance.now() - start) / 1000));
  }
  return median(rounds);
}

/** Synthetic organizations and a generator of facts about their assets and the world's. */
function filterWorld(orgCount: number): {
  orgs: SeededOrganization[];
  facts: (from: number, count: number) => Fact[];
} {
  const orgs: SeededOrganization[] = Array.from({ length: orgCount }, (_, i) => ({
    id: `org-${String(i)}`,
    name: `Company ${String(i)} Holdings`,
    seeds: {
      domains: [`company${String(i)}.com`, `company${String(i)}.net`],
      cidrs: [`10.${String(i >> 8)}.${String(i & 255)}.0/24`],
      asns: [64_512 + (i % 1000)],
      names: [],
    },
  }));
  const facts = (from: number, count: number): Fact[] => {
    const rand = prng(from + 1);
    const out: Fact[] = [];
    for (let k = from; k < from + count; k++) {
      const org = Math.floor(rand() * orgCount);
      const mine = rand() < 0.3;
      const subject = mine
        ? `shop${String(k)}.company${String(org)}.com`
        : `site${String(k)}.example.org`;
      const r = rand();
      let input: FactInput;
      if (r < 0.3)
        input = {
          kind: 'registration',
          subject,
          value: {
            registrant_org: mine ? `Company ${String(org)} Holdings Inc.` : 'Domains By Proxy, LLC',
            registrant_email: mine ? `hostmaster@company${String(org)}.com` : 'x@gmail.com',
            name_servers: [mine ? `ns1.company${String(org)}.com` : 'ns1.domaincontrol.com'],
          },
        };
      else if (r < 0.5)
        input = {
          kind: 'certificate',
          subject,
          value: { sans: [subject, mine ? `company${String(org)}.net` : 'cdn.example.org'] },
        };
      else if (r < 0.8)
        input = {
          kind: 'dns',
          subject,
          value: {
            type: 'A',
            data: mine
              ? `10.${String(org >> 8)}.${String(org & 255)}.${String(k & 255)}`
              : `100.64.${String((k >> 8) & 255)}.${String(k & 255)}`,
          },
        };
      else
        input = {
          kind: 'dns',
          subject,
          value: { type: 'MX', data: mine ? `mx.company${String(org)}.com` : 'aspmx.l.google.com' },
        };
      const fact = toFact({ ...input, seen_at: T }, T, 'bench');
      if (typeof fact !== 'string') out.push(fact);
    }
    return out;
  };
  return { orgs, facts };
}

async function main(): Promise<void> {
  console.log(`# Attribution benchmark\n\n${machine()}\n`);
  const big = JSON.stringify({ pairs: pairs(BATCH, 1), as_of: T });
  const small = JSON.stringify({ pairs: pairs(1000, 2), as_of: T });
  const rows: string[][] = [];
  const ceil = ceiling(pairs(BATCH, 1));
  for (const [threads, workers] of [
    [1, 1],
    [2, 1],
    [1, 2],
  ] as const) {
    const server = await startPredict(threads, workers);
    try {
      const rate = await throughput(server.url, big);
      const lat = await latencies(server.url, small);
      rows.push([
        `POST /api/v1/predict, ${String(workers)} process${workers === 1 ? '' : 'es'} x ${String(threads)} worker thread${threads === 1 ? '' : 's'}`,
        int(rate),
        (rate / ceil).toFixed(3),
        ms(quantile(lat, 0.5)),
        ms(quantile(lat, 0.99)),
      ]);
    } finally {
      server.child.kill('SIGTERM');
    }
  }
  rows.push(['ceiling: featurize + score in-process', int(ceil), '1.000', '-', '-']);
  console.log(
    `## Predict (batches of ${int(BATCH)} pairs, ${String(CONCURRENCY)} in flight, ${String(SECONDS)} s; latency: 1,000-pair batches one at a time)\n`,
  );
  console.log(
    table(
      ['path', 'pairs/s', 'ratio to ceiling', 'p50 ms (1,000 pairs)', 'p99 ms (1,000 pairs)'],
      rows,
    ),
  );

  // The filter at scale, in batches as the jobs run it.
  const world = filterWorld(ORGS);
  let start = performance.now();
  const index = new SeedIndex(world.orgs, bundledStopList());
  const indexMs = performance.now() - start;
  const stats = emptyStats();
  let genMs = 0;
  let filterMs = 0;
  const STEP = 50_000;
  for (let from = 0; from < FACTS; from += STEP) {
    start = performance.now();
    const batch = world.facts(from, Math.min(STEP, FACTS - from));
    genMs += performance.now() - start;
    start = performance.now();
    generateCandidates(index, batch, stats);
    filterMs += performance.now() - start;
  }
  console.log(
    `\n## Filter (${int(FACTS)} facts x ${int(ORGS)} organizations, batches of ${int(STEP)})\n`,
  );
  console.log(
    table(
      ['step', 'ms', 'facts/s'],
      [
        ['seed index build', ms(indexMs), '-'],
        ['parse + normalise facts (toFact)', ms(genMs), int(FACTS / (genMs / 1000))],
        ['filter (candidates with evidence)', ms(filterMs), int(FACTS / (filterMs / 1000))],
      ],
    ),
  );
  console.log(
    `\npairs: ${int(stats.pairs)} from ${int(stats.assets)} assets; by evidence: ${JSON.stringify(stats.by_evidence)}; stopped: ${JSON.stringify(stats.stopped)}`,
  );
}

await main();
