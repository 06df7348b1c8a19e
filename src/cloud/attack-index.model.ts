/**
 * The attack index: answers "which VMs can reach VM X" for one immutable environment.
 *
 * Why it is shaped this way:
 * - The attackers of X depend only on S(X), the set of source tags of the rules whose dest tag X
 *   carries (minus tags no VM carries). VMs with equal S(X) share one answer, so S is interned
 *   at build time into a small integer key, and answers are cached per key.
 * - Answers are kept as ready-to-send JSON bytes, sorted by vm_id, with the byte offsets of each
 *   element: a request for X either sends the cached bytes as they are, or cuts X out of them
 *   (one copy), never re-serialising. The cache is bounded in bytes, so memory does not grow as
 *   VMs x answer size even when most VMs are reached by tens of thousands of others.
 * - A cache miss is a union of per-tag member sets: dense tags are bitsets (one word-wise OR),
 *   sparse tags are sorted index lists, so a miss costs O(V/32 + answer), never O(rules x VMs).
 * - Transitive reachability is a backward search over tags, not VMs: each tag is expanded at most
 *   once as a destination and once as a source, so it is linear in the environment.
 */
import type { CloudEnvironment, FwId, VmId } from '#src/cloud/environment.model.js';
import { ByteLru, type Sized } from '#src/cloud/answer-cache.js';
import { SourceSets } from '#src/cloud/source-sets.js';

/** Direct: one rule hop into X. Transitive: any chain of allowed hops ending at X. */
export type AttackMode = 'direct' | 'transitive';

/** One step of an attack path: the VM reached and the rule used for the hop into it. */
export interface PathStep {
  readonly vm_id: VmId;
  /** The rule that allows the hop into this VM; null for the starting VM. */
  readonly fw_id: FwId | null;
}

/** Figures about a built index, for /api/v1/environment and the benchmarks. */
export interface IndexInfo {
  readonly vm_count: number;
  readonly rule_count: number;
  readonly tag_count: number;
  /** Distinct attacker sets: VMs in one group share their answer. */
  readonly attacker_set_count: number;
  readonly build_ms: number;
}

/** Cache figures, for /metrics and /api/v1/environment. */
export interface CacheInfo {
  readonly entries: number;
  readonly bytes: number;
  readonly hits: number;
  readonly misses: number;
  /** True once the background warm-up has finished (or filled the cache). */
  readonly warmed: boolean;
}

/**
 * A cached answer: `[e0,e1,...]` as UTF-8 JSON where each element carries its trailing comma
 * (the last one's is the "]"), plus a way to find one member's bytes so a VM can be cut out of
 * its own answer. Dense answers keep the member bitset and the byte offset of each word's first
 * member (8 bytes per 32 VMs); sparse ones keep sorted members and their start offsets (8 bytes
 * per member), whichever is smaller.
 */
interface Answer extends Sized {
  readonly json: Buffer;
  readonly count: number;
  /** The VM indices of the members, ascending. */
  members(): Generator<number>;
  /** Start offset of vm's element in json, or -1 when vm is not a member. */
  startOf(vm: number): number;
}

const EMPTY_JSON = Buffer.from('[]');
const CLOSE_JSON = Buffer.from(']');
const EMPTY_ANSWER: Answer = {
  json: EMPTY_JSON,
  count: 0,
  bytes: 0,
  *members() {
    /* none */
  },
  startOf: () => -1,
};

function* bitsOf(bits: Uint32Array): Generator<number> {
  for (let w = 0; w < bits.length; w++) {
    let word = bits[w]!;
    while (word !== 0) {
      const low = word & -word;
      yield (w << 5) + (31 - Math.clz32(low));
      word ^= low;
    }
  }
}

class SparseAnswer implements Answer {
  readonly bytes: number;
  constructor(
    readonly json: Buffer,
    private readonly list: Uint32Array,
    private readonly starts: Uint32Array,
  ) {
    this.bytes = json.length + list.byteLength + starts.byteLength + 64;
  }
  get count(): number {
    return this.list.length;
  }
  *members(): Generator<number> {
    yield* this.list;
  }
  startOf(vm: number): number {
    const p = indexOfMember(this.list, vm);
    return p < 0 ? -1 : this.starts[p]!;
  }
}

