/**
 * A keyed pseudo-random permutation of 0..n-1, so a scan visits (host, port) pairs in an order
 * that spreads load across hosts and ports (no host sees a burst of sequential ports), yet any
 * shard can compute its slice of the order from the key alone: shard k probes permuted indices
 * k*size..(k+1)*size-1, with no shared state between workers.
 *
 * A balanced Feistel network over the smallest even power of two >= n, with cycle walking
 * (values >= n are permuted again until they land inside). Four rounds of a 32-bit mixing
 * function are plenty for ordering probes; this is not cryptography.
 */

/** A bijection on 0..size-1. */
export class Permutation {
  private readonly halfBits: number;
  private readonly halfMask: number;
  private readonly keys: readonly number[];

  constructor(
    readonly size: number,
    seed: number,
  ) {
    if (!Number.isSafeInteger(size) || size < 1 || size > 2 ** 52) {
      throw new RangeError(`permutation size ${String(size)} out of range`);
    }
    let bits = 2;
    while (2 ** bits < size) bits += 2;
    this.halfBits = bits / 2;
    this.halfMask = 2 ** this.halfBits - 1;
    const keys: number[] = [];
    let s = seed >>> 0 || 0x9e3779b9;
    for (let i = 0; i < 4; i++) {
      s = Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) >>> 0;
      s = Math.imul(s ^ (s >>> 12), 0x297a2d39) >>> 0;
      keys.push((s ^ (s >>> 15)) >>> 0);
    }
    this.keys = keys;
  }

  /** The index at position `i` of the permuted order. */
  at(i: number): number {
    let x = i;
    do x = this.encrypt(x);
    while (x >= this.size);
    return x;
  }

  private encrypt(x: number): number {
    const hb = this.halfBits;
    // Halves fit in 26 bits, so plain arithmetic stays exact (no bitwise ops on > 32 bits).
    let left = Math.floor(x / 2 ** hb);
    let right = x % 2 ** hb;
    for (const key of this.keys) {
      const mixed = round(right, key) & this.halfMask;
      const next = (left ^ mixed) >>> 0;
      left = right;
      right = next & this.halfMask;
    }
    return left * 2 ** hb + right;
  }
}

function round(value: number, key: number): number {
  let h = Math.imul(value ^ key, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
