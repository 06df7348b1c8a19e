/**
 * `npm run bench:scan`: nmap and our scanner side by side on 127.0.0.1 (bench/scan-compare.ts
 * starts the daemons, runs nmap and prints the report). Ours is the `surfacescan scan` command
 * a user runs, as a process of its own like nmap: one run over all 65,535 ports without
 * identification (nmap -sT -T4 -p-), then one run that identifies the daemons' ports
 * (nmap -sV). Process start, migrations and storage are inside our times.
 *
 * Settings (environment): BENCH_ROUNDS (default 3), BENCH_RATE (probes/s of our all-ports run,
 * default 1,000,000, i.e. no cap: nmap -T4 has none either, both run at the machine's ceiling),
 * BENCH_CONCURRENCY (connections in flight, default 1024).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, runCli } from '../test/helpers/cli.js';
import { wholeNumber } from './common.js';
import { runScanBench, type NamedService, type OurScan } from './scan-compare.js';

const rounds = wholeNumber('BENCH_ROUNDS', 3, 1);
const rate = wholeNumber('BENCH_RATE', 1_000_000, 1);
const concurrency = wholeNumber('BENCH_CONCURRENCY', 1024, 1);

const dir = mkdtempSync(join(tmpdir(), 'surfacescan-bench-scan-'));
const env = cleanEnv({
  SURFACESCAN_DATABASE_URL: `sqlite:${join(dir, 'bench.db')}`,
  SURFACESCAN_SCAN_MAX_RATE: String(rate),
});
/** A run may take as long as service detection on a slow machine; the bench must not cut it. */
const RUN_TIMEOUT_MS = 300_000;

/** Runs the CLI; resolves with stdout and the wall-clock seconds, rejects on a non-zero exit. */
async function surfacescan(args: readonly string[]): Promise<{ stdout: string; seconds: number }> {
  const started = performance.now();
  const run = await runCli(args, env, RUN_TIMEOUT_MS);
  if (run.code !== 0) {
    throw new Error(`surfacescan ${args.join(' ')} exited ${String(run.code)}: ${run.stderr}`);
  }
  return { stdout: run.stdout, seconds: (performance.now() - started) / 1000 };
}

interface ScanJson {
  services: { port: number; service?: string; product?: string; version?: string }[];
}

const scan = async (
  host: string,
  ports: string,
  extra: readonly string[],
): Promise<{ json: ScanJson; seconds: number }> => {
  const run = await surfacescan([
    'scan',
    '--org',
    'Bench',
    '--targets',
    host,
    '--ports',
    ports,
    '--no-progress',
    '--json',
    ...extra,
  ]);
  return { json: JSON.parse(run.stdout) as ScanJson, seconds: run.seconds };
};

try {
  await surfacescan(['org', 'add', 'Bench', '--cidr', '127.0.0.0/8']);
  await runScanBench(
    async ({ host, servicePorts }): Promise<OurScan> => {
      const sweep = await scan(host, '1-65535', [
        '--no-identify',
        '--rate',
        String(rate),
        '--concurrency',
        String(concurrency),
      ]);
      const detect = await scan(host, servicePorts.join(','), []);
      const services = new Map<number, NamedService>();
      for (const s of detect.json.services) {
        if (s.service === undefined) continue;
        services.set(s.port, {
          name: s.service,
          ...(s.product === undefined ? {} : { product: s.product }),
          ...(s.version === undefined ? {} : { version: s.version }),
        });
      }
      return {
        seconds: sweep.seconds + detect.seconds,
        portSeconds: sweep.seconds,
        serviceSeconds: detect.seconds,
        openPorts: sweep.json.services.map((s) => s.port).sort((a, b) => a - b),
        services,
      };
    },
    { rounds },
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
