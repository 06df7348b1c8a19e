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
}

interface Answer extends Sized {
  /** `[e0,e1,...]` as UTF-8 JSON. */
  readonly json: Buffer;
  /** VM indices of the elements, ascending (equal to vm_id order). */
  readonly members: Uint32Array;
  /** ends[p] is the byte offset just past element p in json. */
  readonly ends: Uint32Array;
}

const EMPTY_JSON = Buffer.from('[]');
const EMPTY_ANSWER: Answer = {
  json: EMPTY_JSON,
  members: new Uint32Array(0),
  ends: new Uint32Array(0),
  bytes: 0,
};
const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const COMMA = 0x2c; // ,

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
  /** JSON-encoded ids, concatenated in sorted order; idStart has V+1 offsets. */
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
  private readonly keySources: readonly Uint32Array[];
  private readonly words: number;
  private readonly tagCount: number;
  private readonly caches: Record<AttackMode, ByteLru<Answer>>;

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

    const encoded = this.ids.map((id) => JSON.stringify(id));
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
    const keyBySources = new Map<string, number>([['', 0]]);
    const keySources: Uint32Array[] = [new Uint32Array(0)];
    const sourceStamp = new Uint32Array(tagCount);
    let stampValue = 0;
    for (let i = 0; i < vmCount; i++) {
      const tags = this.vmTags.values.subarray(this.vmTags.start[i], this.vmTags.start[i + 1]);
      const tagSetKey = tags.join(',');
      let key = keyByTagSet.get(tagSetKey);
      if (key === undefined) {
        stampValue++;
        const sources: number[] = [];
        for (const dest of tags) {
          for (let k = this.sourcesOf.start[dest]!; k < this.sourcesOf.start[dest + 1]!; k++) {
            const source = this.sourcesOf.values[k]!;
            if (sourceStamp[source] === stampValue) continue;
            sourceStamp[source] = stampValue;
            sources.push(source);
          }
        }
        sources.sort((a, b) => a - b);
        const sourcesKey = sources.join(',');
        key = keyBySources.get(sourcesKey);
        if (key === undefined) {
          key = keySources.length;
          keySources.push(Uint32Array.from(sources));
          keyBySources.set(sourcesKey, key);
        }
        keyByTagSet.set(tagSetKey, key);
      }
      this.vmKey[i] = key;
    }
    this.keySources = keySources;

    this.info = {
      vm_count: vmCount,
      rule_count: env.fw_rules.length,
      tag_count: tagCount,
      attacker_set_count: keySources.length - 1,
      build_ms: now() - started,
    };
  }

  /** True when the environment has a VM with this id. */
  has(vmId: string): boolean {
    return this.indexById.has(vmId);
  }

  /**
   * The attackers of vmId as ready-to-send JSON bytes (sorted by vm_id, without vmId itself),
   * or undefined when there is no such VM. Callers must not modify the returned buffer.
   */
  attackersJson(vmId: string, mode: AttackMode): Buffer | undefined {
    const vm = this.indexById.get(vmId);
    if (vm === undefined) return undefined;
    const answer = this.answer(vm, mode);
    const p = indexOfMember(answer.members, vm);
    if (p < 0) return answer.json;
    const { json, ends } = answer;
    if (ends.length === 1) return EMPTY_JSON;
    // Cut element p out: drop it with its leading comma, or its trailing one when it is first.
    if (p === 0) return Buffer.concat([json.subarray(0, 1), json.subarray(ends[0]! + 1)]);
    return Buffer.concat([json.subarray(0, ends[p - 1]), json.subarray(ends[p])]);
  }

  /** The attackers of vmId as ids (sorted, without vmId), or undefined for an unknown VM. */
  attackers(vmId: string, mode: AttackMode): VmId[] | undefined {
    const vm = this.indexById.get(vmId);
    if (vm === undefined) return undefined;
    const result: VmId[] = [];
    for (const member of this.answer(vm, mode).members) {
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
    };
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
    for (const tag of this.keySources[key]!) {
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
    for (const tag of this.keySources[key]!) {
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

  /** Turns a member bitset into sorted JSON bytes plus element offsets. */
  private serialise(bits: Uint32Array): Answer {
    let count = 0;
    for (const word of bits) count += popcount(word);
    if (count === 0) return EMPTY_ANSWER;
    const members = new Uint32Array(count);
    let n = 0;
    let size = 1 + count; // "[" plus one separator or "]" per element
    for (let w = 0; w < bits.length; w++) {
      let word = bits[w]!;
      while (word !== 0) {
        const low = word & -word;
        const vm = (w << 5) + (31 - Math.clz32(low));
        members[n++] = vm;
        size += this.idStart[vm + 1]! - this.idStart[vm]!;
        word ^= low;
      }
    }
    const json = Buffer.allocUnsafeSlow(size);
    const ends = new Uint32Array(count);
    const source = this.idBytes;
    json[0] = OPEN;
    let at = 1;
    for (let p = 0; p < count; p++) {
      if (p > 0) json[at++] = COMMA;
      const vm = members[p]!;
      // A byte loop beats Buffer#copy for ids of a dozen bytes: no native call per element.
      for (let k = this.idStart[vm]!, end = this.idStart[vm + 1]!; k < end; k++) {
        json[at++] = source[k]!;
      }
      ends[p] = at;
    }
    json[at] = CLOSE;
    return { json, members, ends, bytes: size + members.byteLength + ends.byteLength + 64 };
  }
}

function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
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
