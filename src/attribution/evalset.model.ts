/**
 * The evaluation-set generator: real organization-to-domain data (an entity list such as the
 * MIT-licensed third-party-web package's: companies and the domains they serve) turned into
 * facts with the noise attribution meets in practice, labelled with the truth. Deterministic:
 * the same entities and seed give the same sets, byte for byte. Organizations are split into
 * disjoint train and test halves. docs/attribution.md describes every noise source and its rate.
 */
import { getDomain } from 'tldts';
import type {
  CertificateFacts,
  FactInput,
  RegistrationFacts,
} from '#src/attribution/facts.model.js';
import type { SeededOrganization } from '#src/attribution/filter.model.js';
import { LABELS_FORMAT, type Label, type LabelledSet } from '#src/attribution/labelled.model.js';

/** An entity as the source list has it. */
export interface SourceEntity {
  readonly name: string;
  readonly company?: string;
  readonly category?: string;
  readonly domains: readonly string[];
}

/** The generated sets. */
export interface EvalSets {
  readonly train: LabelledSet;
  readonly test: LabelledSet;
}

/** Generator options. */
export interface EvalSetOptions {
  readonly seed?: number;
  /** Background domains that belong to no organization. */
  readonly background?: number;
}

/** mulberry32: a small seeded PRNG, enough for reproducible synthetic data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const AS_OF = Date.UTC(2026, 10, 1);
const DAY = 86_400_000;

const PRIVACY = [
  ['Domains By Proxy, LLC', 'domainsbyproxy.com'],
  ['WhoisGuard, Inc.', 'whoisguard.com'],
  ['Withheld for Privacy ehf', 'withheldforprivacy.com'],
  ['REDACTED FOR PRIVACY', 'privacyguardian.org'],
] as const;
const BIG_DNS = [
  'ns1.domaincontrol.com',
  'ns-1.awsdns-00.com',
  'ada.ns.cloudflare.com',
  'ns1.registrar-servers.com',
  'dns1.p01.nsone.net',
];
const PUBLIC_MAIL = ['gmail.com', 'outlook.com', 'yahoo.com', 'proton.me'];
const LEGAL = [
  '',
  ' Inc.',
  ', Inc.',
  ' LLC',
  ' Ltd',
  ' Limited',
  ' GmbH',
  ' S.A.',
  ' Corp.',
  ' B.V.',
];
const VARIANT = [' Europe', ' Holdings', ' Digital Services', ' International', ' Japan'];
const WORDS = [
  'blue',
  'river',
  'stone',
  'pixel',
  'north',
  'maple',
  'cedar',
  'lumen',
  'orbit',
  'delta',
  'quartz',
  'harbor',
  'amber',
  'nova',
  'echo',
  'summit',
];
const TLDS = ['com', 'net', 'io', 'co.uk', 'de', 'fr', 'org'];
/** Hosting ranges (100.64.0.0/10, one /16 per hoster) and their ASNs (32-bit private range). */
const HOSTERS = 24;
const hosterAsn = (h: number): number => 4_200_000_000 + h;
const hosterIp = (h: number, n: number): string =>
  `100.${String(64 + h)}.${String((n >> 8) & 255)}.${String(n & 255)}`;

interface OrgPlan {
  readonly org: SeededOrganization;
  readonly domains: readonly string[];
  readonly entityNames: readonly string[];
  readonly hostsAt: number;
}

