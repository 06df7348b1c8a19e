/**
 * Interns sets of source tags ("attacker keys"). At 100,000 VMs a key can hold hundreds of tags
 * and there can be tens of thousands of distinct keys, so keys are built in a scratch bitset,
 * hashed over the words actually touched, and stored in whichever form is smaller: a sorted list
 * for sparse sets, a bitset for dense ones. Joining and sorting tag lists as strings was the
 * bottleneck of index building before this.
 */

/** Number of set bits in a 32-bit word. */
export function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Builds and interns sets of tag indices; key 0 is the empty set. */
export class SourceSets {
  private readonly words: number;
  private readonly scratch: Uint32Array;
  private readonly touched: number[] = [];
  private readonly byHash = new Map<number, number[]>();
  private readonly lists: (Uint32Array | undefined)[] = [new Uint32Array(0)];
  private readonly bitsets: (Uint32Array | undefined)[] = [undefined];
  private readonly sizes: number[] = [0];

  constructor(tagCount: number) {
    this.words = (tagCount + 31) >>> 5;
    this.scratch = new Uint32Array(this.words);
  }

  /** Keys interned so far, including the empty set. */
  get count(): number {
    return this.sizes.length;
  }

  /** Adds a tag to the set being built. */
  add(tag: number): void {
    const w = tag >>> 5;
    if (this.scratch[w] === 0) this.touched.push(w);
    this.scratch[w]! |= 1 << (tag & 31);
  }

  /** Interns the set built by add() since the last call, resets it, and returns its key. */
  intern(): number {
    const { scratch, touched } = this;
    if (touched.length === 0) return 0;
    touched.sort((a, b) => a - b);
    let hash = 0x811c9dc5;
    let size = 0;
    for (const w of touched) {
      const word = scratch[w]!;
      hash = Math.imul(hash ^ word, 0x01000193) ^ w;
      size += popcount(word);
    }
    let key = this.find(hash, size);
    if (key === undefined) {
      key = this.sizes.length;
      this.sizes.push(size);
      if (size < this.words) {
        const list = new Uint32Array(size);
        let n = 0;
        for (const w of touched) {
          let word = scratch[w]!;
          while (word !== 0) {
            const low = word & -word;
            list[n++] = (w << 5) + (31 - Math.clz32(low));
            word ^= low;
          }
        }
        this.lists.push(list);
        this.bitsets.push(undefined);
      } else {
        this.lists.push(undefined);
        this.bitsets.push(scratch.slice());
      }
      const bucket = this.byHash.get(hash);
      if (bucket) bucket.push(key);
      else this.byHash.set(hash, [key]);
    }
    for (const w of touched) scratch[w] = 0;
    touched.length = 0;
    return key;
  }

  /** The sorted tags of a key. */
  tags(key: number): Uint32Array {
    const list = this.lists[key];
    if (list) return list;
    const bits = this.bitsets[key]!;
    const out = new Uint32Array(this.sizes[key]!);
    let n = 0;
    for (let w = 0; w < bits.length; w++) {
      let word = bits[w]!;
      while (word !== 0) {
        const low = word & -word;
        out[n++] = (w << 5) + (31 - Math.clz32(low));
        word ^= low;
      }
    }
    return out;
  }

  private find(hash: number, size: number): number | undefined {
    const bucket = this.byHash.get(hash);
    if (!bucket) return undefined;
    const { scratch, touched } = this;
    for (const key of bucket) {
      if (this.sizes[key] !== size) continue;
      const list = this.lists[key];
      let same = true;
      if (list) {
        for (const tag of list) {
          if ((scratch[tag >>> 5]! & (1 << (tag & 31))) === 0) {
            same = false;
            break;
          }
        }
      } else {
        // Equal sizes and equal touched words mean equal sets.
        const bits = this.bitsets[key]!;
        for (const w of touched) {
          if (bits[w] !== scratch[w]) {
            same = false;
            break;
          }
        }
      }
      if (same) return key;
    }
    return undefined;
  }
}
