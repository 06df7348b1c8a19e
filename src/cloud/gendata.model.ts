/**
 * Reproducible synthetic environments for benchmarks, demos and tests.
 *
 * Real estates are skewed: a few tags (http, ssh, k8s, prod) are on a large share of VMs and in
 * many rules, while most tags (team-0421, svc-0422) are rare. Tag popularity follows a Zipf-like
 * law so the generated worst case matches the design target: at 100,000 VMs, 1,000 tags and
 * 10,000 rules, most VMs are attacked by tens of thousands of others. Real rule sets are also
 * untidy, so a few rules name tags no VM carries, some allow a tag to reach itself, and some
 * repeat an earlier (source, dest) pair under another fw_id.
 *
 * Everything derives from one seeded PRNG drawn in a fixed order (all VMs, then all rules), so
 * the same options always give the same bytes, and the JSON can be streamed while it is drawn:
 * the largest allowed environment (2M VMs, 10M rules, about 800 MB) never exists in memory whole.
 */
import type { CloudEnvironment, FwId, FwRule, Vm, VmId } from '#src/cloud/environment.model.js';

/** What to generate. */
export interface GenOptions {
  readonly vms: number;
  readonly tags: number;
  readonly rules: number;
  /** Any integer; only its low 32 bits matter. */
  readonly seed: number;
}

/** Zipf exponent of tag popularity: the top tag is on about 45% of VMs with 1,000 tags. */
const ZIPF_EXPONENT = 1.1;
/** Share of VMs without any tag (unmanaged or freshly created machines). */
const UNTAGGED_SHARE = 0.02;
const MAX_TAGS_PER_VM = 6;
// Kinds of rules, as cumulative shares of all rules; the rest are ordinary rules.
const ORPHAN_UNTIL = 0.01; // names a tag nobody carries (left over from decommissioned systems)
const SELF_UNTIL = 0.015; // t -> t: members of one tier reach each other
const DUPLICATE_UNTIL = 0.03; // repeats a recent (source, dest) pair under a new fw_id
/** Duplicates copy one of this many most recent rules, so memory stays flat for 10M rules. */
const DUPLICATE_WINDOW = 4096;
// Ordinary rules mostly open one team's rare tag to or from anything; these shares of them
// pick the source / dest by popularity instead. Tuned so that at 100,000 VMs, 1,000 tags and
// 10,000 rules about 85-90% of VMs are attacked by more than 10,000 VMs, while most rule tags are
// still rare ones.
const SOURCE_BY_POPULARITY = 0.04;
const DEST_BY_POPULARITY = 0.2;

const COMMON_TAGS = [
  'http',
  'ssh',
  'k8s',
  'dev',
  'prod',
  'https',
  'api',
  'ci',
  'db',
  'monitoring',
  'staging',
  'backup',
  'vpn',
  'nat',
  'storage',
  'windows',
  'linux',
  'cache',
  'queue',
  'logging',
];
const RARE_TAG_PREFIXES = ['team', 'svc', 'app', 'proj'];
const NAMES = [
  'jira server',
  'confluence',
  'k8s node',
  'k8s control plane',
  'bastion',
  'frontend server',
  'billing service',
  'etcd node',
  'kafka broker',
  'rabbitmq',
  'php app',
  'dev-srv',
  'postgres primary',
  'postgres replica',
  'redis cache',
  'load balancer',
  'ci runner',
  'vpn gateway',
  'grafana',
  'elasticsearch node',
  'windows dc',
  'file server',
  'mail relay',
  'build cache',
];

/** sfc32 seeded through splitmix32: fast, 32-bit outputs, and nearby seeds diverge at once. */
function sfc32(seed: number): () => number {
  let s = seed | 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) | 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** Uniform draws built on one sfc32 stream. */
class Random {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = sfc32(seed);
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    return this.next();
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.float() * n);
  }
}

/**
 * A keyed bijection on 32-bit integers (xor with the key, then xorshift-multiply rounds, each
 * invertible). Ids made from scramble(index) are unique by construction, with no set of the ids
 * drawn so far, and still look random.
 */
function scramble(index: number, key: number): number {
  let x = (index ^ key) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

function hex8(value: number): string {
  return value.toString(16).padStart(8, '0');
}

/** Samples ranks 0..n-1 with probability proportional to 1/(rank+1)^s, by bisecting the CDF. */
function zipfSampler(n: number, s: number, random: Random): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += 1 / Math.pow(i + 1, s);
    cdf[i] = sum;
  }
  return () => {
    const target = random.float() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! <= target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Tag names by popularity rank: the common ones first, then team-/svc- style rare ones. */
function tagNames(count: number): string[] {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    names.push(
      COMMON_TAGS[i] ??
        `${RARE_TAG_PREFIXES[i % RARE_TAG_PREFIXES.length]!}-${String(i).padStart(4, '0')}`,
    );
  }
  return names;
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > 0xffffffff) {
    throw new RangeError(`${name} must be an integer from ${String(min)} to 2^32-1, got ${value}`);
  }
}

/** Draws VMs, then rules, one at a time; callers must draw every VM before the first rule. */
class EnvironmentDrawer {
  private readonly random: Random;
  private readonly tags: readonly string[];
  private readonly popularTag: () => number;
  private readonly vmKey: number;
  private readonly fwKey: number;
  private readonly recentSources: string[] = [];
  private readonly recentDests: string[] = [];
  private vmCount = 0;
  private ruleCount = 0;

