/**
 * The candidate filter: joins facts to organizations' seeds and yields asset-organization pairs
 * with the evidence for each. Every join is a hash lookup on a key (registrable domain,
 * normalised name, name token, ASN, masked IP per prefix length), so the cost grows with the
 * facts, never with facts x organizations. Bulk entities (registrars, privacy services, CDNs,
 * hosters, public mail) are on a stop list and produce no evidence at all.
 */
import ipaddr from 'ipaddr.js';
import { getDomain } from 'tldts';
import { normaliseCidr, type Fact } from '#src/attribution/facts.model.js';

/** Seeds of one organization, as the filter reads them. */
export interface SeededOrganization {
  readonly id: string;
  readonly name: string;
  readonly seeds: {
    readonly domains: readonly string[];
    readonly cidrs: readonly string[];
    readonly asns: readonly number[];
    readonly names: readonly string[];
  };
}

/** Kinds of evidence a pair can have, in feature order. */
export const EVIDENCE_TYPES = [
  'domain',
  'ip_cidr',
  'asn',
  'ip_registration',
  'san',
  'cert_org',
  'registrant_org',
  'registrant_email',
  'name_server',
  'mx',
  'cname',
  'ptr',
  'self_provided',
] as const;
/** One of EVIDENCE_TYPES. */
export type EvidenceType = (typeof EVIDENCE_TYPES)[number];

/** The reason categories the API reports. */
export const REASON_CATEGORIES = [
  'ip_registration',
  'asn',
  'certificate',
  'dns',
  'whois',
  'self_provided',
] as const;
/** One of REASON_CATEGORIES. */
export type ReasonCategory = (typeof REASON_CATEGORIES)[number];

/** The category each evidence type is reported under. */
export const CATEGORY_OF: Readonly<Record<EvidenceType, ReasonCategory>> = {
  domain: 'self_provided',
  ip_cidr: 'self_provided',
  self_provided: 'self_provided',
  asn: 'asn',
  ip_registration: 'ip_registration',
  san: 'certificate',
  cert_org: 'certificate',
  registrant_org: 'whois',
  registrant_email: 'whois',
  name_server: 'dns',
  mx: 'dns',
  cname: 'dns',
  ptr: 'dns',
};

/** One piece of evidence tying an asset to an organization. */
export interface Evidence {
  /** What kind of link it is. */
  readonly type: EvidenceType;
  /** The shared attribute: a seed domain, a normalised name, an ASN, a CIDR. */
  readonly value: string;
  /** Where the fact came from. */
  readonly source: string;
  /** 1 for an exact match; less for a partial name match. */
  readonly similarity: number;
  /** How many organizations share this attribute (1 = only this one). */
  readonly shared: number;
  /** When the fact was last seen, epoch ms. */
  readonly seen_at: number;
}

/** Kinds of asset a pair can be about. */
export type PairAssetKind = 'domain' | 'ip' | 'certificate';

/** An asset-organization pair with its evidence. */
export interface Candidate {
  /** The asset's key: a host name, an IP or sha256:HEX. */
  readonly asset: string;
  readonly asset_kind: PairAssetKind;
  readonly org_id: string;
  readonly evidence: Evidence[];
}

/** The stop list of bulk entities (data/bulk-entities.json). */
export interface StopList {
  /** Organization names (registrars, privacy services, hosters), any spelling. */
  readonly names: readonly string[];
  /** Registrable domains of shared infrastructure and public mail. */
  readonly domains: readonly string[];
  /** ASNs of clouds and CDNs. */
  readonly asns: readonly number[];
}

/** What a filter run produced, and why. */
export interface FilterStats {
  facts: number;
  assets: number;
  pairs: number;
  /** Pairs with at least one piece of evidence of each type. */
  by_evidence: Record<string, number>;
  /** Attribute matches dropped because the attribute belongs to a bulk entity. */
  stopped: { names: number; domains: number; asns: number };
}

/** Legal-form tokens dropped from names (after dots are removed: "S.A." is "sa"). */
const LEGAL_SUFFIXES = new Set([
  'inc',
  'incorporated',
  'llc',
  'ltd',
  'limited',
  'gmbh',
  'mbh',
  'ag',
  'sa',
  'sas',
  'sarl',
  'srl',
  'spa',
  'bv',
  'nv',
  'plc',
  'corp',
  'corporation',
  'co',
  'company',
  'lp',
  'llp',
  'pty',
  'pte',
  'oy',
  'oyj',
  'ab',
  'as',
  'asa',
  'kk',
  'kg',
  'se',
  'sl',
  'sro',
  'zrt',
  'kft',
  'ug',
]);

