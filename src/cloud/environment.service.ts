/**
 * Holds the environment being served and swaps it atomically. A request takes the current
 * snapshot once and answers from it to the end, so a reload never mixes two environments in
 * one answer, and requests in flight finish on the snapshot they started with.
 */
import type { CloudEnvironment } from '#src/cloud/environment.model.js';
import { AttackIndex } from '#src/cloud/attack-index.model.js';

/** One loaded, indexed environment. */
export interface EnvironmentSnapshot {
  readonly index: AttackIndex;
  /**
   * From a file: 1 for the environment loaded at start-up, +1 per successful reload. From the
   * database: the stored version, so every replica reports the same number (0 = none stored).
   */
  readonly version: number;
  readonly loadedAt: Date;
  readonly source: string;
}

/** What a read returns: the environment, and its stored version when it has one. */
export interface ReadEnvironment {
  readonly environment: CloudEnvironment;
  readonly version?: number;
}

/** What a service needs from the outside world, passed in so tests can use the real files. */
export interface EnvironmentServiceDeps {
  /** Reads and validates the environment; throws EnvironmentError when it is bad. */
  readonly read: (source: string) => ReadEnvironment | Promise<ReadEnvironment>;
  readonly clock: () => Date;
  readonly cacheBytes: number;
  /** Runs a warm-up step later; omit to skip warming (tests that count cache misses). */
  readonly defer?: (step: () => void) => void;
}

/** Loads the environment from `source` and reloads it on demand. */
export class EnvironmentService {
  private reloading: Promise<EnvironmentSnapshot> | undefined;

  private constructor(
    readonly source: string,
    private readonly deps: EnvironmentServiceDeps,
    private snapshot: EnvironmentSnapshot,
  ) {
    this.warm(snapshot);
  }

  /** Loads the first snapshot; throws EnvironmentError, so nothing is served half-loaded. */
  static async open(source: string, deps: EnvironmentServiceDeps): Promise<EnvironmentService> {
    const first = build(source, deps, await deps.read(source), 1);
    return new EnvironmentService(source, deps, first);
  }

  /** Same as `open` for a source whose read is synchronous (files). */
  static openSync(source: string, deps: EnvironmentServiceDeps): EnvironmentService {
    const read = deps.read(source);
    if (read instanceof Promise) throw new Error('openSync needs a synchronous read');
    return new EnvironmentService(source, deps, build(source, deps, read, 1));
  }

  /**
   * Warms the snapshot's answer cache in slices of a few milliseconds between requests, so the
   * first queries after a (re)load are not all cache misses. Stops when the snapshot is replaced.
   */
  private warm(snapshot: EnvironmentSnapshot): void {
    const defer = this.deps.defer;
    if (defer === undefined) return;
    const step = (): void => {
      if (this.snapshot !== snapshot) return;
      if (!snapshot.index.warmUp(4)) defer(step);
    };
    defer(step);
  }

  /** The snapshot to answer the current request from. */
  get current(): EnvironmentSnapshot {
    return this.snapshot;
  }

  /**
   * Re-reads the source. A valid environment replaces the current one in a single assignment;
   * an invalid one rejects with EnvironmentError and the current one keeps serving. Reloads
   * asked for while one runs share its outcome.
   */
  reload(): Promise<EnvironmentSnapshot> {
    this.reloading ??= (async () => {
      try {
        const read = await this.deps.read(this.source);
        const next = build(this.source, this.deps, read, this.snapshot.version + 1);
        this.snapshot = next;
        this.warm(next);
        return next;
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }
}

function build(
  source: string,
  deps: EnvironmentServiceDeps,
  read: ReadEnvironment,
  nextVersion: number,
): EnvironmentSnapshot {
  const index = new AttackIndex(read.environment, { cacheBytes: deps.cacheBytes });
  return { index, version: read.version ?? nextVersion, loadedAt: deps.clock(), source };
}