  constructor(options: GenOptions) {
    checkCount('vms', options.vms, 0);
    checkCount('tags', options.tags, 1);
    checkCount('rules', options.rules, 0);
    if (!Number.isInteger(options.seed)) throw new RangeError('seed must be an integer');
    this.random = new Random(options.seed);
    this.tags = tagNames(options.tags);
    this.popularTag = zipfSampler(this.tags.length, ZIPF_EXPONENT, this.random);
    this.vmKey = this.random.u32();
    this.fwKey = this.random.u32();
  }

  /** An id: prefix, 0-2 random hex digits, then 8 unique ones (8 to 10 digits in all). */
  private id(prefix: string, index: number, key: number): string {
    const extra = this.random.below(3);
    const head = extra === 0 ? '' : hex8(this.random.u32()).slice(0, extra);
    return `${prefix}${head}${hex8(scramble(index, key))}`;
  }

  private popular(): string {
    return this.tags[this.popularTag()]!;
  }

  private anyTag(): string {
    return this.tags[this.random.below(this.tags.length)]!;
  }

  /** The next VM. */
  nextVm(): Vm {
    const vmId = this.id('vm-', this.vmCount++, this.vmKey) as VmId;
    const tags: string[] = [];
    if (this.random.float() >= UNTAGGED_SHARE) {
      const wanted = 1 + this.random.below(MAX_TAGS_PER_VM);
      // Bounded retries: with very few tags in all, a VM simply gets fewer.
      for (let tries = 0; tries < 4 * wanted && tags.length < wanted; tries++) {
        const tag = this.popular();
        if (!tags.includes(tag)) tags.push(tag);
      }
    }
    return { vm_id: vmId, name: NAMES[this.random.below(NAMES.length)]!, tags };
  }

  /** The next firewall rule. */
  nextRule(): FwRule {
    const index = this.ruleCount++;
    const fwId = this.id('fw-', index, this.fwKey) as FwId;
    const kind = this.random.float();
    let source: string;
    let dest: string;
    if (kind < ORPHAN_UNTIL) {
      const orphan = `legacy-${hex8(this.random.u32()).slice(0, 5)}`;
      const other = this.popular();
      [source, dest] = this.random.float() < 0.5 ? [orphan, other] : [other, orphan];
    } else if (kind < SELF_UNTIL) {
      source = dest = this.anyTag();
    } else if (kind < DUPLICATE_UNTIL && index > 0) {
      const known = Math.min(index, DUPLICATE_WINDOW);
      const slot = (index - 1 - this.random.below(known)) % DUPLICATE_WINDOW;
      source = this.recentSources[slot]!;
      dest = this.recentDests[slot]!;
    } else {
      source = this.random.float() < SOURCE_BY_POPULARITY ? this.popular() : this.anyTag();
      dest = this.random.float() < DEST_BY_POPULARITY ? this.popular() : this.anyTag();
    }
    this.recentSources[index % DUPLICATE_WINDOW] = source;
    this.recentDests[index % DUPLICATE_WINDOW] = dest;
    return { fw_id: fwId, source_tag: source, dest_tag: dest };
  }
}

/** Generates an environment; the same options always give the same document. */
export function generateEnvironment(options: GenOptions): CloudEnvironment {
  const drawer = new EnvironmentDrawer(options);
  const vms: Vm[] = [];
  for (let i = 0; i < options.vms; i++) vms.push(drawer.nextVm());
  const rules: FwRule[] = [];
  for (let i = 0; i < options.rules; i++) rules.push(drawer.nextRule());
  return { vms, fw_rules: rules };
}

function vmJson(vm: Vm): string {
  return `{"vm_id":${JSON.stringify(vm.vm_id)},"name":${JSON.stringify(vm.name)},"tags":${JSON.stringify(vm.tags)}}`;
}

function ruleJson(rule: FwRule): string {
  return `{"fw_id":${JSON.stringify(rule.fw_id)},"source_tag":${JSON.stringify(rule.source_tag)},"dest_tag":${JSON.stringify(rule.dest_tag)}}`;
}

function* elements<T>(items: Iterable<T>, toJson: (item: T) => string): Generator<string> {
  let first = true;
  for (const item of items) {
    yield `${first ? '\n' : ',\n'}${toJson(item)}`;
    first = false;
  }
  if (!first) yield '\n';
}

// One element per line: diffable, greppable, and `head` shows whole VMs.
function* documentParts(vms: Iterable<Vm>, rules: Iterable<FwRule>): Generator<string> {
  yield '{"vms":[';
  yield* elements(vms, vmJson);
  yield '],"fw_rules":[';
  yield* elements(rules, ruleJson);
  yield ']}\n';
}

function* chunked(parts: Iterable<string>, chunkChars: number): Generator<string> {
  let buffer: string[] = [];
  let size = 0;
  for (const part of parts) {
    buffer.push(part);
    size += part.length;
    if (size >= chunkChars) {
      yield buffer.join('');
      buffer = [];
      size = 0;
    }
  }
  if (buffer.length > 0) yield buffer.join('');
}

/** Writes an environment as JSON, one VM or rule per line. */
export function environmentToJson(env: CloudEnvironment): string {
  return [...documentParts(env.vms, env.fw_rules)].join('');
}

/**
 * Streams the JSON of generateEnvironment(options), byte for byte, in chunks of about
 * `chunkChars` characters, drawing each VM and rule only when its chunk is built.
 */
export function* environmentJsonChunks(
  options: GenOptions,
  chunkChars = 1 << 20,
): Generator<string> {
  const drawer = new EnvironmentDrawer(options);
  function* vms(): Generator<Vm> {
    for (let i = 0; i < options.vms; i++) yield drawer.nextVm();
  }
  function* rules(): Generator<FwRule> {
    for (let i = 0; i < options.rules; i++) yield drawer.nextRule();
  }
  yield* chunked(documentParts(vms(), rules()), chunkChars);
}