/** Seed names a token may occur in and still be used for partial name matches. */
const MAX_TOKEN_NAMES = 32;

/** Tokens too common to link organizations by themselves. */
const GENERIC_TOKENS = new Set([
  'the',
  'and',
  'of',
  'group',
  'holding',
  'holdings',
  'international',
  'global',
  'services',
  'service',
  'solutions',
  'systems',
  'technologies',
  'technology',
  'tech',
  'digital',
  'media',
  'networks',
  'network',
  'online',
  'software',
  'labs',
  'data',
  'cloud',
  'web',
  'internet',
  'ventures',
  'partners',
  'enterprises',
  'industries',
  'europe',
  'usa',
  'us',
  'uk',
  'america',
  'asia',
  'de',
  'france',
  'japan',
  'china',
  'ireland',
  'north',
  'south',
  'east',
  'west',
]);

/**
 * A name for comparison: lower case, diacritics and punctuation removed, legal forms dropped
 * ("Google, Inc." and "GOOGLE INC" and "Google" are the same name).
 */
export function normaliseName(raw: string): string {
  const tokens = raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/\./g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .split(' ')
    .filter((t) => t !== '');
  while (tokens.length > 1 && LEGAL_SUFFIXES.has(tokens[tokens.length - 1]!)) tokens.pop();
  return tokens.join(' ');
}

const domainCache = new Map<string, string | null>();

/** The registrable domain of a host (Public Suffix List, private suffixes included). */
export function registrableDomain(host: string): string | null {
  let found = domainCache.get(host);
  if (found === undefined) {
    found = getDomain(host, { allowPrivateDomains: true });
    if (domainCache.size > 1_000_000) domainCache.clear();
    domainCache.set(host, found);
  }
  return found;
}

/** Where an IP is looked up: one hash table per prefix length present. */
class PrefixTable<T> {
  private readonly v4 = new Map<number, Map<number, T[]>>();
  private readonly v6 = new Map<number, Map<string, T[]>>();
  private v4Lengths: number[] = [];
  private v6Lengths: number[] = [];

  /** Adds an entry for a CIDR; returns false if the CIDR cannot be read. */
  add(cidr: string, entry: T): boolean {
    const canonical = normaliseCidr(cidr);
    if (canonical === undefined) return false;
    const parsed = ipaddr.parseCIDR(canonical);
    const [ip, bits] = parsed;
    if (ip.kind() === 'ipv4') {
      const key = maskV4(v4ToInt(ip as ipaddr.IPv4), bits);
      let table = this.v4.get(bits);
      if (table === undefined) {
        this.v4.set(bits, (table = new Map<number, T[]>()));
        this.v4Lengths = [...this.v4.keys()].sort((a, b) => b - a);
      }
      const list = table.get(key);
      if (list === undefined) table.set(key, [entry]);
      else list.push(entry);
    } else {
      const key = maskV6((ip as ipaddr.IPv6).toByteArray(), bits);
      let table = this.v6.get(bits);
      if (table === undefined) {
        this.v6.set(bits, (table = new Map<string, T[]>()));
        this.v6Lengths = [...this.v6.keys()].sort((a, b) => b - a);
      }
      const list = table.get(key);
      if (list === undefined) table.set(key, [entry]);
      else list.push(entry);
    }
    return true;
  }

  /** Every entry whose CIDR contains the IP (canonical text form). */
  lookup(ipText: string, out: T[]): void {
    if (!ipText.includes(':')) {
      const parts = ipText.split('.');
      const ip = ((+parts[0]! << 24) | (+parts[1]! << 16) | (+parts[2]! << 8) | +parts[3]!) >>> 0;
      for (const bits of this.v4Lengths) {
        const hit = this.v4.get(bits)!.get(maskV4(ip, bits));
        if (hit !== undefined) out.push(...hit);
      }
      return;
    }
    if (this.v6Lengths.length === 0) return;
    const bytes = ipaddr.IPv6.parse(ipText).toByteArray();
    for (const bits of this.v6Lengths) {
      const hit = this.v6.get(bits)!.get(maskV6(bytes, bits));
      if (hit !== undefined) out.push(...hit);
    }
  }
}

