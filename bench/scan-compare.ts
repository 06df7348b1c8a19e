/**
 * The scan benchmark: nmap (the Debian package) and our scanner on the same loopback targets in
 * one run: every TCP port of 127.0.0.1 by full connect, and service detection on real daemons
 * from Debian packages started for the run (test/helpers/daemons.ts). Prints the time ratio
 * and how far the two agree, as Markdown for docs/benchmarks.md.
 *
 * This module exports runScanBench; bench/scan.bench.ts is the entry that passes it our scanner
 * (the surfacescan CLI).
 *
 * Note that 127.0.0.1 also carries the machine's shared services and whatever other processes
 * listen at the moment, so the two all-ports scans may differ by short-lived ports; the
 * daemons' ports are the ones both must find.
 */
import {
  closeAll,
  DAEMON_KINDS,
  type Daemon,
  type DaemonKind,
  type ExpectedService,
  missingBinaries,
  startDaemons,
} from '../test/helpers/daemons.js';
import { machine, median, table } from './common.js';
import { nmapFullConnect, nmapServiceDetect, nmapVersion, type NmapService } from './scan-nmap.js';

/** A service as a scanner names it (nmap's vocabulary). */
export interface NamedService {
  /** Service name, e.g. ssh, http, mysql. */
  readonly name: string;
  /** Product, e.g. OpenSSH, nginx. */
  readonly product?: string;
  /** The product's version. */
  readonly version?: string;
}

/** What the scanner under test reports for one run. */
export interface OurScan {
  /** Wall-clock seconds of the whole run: all ports and service detection. */
  readonly seconds: number;
  /** Of which the all-ports sweep, if the scanner can tell. */
  readonly portSeconds?: number;
  /** Of which service detection, if the scanner can tell. */
  readonly serviceSeconds?: number;
  /** Open TCP ports of the host. */
  readonly openPorts: readonly number[];
  /** Services it named, by port (at least for the daemons' ports). */
  readonly services: ReadonlyMap<number, NamedService>;
}

/**
 * Our scanner: scan every TCP port of `host` and name the services on it; `servicePorts` are
 * the daemons' ports (for a scanner that detects services in a second pass, as nmap -sV does).
 */
export type OurScanner = (target: {
  host: string;
  servicePorts: readonly number[];
}) => Promise<OurScan>;

/** Settings of runScanBench. */
export interface ScanBenchOptions {
  /** Daemons to start; by default every kind whose binaries are installed. */
  readonly kinds?: readonly DaemonKind[];
  /** Rounds of nmap-then-ours (alternating order); times are medians. Default 1. */
  readonly rounds?: number;
  /** Where the output goes; console.log by default. */
  readonly print?: (text: string) => void;
}

/** One daemon's row in the report. */
export interface ServiceRow {
  readonly kind: DaemonKind;
  readonly port: number;
  readonly expected: ExpectedService;
  readonly nmap: NmapService | undefined;
  readonly ours: NamedService | undefined;
}

/** What runScanBench measured (also printed). */
export interface ScanBenchReport {
  /** Median seconds: nmap's all-ports connect scan, its -sV run, and the two together. */
  readonly nmap: {
    readonly portSeconds: number;
    readonly serviceSeconds: number;
    readonly seconds: number;
  };
  /** Median seconds of our scanner's runs (and its phases, when it reported them). */
  readonly ours: {
    readonly portSeconds: number;
    readonly serviceSeconds: number;
    readonly seconds: number;
  };
  /** ours / nmap, whole runs. */
  readonly ratio: number;
  /** Open ports of the last round: found by both, only by nmap, only by ours. */
  readonly openPorts: {
    readonly both: number[];
    readonly nmapOnly: number[];
    readonly oursOnly: number[];
  };
  /** Per daemon: expected, nmap's and our naming (last round). */
  readonly services: ServiceRow[];
  /** Daemons whose service name nmap and ours agree on. */
  readonly agreeing: number;
}

const sameName = (a: { name: string } | undefined, b: { name: string } | undefined): boolean =>
  a !== undefined && b !== undefined && a.name === b.name;

/**
 * Whether a naming matches what the daemon is: the same service, and the expected product in
 * its product or version (nmap names MariaDB "MySQL", version "5.5.5-10.11.19-MariaDB-...").
 */
function matches(expected: ExpectedService, found: NamedService | undefined): boolean {
  if (found?.name !== expected.service) return false;
  if (expected.product === undefined) return true;
  const said = `${found.product ?? ''} ${found.version ?? ''}`.toLowerCase();
  return said.includes(expected.product.toLowerCase());
}

const naming = (s: NamedService | undefined): string =>
  s === undefined ? '-' : [s.name, s.product, s.version].filter((x) => x !== undefined).join(' / ');

const seconds = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '-');

/**
 * Starts the daemons, runs nmap and `ours` on 127.0.0.1 (rounds times), prints the Markdown
 * report and returns the figures. The daemons are closed afterwards, also on failure.
 */
