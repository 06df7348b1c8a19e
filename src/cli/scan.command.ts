/**
 * `surfacescan scan`: scans in-scope targets from this process, without a server, and stores
 * the results in the database like a worker would (services, observations, issues). Progress
 * goes to stderr (a bar on a terminal, a line every few seconds otherwise); the result table
 * (or JSON) to stdout.
 */
import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import { withDatabase } from '#src/cli/database.js';
import cliProgress from 'cli-progress';
import { AssetRepository } from '#src/assets/assets.repository.js';
import { InterruptedError, UsageError } from '#src/cli/errors.js';
import { addSettingOptions, configFromOptions } from '#src/cli/settings-options.js';
import { AppError } from '#src/http/errors.js';
import { RateLimiter } from '#src/discovery/connect-scan.js';
import {
  createScanService,
  loadScanCapabilities,
  loadScanData,
} from '#src/discovery/discovery.wiring.js';
import type { ScanService } from '#src/discovery/scan.service.js';

/** Options of the scan command as commander hands them over. */
interface ScanOptions {
  readonly org: string;
  readonly targets: string;
  readonly ports: string;
  readonly rate?: string;
  readonly concurrency?: string;
  readonly timeoutMs?: string;
  readonly retries?: string;
  readonly threads?: string;
  readonly identify: boolean;
  readonly json?: boolean;
  readonly progress: boolean;
}