function v4ToInt(ip: ipaddr.IPv4): number {
  const [a, b, c, d] = ip.octets as [number, number, number, number];
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function maskV4(ip: number, bits: number): number {
  return bits === 0 ? 0 : (ip & (~0 << (32 - bits))) >>> 0;
}

function maskV6(bytes: readonly number[], bits: number): string {
  let key = '';
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    const byte = keep === 0 ? 0 : bytes[i]! & ((0xff << (8 - keep)) & 0xff);
    key += byte.toString(16).padStart(2, '0');
  }
  return `${key}/${String(bits)}`;
}

interface RangeEntry {
  readonly org: number;
  readonly type: 'ip_cidr' | 'asn' | 'ip_registration';
  readonly value: string;
  readonly source: string;
  readonly seenAt: number;
  readonly similarity: number;
}

/** A name match: the organization and how closely the names agree. */
interface NameMatch {
  readonly org: number;
  readonly name: string;
  readonly similarity: number;
}

function push<K>(map: Map<K, number[]>, key: K, org: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [org]);
  else if (!list.includes(org)) list.push(org);
}

/** The organizations' seeds, indexed by every key a fact can be joined on. */
export class SeedIndex {
  /** Organizations by index. */
  readonly orgs: readonly SeededOrganization[];
  private readonly domains = new Map<string, number[]>();
  private readonly names = new Map<string, number[]>();
  /** Non-generic token -> seed names (normalised) that contain it. */
  private readonly tokens = new Map<string, string[]>();
  private readonly asns = new Map<number, number[]>();
  private readonly ranges = new PrefixTable<RangeEntry>();
  private readonly stopNames: Set<string>;
  private readonly stopDomains: Set<string>;
  private readonly stopAsns: Set<number>;
  /** Counters of stop-list hits, reset by each filter run. */
  readonly stopped = { names: 0, domains: 0, asns: 0 };

  constructor(orgs: readonly SeededOrganization[], stop: StopList) {
    this.orgs = orgs;
    this.stopNames = new Set(stop.names.map(normaliseName));
    this.stopDomains = new Set(stop.domains.map((d) => d.toLowerCase()));
    this.stopAsns = new Set(stop.asns);
    orgs.forEach((org, i) => {
      for (const d of org.seeds.domains) {
        const domain = registrableDomain(d.toLowerCase()) ?? d.toLowerCase();
        push(this.domains, domain, i);
      }
      for (const raw of [org.name, ...org.seeds.names]) {
        const name = normaliseName(raw);
        if (name === '') continue;
        push(this.names, name, i);
        for (const token of new Set(name.split(' '))) {
          if (GENERIC_TOKENS.has(token) || token.length < 3) continue;
          const list = this.tokens.get(token);
          if (list === undefined) this.tokens.set(token, [name]);
          else if (!list.includes(name)) list.push(name);
        }
      }
      for (const asn of org.seeds.asns) push(this.asns, asn, i);
      for (const cidr of org.seeds.cidrs) {
        this.ranges.add(cidr, {
          org: i,
          type: 'ip_cidr',
          value: cidr,
          source: 'seed',
          seenAt: 0,
          similarity: 1,
        });
      }
    });
  }

  /**
   * Adds the network facts every batch needs: prefixes of seed ASNs, and IP networks whose
   * registrant matches an organization.
   */
  addNetworkFacts(facts: Iterable<Fact>): void {
    for (const fact of facts) {
      if (fact.kind === 'prefix') {
        const asn = fact.value.asn;
        const orgs = this.asns.get(asn);
        if (orgs === undefined) continue;
        if (this.stopAsns.has(asn)) {
          this.stopped.asns++;
          continue;
        }
        for (const org of orgs) {
          this.ranges.add(fact.subject, {
            org,
            type: 'asn',
            value: `AS${String(asn)}`,
            source: fact.source,
            seenAt: fact.seenAt,
            similarity: 1,
          });
        }
      } else if (fact.kind === 'registration' && fact.subject.includes('/')) {
        const org = fact.value.registrant_org;
        if (org === undefined) continue;
        for (const match of this.matchName(org)) {
          this.ranges.add(fact.subject, {
            org: match.org,
            type: 'ip_registration',
            value: match.name,
            source: fact.source,
            seenAt: fact.seenAt,
            similarity: match.similarity,
          });
        }
      }
    }
  }