export async function runScanBench(
  ours: OurScanner,
  options: ScanBenchOptions = {},
): Promise<ScanBenchReport> {
  const print =
    options.print ??
    ((text: string) => {
      console.log(text);
    });
  const rounds = options.rounds ?? 1;
  const host = '127.0.0.1';
  const version = await nmapVersion();
  if (version === undefined) throw new Error('nmap is not installed (apt-get install nmap)');
  const kinds = options.kinds ?? DAEMON_KINDS.filter((kind) => missingBinaries(kind).length === 0);
  const skipped = DAEMON_KINDS.filter((kind) => !kinds.includes(kind));

  let daemons: Daemon[] = [];
  try {
    daemons = await startDaemons(kinds);
    const servicePorts = daemons.map((d) => d.port);
    print(`machine: ${machine()}`);
    print(`${version}; ${String(rounds)} round(s), times are medians`);
    print(
      `daemons: ${daemons.map((d) => `${d.kind}:${String(d.port)}`).join(', ')}` +
        (skipped.length > 0 ? ` (not installed: ${skipped.join(', ')})` : ''),
    );

    const nmapRuns: { port: number; service: number }[] = [];
    const ourRuns: OurScan[] = [];
    let nmapOpen: number[] = [];
    let nmapServices = new Map<number, NmapService>();
    let last: OurScan | undefined;
    const runNmap = async (): Promise<void> => {
      const full = await nmapFullConnect(host);
      const detect = await nmapServiceDetect(host, servicePorts);
      nmapRuns.push({ port: full.seconds, service: detect.seconds });
      nmapOpen = full.openPorts;
      nmapServices = detect.services;
    };
    const runOurs = async (): Promise<void> => {
      last = await ours({ host, servicePorts });
      ourRuns.push(last);
    };
    for (let round = 0; round < rounds; round++) {
      // Alternating the order evens out a machine whose load drifts during the run.
      if (round % 2 === 0) {
        await runNmap();
        await runOurs();
      } else {
        await runOurs();
        await runNmap();
      }
    }
    if (last === undefined) throw new Error('no rounds were run');
    const oursLast: OurScan = last;

    const nmapTimes = {
      portSeconds: median(nmapRuns.map((r) => r.port)),
      serviceSeconds: median(nmapRuns.map((r) => r.service)),
      seconds: median(nmapRuns.map((r) => r.port + r.service)),
    };
    const ourTimes = {
      portSeconds: median(ourRuns.map((r) => r.portSeconds ?? NaN)),
      serviceSeconds: median(ourRuns.map((r) => r.serviceSeconds ?? NaN)),
      seconds: median(ourRuns.map((r) => r.seconds)),
    };
    const ratio = ourTimes.seconds / nmapTimes.seconds;
    const ratioOf = (a: number, b: number): string =>
      Number.isFinite(a / b) ? `${(a / b).toFixed(2)}x` : '-';
    // Each round's all-ports times: nmap's on loopback are bimodal (about 0.9 s or 1.9 s).
    print(
      `all-ports rounds (s): nmap ${nmapRuns.map((r) => seconds(r.port)).join(', ')}; ours ` +
        ourRuns.map((r) => seconds(r.portSeconds ?? NaN)).join(', '),
    );
    print('');
    print(
      table(
        ['127.0.0.1', 'nmap (s)', 'ours (s)', 'ours / nmap'],
        [
          [
            'all 65,535 TCP ports, connect',
            seconds(nmapTimes.portSeconds),
            seconds(ourTimes.portSeconds),
            ratioOf(ourTimes.portSeconds, nmapTimes.portSeconds),
          ],
          [
            `service detection, ${String(daemons.length)} daemons`,
            seconds(nmapTimes.serviceSeconds),
            seconds(ourTimes.serviceSeconds),
            ratioOf(ourTimes.serviceSeconds, nmapTimes.serviceSeconds),
          ],
          [
            'whole run',
            seconds(nmapTimes.seconds),
            seconds(ourTimes.seconds),
            ratioOf(ourTimes.seconds, nmapTimes.seconds),
          ],
        ],
      ),
    );

    const oursOpen = new Set(oursLast.openPorts);
    const nmapSet = new Set(nmapOpen);
    const openPorts = {
      both: nmapOpen.filter((p) => oursOpen.has(p)),
      nmapOnly: nmapOpen.filter((p) => !oursOpen.has(p)),
      oursOnly: [...oursOpen].filter((p) => !nmapSet.has(p)).sort((a, b) => a - b),
    };
    const services: ServiceRow[] = daemons.map((d) => ({
      kind: d.kind,
      port: d.port,
      expected: d.expected,
      nmap: nmapServices.get(d.port),
      ours: oursLast.services.get(d.port),
    }));
    const agreeing = services.filter((row) => sameName(row.nmap, row.ours)).length;
    const yes = (ok: boolean): string => (ok ? 'yes' : '**no**');

    print('');
    print(
      table(
        ['daemon', 'port', 'expected', 'nmap', 'ours', 'nmap ok', 'ours ok', 'same name'],
        services.map((row) => [
          row.kind,
          String(row.port),
          [row.expected.service, row.expected.product].filter((x) => x !== undefined).join(' / '),
          naming(row.nmap),
          naming(row.ours),
          yes(matches(row.expected, row.nmap)),
          yes(matches(row.expected, row.ours)),
          yes(sameName(row.nmap, row.ours)),
        ]),
        8,
      ),
    );
    const list = (ports: readonly number[]): string =>
      ports.length === 0 ? 'none' : ports.join(', ');
    const missedDaemons = (open: ReadonlySet<number>): number =>
      servicePorts.filter((p) => !open.has(p)).length;
    print('');
    print(
      `Open ports: ${String(openPorts.both.length)} found by both; only nmap: ` +
        `${list(openPorts.nmapOnly)}; only ours: ${list(openPorts.oursOnly)}. Daemon ports ` +
        `missed: nmap ${String(missedDaemons(nmapSet))}, ours ${String(missedDaemons(oursOpen))} ` +
        `of ${String(servicePorts.length)}.`,
    );
    print(
      `Service names: ours and nmap agree on ${String(agreeing)} of ${String(services.length)} ` +
        `daemons. Time ratio ours / nmap (whole run): ${ratioOf(ourTimes.seconds, nmapTimes.seconds)}.`,
    );
    return { nmap: nmapTimes, ours: ourTimes, ratio, openPorts, services, agreeing };
  } finally {
    await Promise.all(daemons.map((d) => d.close()));
    await closeAll();
  }
}
