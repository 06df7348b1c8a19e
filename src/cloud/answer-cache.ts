/**
 * A least-recently-used cache bounded by bytes rather than entries: answers range from "[]" to
 * megabytes, so an entry count would either waste memory or thrash. Map keeps insertion order,
 * which is all an LRU needs.
 */

/** Anything that can say how many bytes it holds. */
export interface Sized {
  readonly bytes: number;
}

/** A byte-bounded LRU keyed by small integers. */
export class ByteLru<V extends Sized> {
  private readonly entries = new Map<number, V>();
  private used = 0;
  /** Lookups answered from the cache. */
  hits = 0;
  /** Lookups that had to compute. */
  misses = 0;

  constructor(private readonly budget: number) {}

  /** Returns the cached value and marks it most recently used. */
  get(key: number): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Re-inserting moves the key to the young end of the Map's order.
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** Stores a value, evicting the least recently used entries beyond the budget. */
  set(key: number, value: V): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.used -= old.bytes;
      this.entries.delete(key);
    }
    // A single answer larger than the whole budget is served but not kept.
    if (value.bytes > this.budget) return;
    this.entries.set(key, value);
    this.used += value.bytes;
    for (const [oldKey, oldValue] of this.entries) {
      if (this.used <= this.budget) break;
      this.entries.delete(oldKey);
      this.used -= oldValue.bytes;
    }
  }

  /** True when the key is cached; does not count as a hit or touch the order. */
  has(key: number): boolean {
    return this.entries.has(key);
  }

  /** The byte budget. */
  get capacity(): number {
    return this.budget;
  }

  /** Bytes currently held. */
  get bytes(): number {
    return this.used;
  }

  /** Entries currently held. */
  get size(): number {
    return this.entries.size;
  }
}