function whole(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number, got "${text}"`);
  return Number(text);
}

/** Builds the scan command. */
export function scanCommand(
  write: (text: string) => void,
  writeErr: (text: string) => void,
): Command {
  const command = new Command('scan')
    .description(
      'Scan targets of an organization (TCP connect + service identification) from this\n' +
        'process and store the results. Every target must be in the organization scope;\n' +
        'nothing is sent when one is not.',
    )
    .requiredOption('--org <id|name>', 'organization whose scope the targets must be in')
    .requiredOption('--targets <list>', 'comma-separated IPs, CIDR blocks and host names')
    .option('--ports <list>', 'ports: "22,80", "1-1024", "top-100", "-" for all', 'top-100')
    .option('--rate <n>', 'probes per second (default: SURFACESCAN_SCAN_DEFAULT_RATE)')
    .option('--concurrency <n>', 'connections in flight at most')
    .option('--timeout-ms <n>', 'connect timeout per probe')
    .option('--retries <n>', 'extra tries for a port that did not answer')
    .option(
      '--threads <n>',
      `threads sharing the connect sweep and its rate (default: the cores, here ${String(defaultThreads())})`,
    )
    .option('--no-identify', 'only find open ports; do not probe what runs on them')
    .option('--no-progress', 'no progress output')
    .addOption(new Option('--json', 'print the result as JSON'));
  addSettingOptions(command, [
    'databaseUrl',
    'scanMaxRate',
    'scanDefaultRate',
    'scanMaxHosts',
    'policies',
    'fingerprints',
  ]);
  command.action(async (options: ScanOptions & Record<string, string | boolean | undefined>) => {
    const config = configFromOptions(options);
    const rate = whole('rate', options.rate);
    const concurrency = whole('concurrency', options.concurrency);
    const timeoutMs = whole('timeout-ms', options.timeoutMs);
    const retries = whole('retries', options.retries);
    const threads = whole('threads', options.threads) ?? defaultThreads();
    if (threads < 1 || threads > 64) throw new UsageError('--threads must be from 1 to 64');
    // A bad policy or fingerprint file stops the command before the database is touched.
    const data = loadScanData(config);
    await withDatabase(config.databaseUrl, async (db) => {
      const scans = createScanService(
        db,
        new AssetRepository(db),
        config,
        loadScanCapabilities(db, data),
      );
      let scan;
      try {
        scan = await scans.plan({
          org: options.org,
          targets: options.targets
            .split(',')
            .map((t) => t.trim())
            .filter((t) => t !== ''),
          ports: options.ports,
          rate,
          concurrency,
          timeoutMs,
          retries,
          parallelism: 1,
          identify: options.identify,
        });
      } catch (error) {
        if (error instanceof AppError && error.status < 500) throw new UsageError(error.message);
        throw error;
      }
      const controller = new AbortController();
      const onSignal = (): void => {
        controller.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const started = performance.now();
      const bar = progressReporter(options.progress, writeErr, scan.probesTotal, scan.hosts.length);
      try {
        await runAllShards(
          scans,
          scan.id,
          scan.shardCount,
          scan.options.rate,
          threads,
          controller.signal,
          bar.update,
        );
      } finally {
        bar.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      const seconds = (performance.now() - started) / 1000;
      if (controller.signal.aborted) {
        await scans.repository.endScan(db.kysely, scan.id, 'cancelled', Date.now(), 'interrupted');
        throw new InterruptedError(`scan ${scan.id} interrupted; what it found so far is stored`);
      }
      const services = await scans.repository.servicesOfRun(db.kysely, scan.id);
      services.sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
      if (options.json === true) {
        write(
          `${JSON.stringify({ scanId: scan.id, seconds, probes: scan.probesTotal, services: services.map((s) => s.finding) }, null, 2)}\n`,
        );
        return;
      }
      const rows = services.map((s) =>
        [
          `${s.ip}:${String(s.port)}`,
          s.service ?? '?',
          [s.product, s.version].filter(Boolean).join(' '),
        ].join('\t'),
      );
      write(`${['ENDPOINT\tSERVICE\tPRODUCT', ...rows].join('\n')}\n`);
      write(
        `scan ${scan.id}: ${String(scan.probesTotal)} probes of ${String(scan.hosts.length)} host(s) in ${seconds.toFixed(1)} s, ${String(services.length)} open\n`,
      );
    });
  });
  return command;
}

/** Connect-sweep threads of a CLI scan by default: the cores, at most 8. */
function defaultThreads(): number {
  return Math.min(8, availableParallelism());
}

/**
 * Runs every shard of a scan in order in this process, under one rate limiter (one thread) or
 * split across `threads` threads that share the rate.
 */
async function runAllShards(
  scans: ScanService,
  scanId: string,
  shardCount: number,
  rate: number,
  threads: number,
  signal: AbortSignal,
  onProgress: (probesDone: number, openFound: number) => void,
): Promise<void> {
  const limiter = new RateLimiter(rate);
  let doneBefore = 0;
  let openBefore = 0;
  for (let shard = 0; shard < shardCount && !signal.aborted; shard++) {
    const outcome = await scans.runShard(scanId, shard, {
      signal,
      limiter,
      threads,
      onProgress: (done, open) => {
        onProgress(doneBefore + done, openBefore + open);
      },
    });
    doneBefore += outcome.probesDone;
    openBefore += outcome.openFound;
    onProgress(doneBefore, openBefore);
  }
}

function progressReporter(
  enabled: boolean,
  writeErr: (text: string) => void,
  total: number,
  hosts: number,
): { update: (done: number, open: number) => void; stop: () => void } {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  const started = performance.now();
  const rateOf = (done: number): string =>
    String(Math.round(done / Math.max(0.001, (performance.now() - started) / 1000)));
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `scan {bar} {percentage}% | ${String(hosts)} host(s) | {value}/{total} probes | {rate} ports/s | {open} open`,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { rate: '0', open: 0 });
    return {
      update: (done, open) => {
        bar.update(done, { rate: rateOf(done), open });
      },
      stop: () => {
        bar.stop();
      },
    };
  }
  // Not a terminal (a log file, CI): a plain line every few seconds.
  let last = 0;
  return {
    update: (done, open) => {
      const now = performance.now();
      if (now - last < 5000 && done < total) return;
      last = now;
      writeErr(
        `scan: ${String(done)}/${String(total)} probes, ${rateOf(done)} ports/s, ${String(open)} open\n`,
      );
    },
    stop: () => undefined,
  };
}
