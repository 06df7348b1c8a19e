/**
 * Scans: plan (validate, check scope, store the scan with its shards), run a shard (connect
 * scan of its slice, identify what answers, store findings and raise issues in one
 * transaction), and finish (when the last shard is done: services the complete scan no longer
 * sees are closed and their issues go inactive). Used by the scan-shard job in workers and by
 * the CLI, which runs the shards in-process.
 */
import type { AssetRepository, Executor } from '#src/assets/assets.repository.js';
import { AppError, validationError } from '#src/http/errors.js';
import type { Db } from '#src/storage/database.js';
import { CombinedLimiter, connectScan, RateLimiter } from '#src/discovery/connect-scan.js';
import { connectScanThreads } from '#src/discovery/connect-scan.threads.js';
import type { ServiceFinding } from '#src/discovery/discovery.model.js';
import {
  DiscoveryRepository,
  type ScanOptions,
  type ScanRecord,
} from '#src/discovery/discovery.repository.js';
import { formatPorts, parsePorts, PortSpecError } from '#src/discovery/ports.model.js';
import {
  expandTargets,
  OutOfScopeError,
  Scope,
  TargetSpecError,
  type ExpandedTargets,
  type Resolver,
} from '#src/discovery/scope.model.js';

/** Limits every scan of this deployment obeys. */
export interface ScanLimits {
  /** Probes per second a scan may ask for, and the cap of all scans of one process. */
  readonly maxRate: number;
  /** Rate of a scan that names none. */
  readonly defaultRate: number;
  /** Most addresses one scan may cover. */
  readonly maxHosts: number;
}

/** What the scan service plugs in (each a side effect or a capability of its own). */
export interface ScanHooks {
  /** Identifies the service on an open port, under `hostname` (TLS SNI, HTTP Host) when given;
   * never throws for network trouble. */
  readonly identify: (
    target: { ip: string; port: number; hostname?: string },
    signal: AbortSignal,
  ) => Promise<ServiceFinding>;
  /** The hosting provider of an address ("AWS", "On Prem", ...); usable once `ready` settles. */
  readonly providerOf: (ip: string) => string;
  /** Settles when providerOf can answer (its data may load while a sweep runs). */
  readonly ready?: Promise<unknown>;
  /** Raises, updates and (given coverage) inactivates issues, inside the caller's transaction. */
  readonly reconcile: (
    trx: Executor,
    input: {
      orgId: string;
      observedAt: number;
      findings: readonly { serviceId: string; finding: ServiceFinding; provider: string }[];
      coverage?: { covers(ip: string, port: number): boolean };
    },
  ) => Promise<unknown>;
  readonly resolve: Resolver;
}

/** A scan request as the API and CLI take it. */
export interface ScanRequest {
  /** Organization id or name. */
  readonly org: string;
  readonly targets: readonly string[];
  /** Port list text: "22,80", "1-1024", "top-100", "-". */
  readonly ports: string;
  readonly rate?: number | undefined;
  readonly concurrency?: number | undefined;
  readonly timeoutMs?: number | undefined;
  readonly retries?: number | undefined;
  readonly parallelism?: number | undefined;
  readonly identify?: boolean | undefined;
}

/** What a shard run reports. */
export interface ShardOutcome {
  readonly probesDone: number;
  readonly openFound: number;
  /** The shard finished (false when it was aborted half-way). */
  readonly finished: boolean;
  /** This shard was the scan's last, and the scan is now complete. */
  readonly scanCompleted: boolean;
}

/**
 * Most ports a shard identifies at once (each holds one connection at a time). Identification
 * mostly waits (banner and answer timeouts), so it runs wide: the scan's own connection
 * concurrency, up to this.
 */
const MAX_IDENTIFY_CONCURRENCY = 128;
/** A shard aims at this many seconds of probing at its share of the rate. */
const SHARD_SECONDS = 20;
/**
 * Most host names one address of a scan may be reached by. Each name is identified on its own
 * (a virtual host has its own certificate and page), so names multiply the probing of a port;
 * a scan naming more refuses to start (split it) rather than dropping names silently.
 */
export const MAX_NAMES_PER_ADDRESS = 8;

/** Plans and runs scans. */
export class ScanService {
  readonly repository: DiscoveryRepository;
  /** The process-wide cap every shard this process runs shares. */
  private readonly processLimiter: RateLimiter;

  constructor(
    private readonly db: Db,
    private readonly assets: AssetRepository,
    private readonly hooks: ScanHooks,
    readonly limits: ScanLimits,
    private readonly clock: () => number = Date.now,
  ) {
    this.repository = new DiscoveryRepository(db, assets);
    this.processLimiter = new RateLimiter(limits.maxRate);
  }

