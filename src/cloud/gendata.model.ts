/**
 * Reproducible synthetic environments for benchmarks and tests. Real estates are skewed: a few
 * tags (http, ssh, k8s, prod) are on a large share of VMs and in many rules, while most tags
 * (team-0421, svc-payments-eu) are rare. Popularity follows a Zipf-like law so the generated
 * worst case matches the design target: at 100,000 VMs most VMs are attacked by tens of thousands.
 */
import type { CloudEnvironment, FwId, FwRule, Vm, VmId } from '#src/cloud/environment.model.js';

/** What to generate. */
export interface GenOptions {
  readonly vms: number;
  readonly tags: number;
  readonly rules: number;
  readonly seed: number;
}

/** sfc32: a small, fast, well-distributed seeded PRNG (floats in [0, 1)). */
function sfc32(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next(); // let the state mix before use
  return next;
}

// Share of rules whose source / dest tag follows the popularity skew (the rest are uniform).
// Tuned so that at 100,000 VMs, 5,000 tags and 10,000 rules the median VM is attacked by about
// 45,000 VMs (p10 under 100, p90 about 75,000): "most VMs attacked by tens of thousands".
const SOURCE_SKEW = 0.05;
const DEST_SKEW = 0.2;
const COMMON_TAGS = ['http', 'https', 'ssh', 'k8s', 'dev', 'prod', 'ci', 'api', 'storage', 'nat'];
const NAMES = [
  'jira server',
  'k8s node',
  'bastion',
  'frontend server',
  'billing service',
  'etcd node',
  'kafka',
  'rabbitmq',
  'php app',
  'dev-srv',
  'postgres primary',
  'redis cache',
  'load balancer',
  'ci runner',
  'vpn gateway',
];

/** Samples ranks 0..n-1 with probability proportional to 1/(rank+1)^s, by binary search on the CDF. */
function zipf(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += 1 / Math.pow(i + 1, s);
    cdf[i] = sum;
  }
  return () => {
    const target = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function hex(random: () => number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += '0123456789abcdef'.charAt(Math.floor(random() * 16));
  return out;
}

/** Tag names: the common ones first (most popular), then team-/svc- style rare ones. */
function tagNames(count: number): string[] {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    names.push(
      i < COMMON_TAGS.length
        ? COMMON_TAGS[i]!
        : `${i % 2 === 0 ? 'team' : 'svc'}-${String(i).padStart(4, '0')}`,
    );
  }
  return names;
}

/** A source of distinct ids: prefix + minLength..minLength+spread-1 random hex digits. */
function uniqueIds(
  random: () => number,
  prefix: string,
  minLength: number,
  spread: number,
): () => string {
  const used = new Set<string>();
  return () => {
    let id: string;
    do id = `${prefix}${hex(random, minLength + Math.floor(random() * spread))}`;
    while (used.has(id));
    used.add(id);
    return id;
  };
}

/** Generates an environment; the same options always give the same document. */
export function generateEnvironment(options: GenOptions): CloudEnvironment {
  const random = sfc32(options.seed);
  const tags = tagNames(options.tags);
  const pickTag = zipf(tags.length, 1.1, random);

  const vmId = uniqueIds(random, 'vm-', 8, 3);
  const vms: Vm[] = [];
  for (let i = 0; i < options.vms; i++) {
    const id = vmId();
    const vmTags = new Set<string>();
    // About 2% of VMs carry no tag at all, as in real estates.
    if (random() >= 0.02) {
      const wanted = 1 + Math.floor(random() * 6);
      for (let k = 0; k < wanted * 2 && vmTags.size < wanted; k++) vmTags.add(tags[pickTag()]!);
    }
    vms.push({
      vm_id: id as VmId,
      name: NAMES[Math.floor(random() * NAMES.length)]!,
      tags: [...vmTags],
    });
  }

  const fwId = uniqueIds(random, 'fw-', 6, 4);
  const rules: FwRule[] = [];
  for (let i = 0; i < options.rules; i++) {
    const id = fwId();
    const roll = random();
    let source: string;
    let dest: string;
    if (roll < 0.01) {
      // A few rules name tags nobody carries (left over from decommissioned systems).
      source = `legacy-${String(i)}`;
      dest = tags[pickTag()]!;
    } else {
      // Both ends skew to common tags, but most rules name a rarer tag on one side (a team's
      // service opened to a shared tier, or the reverse), as least-privilege estates do.
      const uniform = (): string => tags[Math.floor(random() * tags.length)]!;
      source = roll < SOURCE_SKEW ? tags[pickTag()]! : uniform();
      dest = random() < DEST_SKEW ? tags[pickTag()]! : uniform();
    }
    rules.push({ fw_id: id as FwId, source_tag: source, dest_tag: dest });
  }
  return { vms, fw_rules: rules };
}

/** Writes the environment as compact-but-readable JSON, one VM or rule per line. */
export function environmentToJson(env: CloudEnvironment): string {
  const parts: string[] = ['{"vms":[\n'];
  env.vms.forEach((vm, i) => parts.push(`${i > 0 ? ',\n' : ''}${JSON.stringify(vm)}`));
  parts.push('\n],"fw_rules":[\n');
  env.fw_rules.forEach((rule, i) => parts.push(`${i > 0 ? ',\n' : ''}${JSON.stringify(rule)}`));
  parts.push('\n]}\n');
  return parts.join('');
}