class DenseAnswer implements Answer {
  readonly bytes: number;
  constructor(
    readonly json: Buffer,
    readonly count: number,
    private readonly bits: Uint32Array,
    /** prefix[w]: start offset of the first member in word w. */
    private readonly prefix: Uint32Array,
    private readonly idStart: Uint32Array,
  ) {
    this.bytes = json.length + bits.byteLength + prefix.byteLength + 64;
  }
  members(): Generator<number> {
    return bitsOf(this.bits);
  }
  startOf(vm: number): number {
    const w = vm >>> 5;
    const bit = vm & 31;
    let word = this.bits[w]!;
    if ((word & (1 << bit)) === 0) return -1;
    let start = this.prefix[w]!;
    word &= (1 << bit) - 1; // members of this word below vm
    while (word !== 0) {
      const low = word & -word;
      const m = (w << 5) + (31 - Math.clz32(low));
      start += this.idStart[m + 1]! - this.idStart[m]!;
      word ^= low;
    }
    return start;
  }
}

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]

/** A compressed-sparse-row adjacency list: row r holds values[start[r] .. start[r+1]). */
interface Csr {
  readonly start: Uint32Array;
  readonly values: Uint32Array;
}

function buildCsr(rows: number, pairs: readonly (readonly [number, number])[]): Csr {
  const start = new Uint32Array(rows + 1);
  for (const [row] of pairs) start[row + 1]!++;
  for (let r = 0; r < rows; r++) start[r + 1]! += start[r]!;
  const fill = start.slice(0, rows);
  const values = new Uint32Array(pairs.length);
  for (const [row, value] of pairs) values[fill[row]!++] = value;
  return { start, values };
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Options for building an index. */
export interface IndexOptions {
  /** Upper bound for cached answers, per mode, in bytes. */
  readonly cacheBytes?: number;
  /** Clock for build timing; injected so tests and benchmarks agree on it. */
  readonly now?: () => number;
}

/** The immutable query index of one environment. Build once, query many times. */
export class AttackIndex {
  /** Number of VMs. */
  readonly vmCount: number;
  /** Build figures. */
  readonly info: IndexInfo;

  /** vm_ids sorted by UTF-16 code units: this is the order of every answer. */
  private readonly ids: readonly VmId[];
  private readonly indexById: Map<string, number>;
  private readonly fwIds: readonly FwId[];
  /** `"id",` for every VM, concatenated in sorted order; idStart has V+1 offsets. */
  private readonly idBytes: Buffer;
  private readonly idStart: Uint32Array;
  /** VM -> its distinct tags. */
  private readonly vmTags: Csr;
  /** Tag -> VMs carrying it, ascending. */
  private readonly holders: Csr;
  /** Tag -> bitset of holders, only for tags common enough that a bitset is smaller. */
  private readonly denseBits: (Uint32Array | undefined)[];
  /** Dest tag -> distinct source tags (only tags some VM carries). */
  private readonly sourcesOf: Csr;
  /** Source tag -> distinct dest tags, and ruleOf the first rule (document order) per pair. */
  private readonly destsOf: Csr;
  private readonly ruleOf: Uint32Array;
  /** VM -> attacker-set key; key 0 is the empty set. */
  private readonly vmKey: Uint32Array;
  /** Key -> its sorted source tags. */
  private readonly keySources: SourceSets;
  private readonly words: number;
  private readonly tagCount: number;
  private readonly caches: Record<AttackMode, ByteLru<Answer>>;
  /** Keys in warm-up order, and the next one to warm (-1 once done). */
  private warmOrder: Uint32Array | undefined;
  private warmNext = 0;

  constructor(env: CloudEnvironment, options: IndexOptions = {}) {
    const now = options.now ?? (() => performance.now());
    const started = now();
    const cacheBytes = options.cacheBytes ?? 256 * 1024 * 1024;
    this.caches = { direct: new ByteLru(cacheBytes), transitive: new ByteLru(cacheBytes) };

    const vmCount = env.vms.length;
    this.vmCount = vmCount;
    this.words = (vmCount + 31) >>> 5;
    const sorted = env.vms.slice().sort((a, b) => compareCodeUnits(a.vm_id, b.vm_id));
    this.ids = sorted.map((vm) => vm.vm_id);
    this.indexById = new Map(this.ids.map((id, i) => [id, i]));
    this.fwIds = env.fw_rules.map((rule) => rule.fw_id);

    // Each id is stored JSON-encoded with its trailing comma, so a run of consecutive members
    // of an answer is one contiguous byte range: answers are assembled by copying runs.
    const encoded = this.ids.map((id) => `${JSON.stringify(id)},`);
    this.idBytes = Buffer.from(encoded.join(''));
    this.idStart = new Uint32Array(vmCount + 1);
    for (let i = 0; i < vmCount; i++) {
      this.idStart[i + 1] = this.idStart[i]! + Buffer.byteLength(encoded[i]!);
    }

    // Intern tags from VMs and rules alike; a rule may name a tag no VM carries.
    const tagIndex = new Map<string, number>();
    const intern = (tag: string): number => {
      let index = tagIndex.get(tag);
      if (index === undefined) {
        index = tagIndex.size;
        tagIndex.set(tag, index);
      }
      return index;
    };
    const vmTagPairs: [number, number][] = [];
    const stamp: number[] = [];
    for (let i = 0; i < vmCount; i++) {
      for (const tag of sorted[i]!.tags) {
        const t = intern(tag);
        if (stamp[t] === i + 1) continue; // a tag listed twice on one VM counts once
        stamp[t] = i + 1;
        vmTagPairs.push([i, t]);
      }
    }
    const ruleTags = env.fw_rules.map((rule) => [intern(rule.source_tag), intern(rule.dest_tag)]);
    const tagCount = tagIndex.size;
    this.tagCount = tagCount;

    this.vmTags = buildCsr(vmCount, vmTagPairs);
    // vmTagPairs is in VM order, so each holder list comes out ascending.
    this.holders = buildCsr(
      tagCount,
      vmTagPairs.map(([vm, tag]) => [tag, vm] as const),
    );
    this.denseBits = new Array<Uint32Array | undefined>(tagCount);
    for (let t = 0; t < tagCount; t++) {
      const from = this.holders.start[t]!;
      const to = this.holders.start[t + 1]!;
      if (to - from <= this.words) continue;
      const bits = new Uint32Array(this.words);
      for (let k = from; k < to; k++) {
        const vm = this.holders.values[k]!;
        bits[vm >>> 5]! |= 1 << (vm & 31);
      }
      this.denseBits[t] = bits;
    }

    // Rule pairs, deduplicated; tags nobody carries cannot contribute an attacker.
    const carried = (t: number): boolean => this.holders.start[t + 1]! > this.holders.start[t]!;
    const seenPair = new Set<number>();
    const sourcePairs: [number, number][] = [];
    const destPairs: [number, number][] = [];
    const destRules: number[] = [];
    ruleTags.forEach(([source, dest], ruleIndex) => {
      if (source === undefined || dest === undefined) return;
      if (!carried(source) || !carried(dest)) return;
      const pairKey = source * tagCount + dest;
      if (seenPair.has(pairKey)) return;
      seenPair.add(pairKey);
      sourcePairs.push([dest, source]);
      destPairs.push([source, dest]);
      destRules.push(ruleIndex);
    });
    this.sourcesOf = buildCsr(tagCount, sourcePairs);
    // buildCsr is a stable counting sort, so ruleOf follows destsOf when filled the same way.
    this.destsOf = buildCsr(tagCount, destPairs);
    this.ruleOf = new Uint32Array(destPairs.length);
    {
      const fill = this.destsOf.start.slice(0, tagCount);
      destPairs.forEach(([source], k) => {
        this.ruleOf[fill[source]!++] = destRules[k]!;
      });
    }

    // Intern S(vm) per distinct tag set: VMs cloned from one template share the work.
    this.vmKey = new Uint32Array(vmCount);
    const keyByTagSet = new Map<string, number>();
    const sets = new SourceSets(tagCount);
    for (let i = 0; i < vmCount; i++) {
      const tags = this.vmTags.values.subarray(this.vmTags.start[i], this.vmTags.start[i + 1]);
      const tagSetKey = tags.join(',');
      let key = keyByTagSet.get(tagSetKey);
      if (key === undefined) {
        for (const dest of tags) {
          for (let k = this.sourcesOf.start[dest]!; k < this.sourcesOf.start[dest + 1]!; k++) {
            sets.add(this.sourcesOf.values[k]!);
          }
        }
        key = sets.intern();
        keyByTagSet.set(tagSetKey, key);
      }
      this.vmKey[i] = key;
    }
    this.keySources = sets;

    this.info = {
      vm_count: vmCount,
      rule_count: env.fw_rules.length,
      tag_count: tagCount,
      attacker_set_count: sets.count - 1,
      build_ms: now() - started,
    };
  }

  /** True when the environment has a VM with this id. */
  has(vmId: string): boolean {
    return this.indexById.has(vmId);
  }

  /**
   * The attackers of vmId as ready-to-send JSON (sorted by vm_id, without vmId itself), in one
   * or two parts to be written back to back, or undefined when there is no such VM. The parts
   * share memory with the cache: callers must not modify them.
   */
  attackersJson(vmId: string, mode: AttackMode): readonly Buffer[] | undefined {
    const vm = this.indexById.get(vmId);
    if (vm === undefined) return undefined;
    const answer = this.answer(vm, mode);
    const start = answer.startOf(vm);
    const { json } = answer;
    if (start < 0) return [json];
    if (answer.count === 1) return [EMPTY_JSON];
    // Cut vm out without copying: the bytes before it and the bytes after it.
    const end = start + this.idStart[vm + 1]! - this.idStart[vm]!;
    if (end < json.length) return [json.subarray(0, start), json.subarray(end)];
    return [json.subarray(0, start - 1), CLOSE_JSON]; // vm was last: its predecessor's comma goes
  }

  /** The attackers of vmId as ids (sorted, without vmId), or undefined for an unknown VM. */
  attackers(vmId: string, mode: AttackMode): VmId[] | undefined {
    const vm = this.indexById.get(vmId);
    if (vm === undefined) return undefined;
    const result: VmId[] = [];
    for (const member of this.answer(vm, mode).members()) {
      if (member !== vm) result.push(this.ids[member]!);
    }
    return result;
  }

  /**
   * One shortest chain of hops from `from` to `to`, starting with `from` (fw_id null), or null
   * when `to` cannot be reached. Throws nothing; unknown ids yield undefined.
   */
  path(from: string, to: string): PathStep[] | null | undefined {
    const source = this.indexById.get(from);
    const target = this.indexById.get(to);
    if (source === undefined || target === undefined) return undefined;
    if (source === target) return [{ vm_id: this.ids[source]!, fw_id: null }];
    const parent = new Int32Array(this.vmCount).fill(-1);
    const via = new Uint32Array(this.vmCount);
    const visited = new Uint8Array(this.vmCount);
    const sourceDone = new Uint8Array(this.tagCount);
    const destDone = new Uint8Array(this.tagCount);
    const queue = new Uint32Array(this.vmCount);
    let head = 0;
    let tail = 0;
    queue[tail++] = source;
    visited[source] = 1;
    // Breadth-first over VMs; each tag is expanded once as a source and once as a dest, so the
    // search is linear in the environment and the first time `target` is reached is shortest.
    search: while (head < tail) {
      const vm = queue[head++]!;
      for (let a = this.vmTags.start[vm]!; a < this.vmTags.start[vm + 1]!; a++) {
        const tag = this.vmTags.values[a]!;
        if (sourceDone[tag] === 1) continue;
        sourceDone[tag] = 1;
        for (let b = this.destsOf.start[tag]!; b < this.destsOf.start[tag + 1]!; b++) {
          const dest = this.destsOf.values[b]!;
          if (destDone[dest] === 1) continue;
          destDone[dest] = 1;
          for (let c = this.holders.start[dest]!; c < this.holders.start[dest + 1]!; c++) {
            const next = this.holders.values[c]!;
            if (visited[next] === 1) continue;
            visited[next] = 1;
            parent[next] = vm;
            via[next] = this.ruleOf[b]!;
            if (next === target) break search;
            queue[tail++] = next;
          }
        }
      }
    }
    if (visited[target] !== 1) return null;
    const steps: PathStep[] = [];
    for (let vm = target; vm !== source; vm = parent[vm]!) {
      steps.push({ vm_id: this.ids[vm]!, fw_id: this.fwIds[via[vm]!]! });
    }
    steps.push({ vm_id: this.ids[source]!, fw_id: null });
    return steps.reverse();
  }

  /** Current cache figures, both modes together. */
  cacheInfo(): CacheInfo {
    const { direct, transitive } = this.caches;
    return {
      entries: direct.size + transitive.size,
      bytes: direct.bytes + transitive.bytes,
      hits: direct.hits + transitive.hits,
      misses: direct.misses + transitive.misses,
      warmed: this.warmNext < 0,
    };
  }

  /**
   * Precomputes direct answers in the background, keys shared by the most VMs first, for about
   * `budgetMs`; call again until it returns true. It stops early once the cache is 90% full, so
   * it never evicts what requests already use, and it never counts as cache hits or misses.
   */
  warmUp(budgetMs: number, now: () => number = () => performance.now()): boolean {
    if (this.warmNext < 0) return true;
    if (this.warmOrder === undefined) {
      const shared = new Uint32Array(this.keySources.count);
      for (const key of this.vmKey) shared[key]!++;
      const keys = Array.from({ length: shared.length - 1 }, (_, i) => i + 1);
      keys.sort((a, b) => shared[b]! - shared[a]! || a - b);
      this.warmOrder = Uint32Array.from(keys);
    }
    const cache = this.caches.direct;
    const until = now() + budgetMs;
    while (this.warmNext < this.warmOrder.length && cache.bytes < cache.capacity * 0.9) {
      const key = this.warmOrder[this.warmNext++]!;
      if (!cache.has(key)) cache.set(key, this.serialise(this.directMembers(key)));
      if (now() >= until) return false;
    }
    this.warmNext = -1;
    return true;
  }

  /** All vm_ids in answer order. */
  vmIds(): readonly VmId[] {
    return this.ids;
  }

  private answer(vm: number, mode: AttackMode): Answer {
    const key = this.vmKey[vm]!;
    if (key === 0) return EMPTY_ANSWER;
    const cache = this.caches[mode];
    let answer = cache.get(key);
    if (answer === undefined) {
      const bits = mode === 'direct' ? this.directMembers(key) : this.transitiveMembers(key);
      answer = this.serialise(bits);
      cache.set(key, answer);
    }
    return answer;
  }

  /** VMs carrying any source tag of the key: the union of the tags' member sets. */
  private directMembers(key: number): Uint32Array {
    const bits = new Uint32Array(this.words);
    for (const tag of this.keySources.tags(key)) {
      const dense = this.denseBits[tag];
      if (dense !== undefined) {
        for (let w = 0; w < bits.length; w++) bits[w]! |= dense[w]!;
      } else {
        for (let k = this.holders.start[tag]!; k < this.holders.start[tag + 1]!; k++) {
          const vm = this.holders.values[k]!;
          bits[vm >>> 5]! |= 1 << (vm & 31);
        }
      }
    }
    return bits;
  }

  /** VMs from which some chain of hops ends in a VM whose attacker key is `key`. */
  private transitiveMembers(key: number): Uint32Array {
    const bits = new Uint32Array(this.words);
    const sourceSeen = new Uint8Array(this.tagCount);
    const destSeen = new Uint8Array(this.tagCount);
    const pending: number[] = [];
    for (const tag of this.keySources.tags(key)) {
      sourceSeen[tag] = 1;
      pending.push(tag);
    }
    // Backward search: a VM carrying a pending source tag can attack the current frontier;
    // its own tags then become dests, whose sources can attack it, and so on to a fixpoint.
    while (pending.length > 0) {
      const source = pending.pop()!;
      for (let k = this.holders.start[source]!; k < this.holders.start[source + 1]!; k++) {
        const vm = this.holders.values[k]!;
        const mask = 1 << (vm & 31);
        if ((bits[vm >>> 5]! & mask) !== 0) continue;
        bits[vm >>> 5]! |= mask;
        for (let a = this.vmTags.start[vm]!; a < this.vmTags.start[vm + 1]!; a++) {
          const dest = this.vmTags.values[a]!;
          if (destSeen[dest] === 1) continue;
          destSeen[dest] = 1;
          for (let b = this.sourcesOf.start[dest]!; b < this.sourcesOf.start[dest + 1]!; b++) {
            const next = this.sourcesOf.values[b]!;
            if (sourceSeen[next] === 1) continue;
            sourceSeen[next] = 1;
            pending.push(next);
          }
        }
      }
    }
    return bits;
  }

  /** Turns a member bitset into sorted JSON bytes, in the smaller of the two answer forms. */
  private serialise(bits: Uint32Array): Answer {
    const { idStart, idBytes } = this;
    const prefix = new Uint32Array(bits.length);
    let count = 0;
    let size = 1; // "["
    for (let w = 0; w < bits.length; w++) {
      prefix[w] = size;
      let word = bits[w]!;
      while (word !== 0) {
        const low = word & -word;
        const vm = (w << 5) + (31 - Math.clz32(low));
        size += idStart[vm + 1]! - idStart[vm]!;
        count++;
        word ^= low;
      }
    }
    if (count === 0) return EMPTY_ANSWER;
    const json = Buffer.allocUnsafeSlow(size);
    json[0] = OPEN;
    let at = 1;
    let runStart = -1;
    let previous = -2;
    // Copy runs of consecutive members: one memcpy for long runs, a byte loop for short ones
    // (a native call costs more than copying a dozen bytes).
    const flush = (): void => {
      const from = idStart[runStart]!;
      const to = idStart[previous + 1]!;
      if (to - from > 64) {
        idBytes.copy(json, at, from, to);
        at += to - from;
      } else {
        for (let k = from; k < to; k++) json[at++] = idBytes[k]!;
      }
    };
    for (const vm of bitsOf(bits)) {
      if (vm === previous + 1) {
        previous = vm;
        continue;
      }
      if (runStart >= 0) flush();
      runStart = previous = vm;
    }
    flush();
    json[size - 1] = CLOSE; // the last element's comma
    if (count > bits.length) return new DenseAnswer(json, count, bits, prefix, idStart);
    const list = new Uint32Array(count);
    const starts = new Uint32Array(count);
    let n = 0;
    for (const vm of bitsOf(bits)) {
      list[n] = vm;
      starts[n++] = prefix[vm >>> 5]!;
    }
    // starts so far hold each word's first offset; add the members before vm in its word.
    for (let p = 1; p < count; p++) {
      if (list[p]! >>> 5 === list[p - 1]! >>> 5) {
        starts[p] = starts[p - 1]! + idStart[list[p - 1]! + 1]! - idStart[list[p - 1]!]!;
      }
    }
    return new SparseAnswer(json, list, starts);
  }
}

function indexOfMember(members: Uint32Array, vm: number): number {
  let lo = 0;
  let hi = members.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const value = members[mid]!;
    if (value === vm) return mid;
    if (value < vm) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