  /**
   * Organizations whose seed domain is the host's registrable domain; none when that domain is
   * shared infrastructure, unless the host is the asset itself (a CDN's own domain is still its).
   */
  orgsOfHost(host: string, own = false): readonly number[] {
    const domain = registrableDomain(host);
    if (domain === null) return [];
    const orgs = this.domains.get(domain);
    if (orgs === undefined) return [];
    if (!own && this.stopDomains.has(domain)) {
      this.stopped.domains++;
      return [];
    }
    return orgs;
  }

  /** The registrable domain of a host, if it is a seed domain. */
  seedDomainOf(host: string): string | null {
    const domain = registrableDomain(host);
    return domain !== null && this.domains.has(domain) ? domain : null;
  }

  /** Organizations whose names match: exactly (1) or by containing one another's tokens. */
  matchName(raw: string): NameMatch[] {
    const name = normaliseName(raw);
    if (name === '') return [];
    if (this.stopNames.has(name)) {
      this.stopped.names++;
      return [];
    }
    const out: NameMatch[] = [];
    const exact = this.names.get(name);
    if (exact !== undefined) for (const org of exact) out.push({ org, name, similarity: 1 });
    const tokens = new Set(name.split(' '));
    const seen = new Set<string>([name]);
    for (const token of tokens) {
      const candidates = this.tokens.get(token);
      // A token in many organizations' names ("first", "bank") tells them apart no better than a
      // generic one, and scanning its list for every fact would make the filter quadratic.
      if (candidates === undefined || candidates.length > MAX_TOKEN_NAMES) continue;
      for (const seedName of candidates) {
        if (seen.has(seedName)) continue;
        seen.add(seedName);
        const seedTokens = seedName.split(' ');
        let shared = 0;
        for (const t of seedTokens) if (tokens.has(t)) shared++;
        // One name must contain the other entirely: "acme" in "acme europe", not "acme" vs "acme
        // rockets" sharing half.
        if (shared !== seedTokens.length && shared !== tokens.size) continue;
        const similarity = shared / (seedTokens.length + tokens.size - shared);
        for (const org of this.names.get(seedName) ?? []) {
          out.push({ org, name: seedName, similarity });
        }
      }
    }
    return out;
  }

  /** Range matches of an IP (seed CIDRs, seed ASNs' prefixes, matching registrations). */
  lookupIp(ip: string, out: RangeEntry[]): void {
    this.ranges.lookup(ip, out);
  }
}

/** Collects evidence per (asset, organization). */
class PairCollector {
  readonly pairs = new Map<number, Evidence[]>();

  add(org: number, evidence: Evidence): void {
    const list = this.pairs.get(org);
    if (list === undefined) this.pairs.set(org, [evidence]);
    else if (
      !list.some(
        (e) =>
          e.type === evidence.type && e.value === evidence.value && e.source === evidence.source,
      )
    )
      list.push(evidence);
    else {
      const i = list.findIndex(
        (e) =>
          e.type === evidence.type && e.value === evidence.value && e.source === evidence.source,
      );
      if (list[i]!.seen_at < evidence.seen_at) list[i] = evidence;
    }
  }
}

/** The kind of asset a fact subject names. */
export function assetKindOf(subject: string): PairAssetKind | null {
  if (subject.startsWith('sha256:')) return 'certificate';
  if (subject.includes('/')) return null;
  if (subject.includes(':') || /^\d+\.\d+\.\d+\.\d+$/.test(subject)) return 'ip';
  return 'domain';
}

/**
 * Candidate pairs for facts grouped by subject (facts of one subject should come in one call;
 * they may be in any order). Network facts are assumed to be in the index already.
 */