/** Generates train and test sets from an entity list. */
export function generateEvalSets(
  entities: readonly SourceEntity[],
  options: EvalSetOptions = {},
): EvalSets {
  const rand = prng(options.seed ?? 20261124);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const chance = (p: number): boolean => rand() < p;
  const seenAt = (): number => AS_OF - Math.floor(rand() * 400) * DAY;

  // Organizations: entities grouped by parent company, with the domains no one else claims.
  const groups = new Map<string, { domains: string[]; names: Set<string> }>();
  const claimed = new Map<string, number>();
  for (const e of entities) {
    const company = (e.company ?? e.name).trim();
    let group = groups.get(company);
    if (group === undefined) groups.set(company, (group = { domains: [], names: new Set() }));
    group.names.add(e.name);
    for (const raw of e.domains) {
      const host = raw.replace(/^\*\./, '').toLowerCase();
      const icann = getDomain(host);
      const any = getDomain(host, { allowPrivateDomains: true });
      // Subdomains of shared platforms (cloudfront, akamaihd, googleapis) say nothing of owners.
      if (icann === null || icann !== any) continue;
      if (!group.domains.includes(icann)) {
        group.domains.push(icann);
        claimed.set(icann, (claimed.get(icann) ?? 0) + 1);
      }
    }
  }
  const plans: OrgPlan[] = [];
  let orgNo = 0;
  for (const [company, group] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const domains = group.domains.filter((d) => claimed.get(d) === 1);
    if (domains.length === 0) continue;
    const n = orgNo++;
    const seedCount = domains.length >= 4 ? 2 : 1;
    const asns = chance(0.3) ? [64_512 + (n % 1000)] : [];
    // Some organizations list their hoster's ASN as theirs: "in my ASN" is not "mine".
    const hostsAt = Math.floor(rand() * HOSTERS);
    if (chance(0.08)) asns.push(hosterAsn(hostsAt));
    plans.push({
      org: {
        id: `org-${String(n).padStart(4, '0')}`,
        name: company,
        seeds: {
          domains: domains.slice(0, seedCount),
          cidrs: [
            `198.${String(18 + (n >> 12))}.${String((n >> 4) & 255)}.${String((n & 15) << 4)}/28`,
          ],
          asns,
          names: [],
        },
      },
      domains,
      entityNames: [...group.names].filter((name) => name !== company),
      hostsAt,
    });
  }
  // Disjoint halves: a seeded shuffle, then alternate.
  const order = plans.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const halves = [new Set<number>(), new Set<number>()];
  order.forEach((planIndex, k) => halves[k % 2]!.add(planIndex));

  const build = (members: Set<number>, part: number): LabelledSet => {
    const facts: FactInput[] = [];
    const labels: Label[] = [];
    const hostCount = new Array<number>(HOSTERS).fill(part * 20_000);
    const hosted = (h: number): string => {
      const n = hostCount[h]!;
      hostCount[h] = n + 1;
      return hosterIp(h, n % 65_000);
    };
    const orgs = plans.filter((_, i) => members.has(i));
    const label = (asset: string, orgId: string, owned: boolean): void => {
      labels.push({ asset, org_id: orgId, owned });
    };
    for (const asn of new Set(orgs.flatMap((p) => p.org.seeds.asns))) {
      if (asn >= 4_200_000_000)
        facts.push({
          kind: 'prefix',
          subject: `100.${String(64 + asn - 4_200_000_000)}.0.0/16`,
          value: { asn, org: `Hoster ${String(asn - 4_200_000_000)}` },
          source: 'routeviews',
          seen_at: AS_OF,
        });
    }
    for (const plan of orgs) {
      const { org } = plan;
      const seed = org.seeds.domains[0]!;
      const ownAsn = org.seeds.asns.find((a) => a < 4_200_000_000);
      const cidrBase = org.seeds.cidrs[0]!.split('/')[0]!.split('.').map(Number);
      const ownIp = (k: number): string =>
        `${String(cidrBase[0])}.${String(cidrBase[1])}.${String(cidrBase[2])}.${String(cidrBase[3]! + 1 + (k % 14))}`;
      if (ownAsn !== undefined)
        facts.push({
          kind: 'prefix',
          subject: org.seeds.cidrs[0]!,
          value: { asn: ownAsn, org: org.name },
          source: 'routeviews',
          seen_at: AS_OF,
        });
      const nameVariant = (): string => {
        const r = rand();
        if (r < 0.12 && plan.entityNames.length > 0) return pick(plan.entityNames);
        if (r < 0.27) return `${org.name}${pick(VARIANT)}${pick(LEGAL)}`;
        const name = `${org.name}${pick(LEGAL)}`;
        return chance(0.2) ? name.toUpperCase() : name;
      };
      plan.domains.forEach((domain, k) => {
        // A subsidiary or an acquisition keeps its own legal name, name servers and mail: only a
        // partial name match links it to the parent.
        if (k > 0 && chance(0.2)) {
          const legal = `${chance(0.5) && plan.entityNames.length > 0 ? pick(plan.entityNames) : org.name + pick(VARIANT)}${pick(LEGAL)}`;
          facts.push({
            kind: 'registration',
            subject: domain,
            value: {
              registrant_org: legal,
              registrant_email: `admin@${domain}`,
              name_servers: [`ns1.${domain}`, `ns2.${domain}`],
            },
            source: chance(0.5) ? 'rdap' : 'whois',
            seen_at: seenAt(),
          });
          if (chance(0.8))
            facts.push({
              kind: 'certificate',
              subject: domain,
              value: { sans: [domain], subject_o: legal },
              source: 'ct',
              seen_at: seenAt(),
            });
          facts.push({
            kind: 'dns',
            subject: domain,
            value: { type: 'A' as const, data: hosted(plan.hostsAt) },
            source: 'passive-dns',
            seen_at: seenAt(),
          });
          label(domain, org.id, true);
          return;
        }
        // Owned domains: registration, certificate and DNS facts with realistic gaps.
        if (chance(0.9)) {
          const value: RegistrationFacts = {};
          if (chance(0.3)) {
            const [name, proxy] = pick(PRIVACY);
            value.registrant_org = name;
            value.registrant_email = `${domain.replace(/\./g, '-')}@${proxy}`;
          } else {
            value.registrant_org = nameVariant();
            const r = rand();
            if (r < 0.5) value.registrant_email = `hostmaster@${seed}`;
            else if (r < 0.7) value.registrant_email = `admin@${domain}`;
            else if (r < 0.8) value.registrant_email = `${org.id}@${pick(PUBLIC_MAIL)}`;
          }
          value.name_servers = chance(0.45) ? [`ns1.${seed}`, `ns2.${seed}`] : [pick(BIG_DNS)];
          value.created = AS_OF - Math.floor(rand() * 6000) * DAY;
          facts.push({
            kind: 'registration',
            subject: domain,
            value,
            source: chance(0.5) ? 'rdap' : 'whois',
            seen_at: seenAt(),
          });
        }
        if (chance(0.7)) {
          const sans = [domain, `www.${domain}`];
          if (k > 0 && chance(0.35)) sans.push(seed, `*.${seed}`);
          const value: CertificateFacts = { sans };
          if (chance(0.35)) value.subject_o = nameVariant();
          facts.push({
            kind: 'certificate',
            subject: domain,
            value,
            source: 'ct',
            seen_at: seenAt(),
          });
        }
        if (chance(0.8)) {
          const ip = chance(0.35) ? ownIp(k) : hosted(plan.hostsAt);
          facts.push({
            kind: 'dns',
            subject: domain,
            value: { type: 'A' as const, data: ip },
            source: 'passive-dns',
            seen_at: seenAt(),
          });
        }
        if (chance(0.4)) {
          const r = rand();
          const mx =
            r < 0.5
              ? `mx1.${seed}`
              : r < 0.8
                ? 'aspmx.l.google.com'
                : `${domain.replace(/\./g, '-')}.mail.protection.outlook.com`;
          facts.push({
            kind: 'dns',
            subject: domain,
            value: { type: 'MX' as const, data: mx },
            source: 'passive-dns',
            seen_at: seenAt(),
          });
        }
        label(domain, org.id, true);
      });
      // Owned IPs: a PTR under the seed domain, or none.
      for (let k = 0; k < 2; k++) {
        const ip = ownIp(k + 7);
        if (chance(0.6))
          facts.push({
            kind: 'dns',
            subject: ip,
            value: { type: 'PTR' as const, data: `host-${String(k)}.${seed}` },
            source: 'rdns',
            seen_at: seenAt(),
          });
        else
          facts.push({
            kind: 'certificate',
            subject: ip,
            value: { sans: [`vpn.${seed}`] },
            source: 'scan',
            seen_at: seenAt(),
          });
        label(ip, org.id, true);
      }
      // Look-alikes registered by others, some impersonating the name outright.
      if (chance(0.3)) {
        const label0 = seed.split('.')[0]!;
        const squat = `${label0}-${pick(['login', 'secure', 'support', 'account', 'pay'])}.${pick(TLDS)}`;
        const r = rand();
        const registrant =
          r < 0.5
            ? `${org.name}${pick(LEGAL)}`
            : r < 0.8
              ? `${org.name} Support Services`
              : pick(PRIVACY)[0];
        facts.push({
          kind: 'registration',
          subject: squat,
          value: {
            registrant_org: registrant,
            registrant_email: `${label0}${String(Math.floor(rand() * 100))}@${pick(PUBLIC_MAIL)}`,
            name_servers: [pick(BIG_DNS)],
            created: AS_OF - Math.floor(rand() * 60) * DAY,
          },
          source: 'whois',
          seen_at: seenAt(),
        });
        if (chance(0.5))
          facts.push({
            kind: 'certificate',
            subject: squat,
            value: { sans: [squat] },
            source: 'ct',
            seen_at: seenAt(),
          });
        facts.push({
          kind: 'dns',
          subject: squat,
          value: { type: 'A' as const, data: hosted(Math.floor(rand() * HOSTERS)) },
          source: 'passive-dns',
          seen_at: AS_OF,
        });
        label(squat, org.id, false);
      }
      // A namesake: another company of the same name, elsewhere.
      if (chance(0.04)) {
        const other = `${pick(WORDS)}${pick(WORDS)}.${pick(['de', 'fr', 'com.br', 'jp'])}`;
        facts.push({
          kind: 'registration',
          subject: other,
          value: {
            registrant_org: `${org.name}${pick(LEGAL)}`,
            registrant_email: `info@${other}`,
            name_servers: [`ns1.${other}`],
          },
          source: 'whois',
          seen_at: seenAt(),
        });
        label(other, org.id, false);
      }
    }
    // Background: domains of no organization, on shared hosting, with mail at big providers.
    const background = Math.floor((options.background ?? 3000) / 2);
    for (let b = 0; b < background; b++) {
      const domain = `${pick(WORDS)}${pick(WORDS)}${String(part * 100_000 + b)}.${pick(TLDS)}`;
      const h = Math.floor(rand() * HOSTERS);
      const ip = hosted(h);
      facts.push({
        kind: 'dns',
        subject: domain,
        value: { type: 'A' as const, data: ip },
        source: 'passive-dns',
        seen_at: seenAt(),
      });
      if (chance(0.3))
        facts.push({
          kind: 'dns',
          subject: domain,
          value: { type: 'MX' as const, data: 'aspmx.l.google.com' },
          source: 'passive-dns',
          seen_at: seenAt(),
        });
      if (chance(0.5))
        facts.push({
          kind: 'registration',
          subject: domain,
          value: { registrant_org: pick(PRIVACY)[0], name_servers: [pick(BIG_DNS)] },
          source: 'whois',
          seen_at: seenAt(),
        });
      facts.push({
        kind: 'dns',
        subject: ip,
        value: { type: 'PTR' as const, data: domain },
        source: 'rdns',
        seen_at: seenAt(),
      });
    }
    return {
      format: LABELS_FORMAT,
      as_of: AS_OF,
      organizations: orgs.map((p) => p.org),
      facts,
      labels,
      closed_world: true,
    };
  };
  return { train: build(halves[0]!, 0), test: build(halves[1]!, 1) };
}