  /**
   * Validates a request, checks every target against the organization's scope (before any
   * packet), and stores the scan with its shards pending. Throws AppError: 404 for an unknown
   * organization, 400 for malformed targets, ports or settings, 403 out_of_scope.
   */
  async plan(request: ScanRequest): Promise<ScanRecord> {
    const org = await this.assets.findOrganization(request.org);
    if (org === undefined) {
      throw new AppError('not_found', 404, `no organization ${JSON.stringify(request.org)}`);
    }
    let ports: number[];
    try {
      ports = parsePorts(request.ports);
    } catch (error) {
      if (error instanceof PortSpecError) throw validationError(`ports: ${error.message}`);
      throw error;
    }
    const options = this.options(request);
    let expanded: ExpandedTargets;
    try {
      const scope = new Scope({
        domains: org.seeds.domains,
        cidrs: org.seeds.cidrs,
        excludes: org.seeds.excludes ?? [],
      });
      expanded = await expandTargets(request.targets, scope, this.hooks.resolve, {
        maxHosts: this.limits.maxHosts,
        maxNamesPerAddress: MAX_NAMES_PER_ADDRESS,
      });
    } catch (error) {
      if (error instanceof TargetSpecError) throw validationError(`targets: ${error.message}`);
      if (error instanceof OutOfScopeError) throw new AppError('out_of_scope', 403, error.message);
      throw error;
    }
    const perShardRate = options.rate / options.parallelism;
    const shardSize = Math.min(1 << 20, Math.max(1024, Math.round(perShardRate * SHARD_SECONDS)));
    return this.repository.createScan({
      orgId: org.id,
      hosts: expanded.hosts,
      names: expanded.names,
      ports: formatPorts(ports),
      portCount: ports.length,
      options,
      shardSize,
      now: this.clock(),
    });
  }

  private options(request: ScanRequest): ScanOptions {
    const { maxRate, defaultRate } = this.limits;
    const rate = request.rate ?? Math.min(defaultRate, maxRate);
    const check = (name: string, value: number, low: number, high: number): number => {
      if (!Number.isInteger(value) || value < low || value > high) {
        throw validationError(
          `${name} must be a whole number from ${String(low)} to ${String(high)}, got ${String(value)}`,
        );
      }
      return value;
    };
    if (Number.isInteger(rate) && rate > maxRate) {
      throw validationError(
        `rate ${String(rate)} probes/s is over this deployment's cap of ${String(maxRate)} (SURFACESCAN_SCAN_MAX_RATE)`,
      );
    }
    return {
      rate: check('rate', rate, 1, maxRate),
      concurrency: check('concurrency', request.concurrency ?? 256, 1, 8192),
      timeoutMs: check('timeoutMs', request.timeoutMs ?? 1500, 50, 60_000),
      retries: check('retries', request.retries ?? 1, 0, 5),
      parallelism: check('parallelism', request.parallelism ?? 2, 1, 64),
      identify: request.identify ?? true,
    };
  }

  /**
   * Runs one shard: probes its slice, identifies open services, then in one transaction stores
   * the findings, raises issues and marks the shard done; the last shard also completes the
   * scan. A shard run again (its worker died) redoes its slice; the writes are idempotent.
   */
  async runShard(
    scanId: string,
    shard: number,
    options: {
      signal: AbortSignal;
      /** A limiter shared by the caller's shards (the CLI); default: this scan's share. */
      limiter?: RateLimiter | CombinedLimiter;
      /**
       * Threads for the connect sweep (the CLI, which runs one scan alone: the slice is split
       * across threads sharing the scan's rate, so the caller's limiter is not used). Default 1.
       */
      threads?: number;
      onProgress?: (probesDone: number, openFound: number) => void;
    },
  ): Promise<ShardOutcome> {
    const scan = await this.repository.getScan(scanId);
    if (scan === undefined) throw new AppError('not_found', 404, `no scan ${scanId}`);
    const idle = { probesDone: 0, openFound: 0, finished: false, scanCompleted: false };
    if (scan.state !== 'running') return idle;
    if (!(await this.repository.startShard(scanId, shard, this.clock()))) return idle;
    const ports = parsePorts(scan.ports);
    const start = shard * scan.shardSize;
    const end = Math.min(scan.probesTotal, start + scan.shardSize);
    const limiter =
      options.limiter ??
      new CombinedLimiter([
        new RateLimiter(scan.options.rate / scan.options.parallelism),
        this.processLimiter,
      ]);
    let lastReport = 0;
    let openSoFar = 0;
    const sweep = {
      hosts: scan.hosts,
      ports,
      seed: scan.seed,
      start,
      end,
      concurrency: scan.options.concurrency,
      timeoutMs: scan.options.timeoutMs,
      retries: scan.options.retries,
      signal: options.signal,
      onOpen: () => {
        openSoFar++;
      },
      onProgress: (done: number) => {
        options.onProgress?.(done, openSoFar);
        const now = this.clock();
        if (now - lastReport >= 1000) {
          lastReport = now;
          this.repository.shardProgress(scanId, shard, done, openSoFar).catch(() => undefined);
        }
      },
    };
    const threads = options.threads ?? 1;
    const result =
      threads > 1
        ? await connectScanThreads({
            ...sweep,
            rate: Math.min(scan.options.rate, this.limits.maxRate),
            threads,
          })
        : await connectScan({ ...sweep, limiter });
    if (result.aborted) return { ...idle, probesDone: result.done, openFound: result.open.length };
    const findings = scan.options.identify
      ? await this.identifyAll(
          identifyTargets(result.open, scan.names),
          Math.min(scan.options.concurrency, MAX_IDENTIFY_CONCURRENCY),
          options.signal,
        )
      : result.open.map((o) => ({ ip: o.ip, port: o.port, protocol: 'tcp' as const }));
    if (options.signal.aborted) {
      return { ...idle, probesDone: result.done, openFound: result.open.length };
    }
    const observedAt = this.clock();
    const completed = await this.db.kysely.transaction().execute(async (trx) => {
      await this.store(trx, scan.orgId, scan.id, 'scan', findings, observedAt);
      const remaining = await this.repository.finishShard(
        trx,
        scanId,
        shard,
        result.done,
        result.open.length,
        observedAt,
      );
      if (remaining > 0) return false;
      if (!(await this.repository.endScan(trx, scanId, 'completed', observedAt))) return false;
      await this.finish(trx, scan, ports, observedAt);
      return true;
    });
    return {
      probesDone: result.done,
      openFound: result.open.length,
      finished: true,
      scanCompleted: completed,
    };
  }