export function generateCandidates(
  index: SeedIndex,
  facts: readonly Fact[],
  stats?: FilterStats,
): Candidate[] {
  const bySubject = new Map<string, Fact[]>();
  for (const fact of facts) {
    const list = bySubject.get(fact.subject);
    if (list === undefined) bySubject.set(fact.subject, [fact]);
    else list.push(fact);
  }
  const out: Candidate[] = [];
  const hits: RangeEntry[] = [];
  const before = { ...index.stopped };
  for (const [subject, subjectFacts] of bySubject) {
    const kind = assetKindOf(subject);
    if (kind === null) continue;
    const collector = new PairCollector();
    const orgsShared = (orgs: readonly number[]): number => orgs.length;
    const hostEvidence = (
      host: string,
      type: EvidenceType,
      source: string,
      seenAt: number,
    ): void => {
      const orgs = index.orgsOfHost(host, type === 'domain');
      for (const org of orgs) {
        collector.add(org, {
          type,
          value: registrableDomain(host) ?? host,
          source,
          similarity: 1,
          shared: orgsShared(orgs),
          seen_at: seenAt,
        });
      }
    };
    const ipEvidence = (ip: string, source: string, seenAt: number, via: string): void => {
      hits.length = 0;
      index.lookupIp(ip, hits);
      const shared = new Set(hits.map((h) => h.org)).size;
      for (const h of hits) {
        collector.add(h.org, {
          type: h.type,
          value: via === '' ? h.value : `${h.value} via ${via}`,
          source: h.type === 'ip_cidr' ? source : h.source,
          similarity: h.similarity,
          shared,
          seen_at: Math.max(seenAt, h.seenAt),
        });
      }
    };
    const nameEvidence = (
      raw: string,
      type: EvidenceType,
      source: string,
      seenAt: number,
    ): void => {
      const matches = index.matchName(raw);
      const shared = new Set(matches.map((m) => m.org)).size;
      for (const m of matches) {
        collector.add(m.org, {
          type,
          value: m.name,
          source,
          similarity: m.similarity,
          shared,
          seen_at: seenAt,
        });
      }
    };
    const latest = Math.max(...subjectFacts.map((f) => f.seenAt));
    if (kind === 'domain') hostEvidence(subject, 'domain', 'seed', latest);
    if (kind === 'ip') ipEvidence(subject, 'seed', latest, '');
    for (const fact of subjectFacts) {
      switch (fact.kind) {
        case 'registration': {
          const v = fact.value;
          if (v.registrant_org !== undefined)
            nameEvidence(v.registrant_org, 'registrant_org', fact.source, fact.seenAt);
          if (v.registrant_email !== undefined) {
            const domain = v.registrant_email.slice(v.registrant_email.lastIndexOf('@') + 1);
            hostEvidence(domain, 'registrant_email', fact.source, fact.seenAt);
          }
          for (const ns of v.name_servers ?? [])
            hostEvidence(ns, 'name_server', fact.source, fact.seenAt);
          break;
        }
        case 'certificate': {
          const v = fact.value;
          if (v.subject_o !== undefined)
            nameEvidence(v.subject_o, 'cert_org', fact.source, fact.seenAt);
          const own = kind === 'domain' ? registrableDomain(subject) : null;
          const seen = new Set<string>();
          for (const san of v.sans) {
            const domain = registrableDomain(san.replace(/^\*\./, ''));
            if (domain === null || domain === own || seen.has(domain)) continue;
            seen.add(domain);
            hostEvidence(domain, 'san', fact.source, fact.seenAt);
          }
          break;
        }
        case 'dns': {
          const { type, data } = fact.value;
          if (type === 'A' || type === 'AAAA') ipEvidence(data, fact.source, fact.seenAt, data);
          else if (type === 'NS') hostEvidence(data, 'name_server', fact.source, fact.seenAt);
          else if (type === 'MX') hostEvidence(data, 'mx', fact.source, fact.seenAt);
          else if (type === 'CNAME') hostEvidence(data, 'cname', fact.source, fact.seenAt);
          else hostEvidence(data, 'ptr', fact.source, fact.seenAt);
          break;
        }
        case 'prefix':
          break;
      }
    }
    if (collector.pairs.size === 0) continue;
    for (const [org, evidence] of collector.pairs) {
      out.push({ asset: subject, asset_kind: kind, org_id: index.orgs[org]!.id, evidence });
    }
    if (stats !== undefined) stats.assets++;
  }
  if (stats !== undefined) {
    stats.facts += facts.length;
    stats.pairs += out.length;
    for (const pair of out) {
      for (const type of new Set(pair.evidence.map((e) => e.type))) {
        stats.by_evidence[type] = (stats.by_evidence[type] ?? 0) + 1;
      }
    }
    stats.stopped.names += index.stopped.names - before.names;
    stats.stopped.domains += index.stopped.domains - before.domains;
    stats.stopped.asns += index.stopped.asns - before.asns;
  }
  return out;
}

/** Empty statistics to accumulate batches into. */
export function emptyStats(): FilterStats {
  return {
    facts: 0,
    assets: 0,
    pairs: 0,
    by_evidence: {},
    stopped: { names: 0, domains: 0, asns: 0 },
  };
}
