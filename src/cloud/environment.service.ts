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
  /** 1 for the environment loaded at start-up, +1 per successful reload. */
  readonly version: number;
  readonly loadedAt: Date;
  readonly source: string;
}

/** What a service needs from the outside world, passed in so tests can use the real files. */
export interface EnvironmentServiceDeps {
  /** Reads and validates the environment; throws EnvironmentError when it is bad. */
  readonly read: (source: string) => CloudEnvironment;
  readonly clock: () => Date;
  readonly cacheBytes: number;
  /** Runs a warm-up step later; omit to skip warming (tests that count cache misses). */
  readonly defer?: (step: () => void) => void;
}

/** Loads the environment from `source` and reloads it on demand. */
export class EnvironmentService {
  private snapshot: EnvironmentSnapshot;

  /** Loads the first snapshot; throws EnvironmentError, so nothing is served half-loaded. */
  constructor(
    readonly source: string,
    private readonly deps: EnvironmentServiceDeps,
  ) {
    this.snapshot = this.build(1);
    this.warm(this.snapshot);
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
   * an invalid one throws EnvironmentError and the current one keeps serving.
   */
  reload(): EnvironmentSnapshot {
    const next = this.build(this.snapshot.version + 1);
    this.snapshot = next;
    this.warm(next);
    return next;
  }

  private build(version: number): EnvironmentSnapshot {
    const env = this.deps.read(this.source);
    const index = new AttackIndex(env, { cacheBytes: this.deps.cacheBytes });
    return { index, version, loadedAt: this.deps.clock(), source: this.source };
  }
}