  /** Marks a scan failed (its shard ran out of attempts). */
  async fail(scanId: string, message: string): Promise<void> {
    await this.repository.endScan(this.db.kysely, scanId, 'failed', this.clock(), message);
  }

  /** Stores findings and raises their issues in `trx`. */
  async store(
    trx: Executor,
    orgId: string,
    runId: string,
    source: 'scan' | 'nmap' | 'masscan',
    findings: readonly ServiceFinding[],
    observedAt: number,
  ): Promise<string[]> {
    await this.hooks.ready;
    const ids = await this.repository.recordFindings(trx, {
      orgId,
      findings,
      source,
      observedAt,
      runId,
      providerOf: this.hooks.providerOf,
    });
    await this.hooks.reconcile(trx, {
      orgId,
      observedAt,
      findings: findings.map((finding, i) => ({
        serviceId: ids[i]!,
        finding,
        provider: this.hooks.providerOf(finding.ip),
      })),
    });
    return ids;
  }

  /**
   * After a complete run covering `hosts` x `ports`: services it did not find are closed and
   * the issues on them go inactive (the reconcile with coverage sees every finding of the run).
   */
  async finishCoverage(
    trx: Executor,
    orgId: string,
    runId: string,
    covers: (ip: string, port: number) => boolean,
    observedAt: number,
  ): Promise<void> {
    await this.repository.closeMissing(trx, orgId, runId, covers, observedAt);
    await this.hooks.reconcile(trx, {
      orgId,
      observedAt,
      findings: await this.repository.findingsOfRun(trx, runId),
      coverage: { covers },
    });
  }

  private async finish(
    trx: Executor,
    scan: ScanRecord,
    ports: readonly number[],
    observedAt: number,
  ): Promise<void> {
    const hosts = new Set(scan.hosts);
    const portSet = new Set(ports);
    await this.finishCoverage(
      trx,
      scan.orgId,
      scan.id,
      (ip, port) => hosts.has(ip) && portSet.has(port),
      observedAt,
    );
  }

  private async identifyAll(
    open: readonly IdentifyTarget[],
    concurrency: number,
    signal: AbortSignal,
  ): Promise<ServiceFinding[]> {
    const out = new Array<ServiceFinding | undefined>(open.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < open.length && !signal.aborted) {
        const i = next++;
        const target = open[i]!;
        const finding = await this.hooks.identify(target, signal);
        // The finding says which name its TLS and HTTP facts belong to.
        out[i] =
          target.hostname === undefined ? finding : { ...finding, hostname: target.hostname };
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, open.length) }, worker));
    return out.filter((f): f is ServiceFinding => f !== undefined);
  }
}

/** An open port to identify, under a host name or none. */
interface IdentifyTarget {
  readonly ip: string;
  readonly port: number;
  readonly hostname?: string;
}

/**
 * What to identify: each open port once per host name its address was reached by (so virtual
 * hosts show their own certificate and page), or once without a name for an address given as
 * such.
 */
export function identifyTargets(
  open: readonly { ip: string; port: number }[],
  names: Readonly<Record<string, readonly string[]>>,
): IdentifyTarget[] {
  return open.flatMap(({ ip, port }) => {
    const list = Object.hasOwn(names, ip) ? names[ip]! : [];
    return list.length === 0 ? [{ ip, port }] : list.map((hostname) => ({ ip, port, hostname }));
  });
}
