/**
 * Facts about assets, as attribution uses them, and the parsers of every import format:
 * JSON Lines of typed facts, RDAP JSON, WHOIS text and PEM/DER certificates. Parsers are pure:
 * they return the facts and the problems (with line numbers), and the caller decides whether a
 * problem stops the import (the default) or only skips its record (--skip-bad).
 */
import { X509Certificate, createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';

/** Kinds of fact. */
export const FACT_KINDS = ['registration', 'certificate', 'dns', 'prefix'] as const;
/** One of FACT_KINDS. */
export type FactKind = (typeof FACT_KINDS)[number];

/** DNS record types a dns fact may carry. */
export const DNS_TYPES = ['A', 'AAAA', 'CNAME', 'PTR', 'NS', 'MX'] as const;

const Name = Type.String({ minLength: 1, maxLength: 1024 });

/** Registration (RDAP/WHOIS) of a domain or an IP network. */
export const RegistrationValue = Type.Object(
  {
    /** The registrant organization as registered. */
    registrant_org: Type.Optional(Name),
    /** The registrant's e-mail address. */
    registrant_email: Type.Optional(Type.String({ minLength: 3, maxLength: 320 })),
    /** Name servers, lower case. */
    name_servers: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 253 }))),
    /** The registrar (or RIR) that holds the record. */
    registrar: Type.Optional(Name),
    /** Registration date, epoch ms. */
    created: Type.Optional(Type.Integer()),
    /** Last change, epoch ms. */
    updated: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

/** A certificate seen on a host (subject = host) or on its own (subject = sha256:HEX). */
export const CertificateValue = Type.Object(
  {
    /** SHA-256 of the DER encoding, lower-case hex. */
    sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    /** Subject O= (the organization the CA vouched for, OV/EV certificates). */
    subject_o: Type.Optional(Name),
    /** Subject CN=. */
    subject_cn: Type.Optional(Name),
    /** DNS names of the subject alternative name extension, lower case. */
    sans: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { maxItems: 10_000 }),
    /** Issuer organization or CN. */
    issuer: Type.Optional(Name),
    /** Validity start, epoch ms. */
    not_before: Type.Optional(Type.Integer()),
    /** Validity end, epoch ms. */
    not_after: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

/** One DNS record of the subject name (or, for PTR, of the subject IP). */
export const DnsValue = Type.Object(
  {
    /** Record type. */
    type: Type.Union([
      Type.Literal('A'),
      Type.Literal('AAAA'),
      Type.Literal('CNAME'),
      Type.Literal('PTR'),
      Type.Literal('NS'),
      Type.Literal('MX'),
    ]),
    /** Record data: an IP for A/AAAA, a host name for the others. */
    data: Type.String({ minLength: 1, maxLength: 253 }),
  },
  { additionalProperties: false },
);

/** An ASN/prefix-to-organization table row (subject = the prefix, CIDR). */
export const PrefixValue = Type.Object(
  {
    /** The origin AS number. */
    asn: Type.Integer({ minimum: 0, maximum: 4_294_967_295 }),
    /** The AS holder's name. */
    org: Type.Optional(Name),
  },
  { additionalProperties: false },
);

const common = {
  /** Asset the fact is about: a domain or host name, an IP, a CIDR, or sha256:HEX. */
  subject: Type.String({ minLength: 1, maxLength: 253 }),
  /** Where the fact came from (a feed, a tool, a file). */
  source: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  /** When it was observed, epoch ms; default: the time of import. */
  seen_at: Type.Optional(Type.Integer({ minimum: 0 })),
};

/** One typed fact as JSON Lines and the API carry it. */
export const FactInput = Type.Union([
  Type.Object(
    { kind: Type.Literal('registration'), value: RegistrationValue, ...common },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('certificate'), value: CertificateValue, ...common },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('dns'), value: DnsValue, ...common },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('prefix'), value: PrefixValue, ...common },
    { additionalProperties: false },
  ),
]);
/** A fact as given. */
export type FactInput = Static<typeof FactInput>;

/** Registration facts' value. */
export type RegistrationFacts = Static<typeof RegistrationValue>;
/** Certificate facts' value. */
export type CertificateFacts = Static<typeof CertificateValue>;
/** DNS facts' value. */
export type DnsFacts = Static<typeof DnsValue>;
/** Prefix facts' value. */
export type PrefixFacts = Static<typeof PrefixValue>;

/** A validated, normalised fact (subject and names lower case, source and time set). */
export type Fact =
  | {
      kind: 'registration';
      subject: string;
      value: RegistrationFacts;
      source: string;
      seenAt: number;
    }
  | {
      kind: 'certificate';
      subject: string;
      value: CertificateFacts;
      source: string;
      seenAt: number;
    }
  | { kind: 'dns'; subject: string; value: DnsFacts; source: string; seenAt: number }
  | { kind: 'prefix'; subject: string; value: PrefixFacts; source: string; seenAt: number };

/** A record that could not be read: where, and why. */
export interface FactProblem {
  /** 1-based line (JSON Lines, WHOIS, PEM) or index + 1 (arrays), 0 when the file as a whole. */
  readonly line: number;
  readonly message: string;
}

/** What a parser found. */
export interface ParsedFacts {
  readonly facts: Fact[];
  readonly problems: FactProblem[];
}

/** Import formats. */
export const FACT_FORMATS = ['jsonl', 'json', 'rdap', 'whois', 'pem', 'der'] as const;
/** One of FACT_FORMATS. */
export type FactFormat = (typeof FACT_FORMATS)[number];

const checkFact = Compile(FactInput);

const HOST_RE =
  /^(?=.{1,253}$)(\*\.)?([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.?$/;

/** A host name, lower case without a trailing dot, or undefined if it is not one. */
export function normaliseHost(raw: string): string | undefined {
  const host = raw.trim().toLowerCase().replace(/\.$/, '');
  return HOST_RE.test(host) && !/^[\d.]+$/.test(host) ? host : undefined;
}

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** An IP in canonical text form, or undefined. */
export function normaliseIp(raw: string): string | undefined {
  const text = raw.trim();
  // The common case without ipaddr.js, whose failed parses build exceptions (slow in bulk).
  if (IPV4_RE.test(text)) return text;
  if (!text.includes(':') || !ipaddr.IPv6.isValid(text)) return undefined;
  const ip = ipaddr.IPv6.parse(text);
  return ip.isIPv4MappedAddress() ? ip.toIPv4Address().toString() : ip.toString();
}

/** A CIDR in canonical form (network address / length), or undefined. */
export function normaliseCidr(raw: string): string | undefined {
  const text = raw.trim();
  const slash = text.indexOf('/');
  if (slash > 0 && IPV4_RE.test(text.slice(0, slash))) {
    const bitsText = text.slice(slash + 1);
    const bits = Number(bitsText);
    if (!/^\d{1,2}$/.test(bitsText) || bits > 32) return undefined;
    const parts = text.slice(0, slash).split('.').map(Number);
    const ip = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
    const net = bits === 0 ? 0 : (ip & (~0 << (32 - bits))) >>> 0;
    return `${String(net >>> 24)}.${String((net >>> 16) & 255)}.${String((net >>> 8) & 255)}.${String(net & 255)}/${String(bits)}`;
  }
  if (!text.includes(':')) return undefined;
  try {
    const [ip, bits] = ipaddr.parseCIDR(raw.trim());
    const network = ipaddr.IPv4.isIPv4(ip.toString())
      ? ipaddr.IPv4.networkAddressFromCIDR(`${ip.toString()}/${String(bits)}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${ip.toString()}/${String(bits)}`);
    return `${network.toString()}/${String(bits)}`;
  } catch {
    return undefined;
  }
}

const SHA_SUBJECT = /^sha256:[0-9a-f]{64}$/;

/** Validates one fact (already JSON) and normalises it; a string is the problem. */
export function toFact(input: unknown, now: number, defaultSource: string): Fact | string {
  if (!checkFact.Check(input)) {
    const first = checkFact.Errors(input)[0];
    const path = first?.instancePath.replace(/^\//, '').replace(/\//g, '.') ?? '';
    const kind = (input as { kind?: unknown } | null)?.kind;
    if (typeof kind !== 'string' || !(FACT_KINDS as readonly string[]).includes(kind)) {
      return `"kind" must be one of ${FACT_KINDS.join(', ')}`;
    }
    return `${path === '' ? '' : `${path}: `}${first?.message ?? 'does not match the fact schema'}`;
  }
  const source = input.source ?? defaultSource;
  const seenAt = input.seen_at ?? now;
  switch (input.kind) {
    case 'prefix': {
      const subject = normaliseCidr(input.subject);
      if (subject === undefined) return `subject: a prefix fact's subject must be a CIDR`;
      return { kind: 'prefix', subject, value: input.value, source, seenAt };
    }
    case 'registration': {
      const subject = normaliseHost(input.subject) ?? normaliseCidr(input.subject);
      if (subject === undefined) return 'subject: must be a domain name or a CIDR';
      const v = input.value;
      const value: RegistrationFacts = { ...v };
      if (v.registrant_email !== undefined) {
        const email = v.registrant_email.trim().toLowerCase();
        const at = email.lastIndexOf('@');
        if (at < 1 || normaliseHost(email.slice(at + 1)) === undefined)
          return 'value.registrant_email: not an e-mail address';
        value.registrant_email = email;
      }
      if (v.name_servers !== undefined) {
        const servers: string[] = [];
        for (const ns of v.name_servers) {
          const host = normaliseHost(ns);
          if (host === undefined)
            return `value.name_servers: ${JSON.stringify(ns)} is not a host name`;
          servers.push(host);
        }
        value.name_servers = [...new Set(servers)].sort();
      }
      return { kind: 'registration', subject, value, source, seenAt };
    }
    case 'certificate': {
      const raw = input.subject.trim().toLowerCase();
      const subject = SHA_SUBJECT.test(raw) ? raw : (normaliseHost(raw) ?? normaliseIp(raw));
      if (subject === undefined) return 'subject: must be a host name, an IP or sha256:HEX';
      const sans: string[] = [];
      for (const san of input.value.sans) {
        const host = normaliseHost(san) ?? normaliseIp(san);
        if (host === undefined) return `value.sans: ${JSON.stringify(san)} is not a DNS name`;
        sans.push(host);
      }
      const value = { ...input.value, sans: [...new Set(sans)].sort() };
      return { kind: 'certificate', subject, value, source, seenAt };
    }
    case 'dns': {
      const { type, data } = input.value;
      const subject = type === 'PTR' ? normaliseIp(input.subject) : normaliseHost(input.subject);
      if (subject === undefined)
        return `subject: must be ${type === 'PTR' ? 'an IP (PTR records)' : 'a host name'}`;
      let target: string | undefined;
      if (type === 'A') {
        target = normaliseIp(data);
        if (target?.includes(':') !== false) return 'value.data: an A record holds an IPv4 address';
      } else if (type === 'AAAA') {
        target = normaliseIp(data);
        if (target?.includes(':') !== true)
          return 'value.data: an AAAA record holds an IPv6 address';
      } else {
        target = normaliseHost(data.replace(/^\d+\s+/, ''));
        if (target === undefined) return `value.data: a ${type} record holds a host name`;
      }
      return { kind: 'dns', subject, value: { type, data: target }, source, seenAt };
    }
  }
}

/** JSON with object keys sorted, so equal values give equal text (the content key). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The identity of a fact: kind, subject, source and value, not when it was seen. Importing the
 * same fact again therefore only moves its last_seen.
 */
export function contentKey(fact: Fact): string {
  return createHash('sha256')
    .update(
      `${fact.kind}\u0000${fact.subject}\u0000${fact.source}\u0000${canonicalJson(fact.value)}`,
    )
    .digest('base64url');
}

/** Parses JSON Lines of typed facts; blank lines are skipped. */
export function parseJsonLines(text: string, now: number, source = 'import'): ParsedFacts {
  const facts: Fact[] = [];
  const problems: FactProblem[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      problems.push({ line: i + 1, message: `not JSON: ${(error as Error).message}` });
      continue;
    }
    const fact = toFact(json, now, source);
    if (typeof fact === 'string') problems.push({ line: i + 1, message: fact });
    else facts.push(fact);
  }
  return { facts, problems };
}

/** Parses a JSON array of typed facts; a problem's "line" is the element's index + 1. */
export function parseFactArray(
  items: readonly unknown[],
  now: number,
  source = 'import',
): ParsedFacts {
  const facts: Fact[] = [];
  const problems: FactProblem[] = [];
  items.forEach((item, i) => {
    const fact = toFact(item, now, source);
    if (typeof fact === 'string') problems.push({ line: i + 1, message: `[${String(i)}] ${fact}` });
    else facts.push(fact);
  });
  return { facts, problems };
}

type VcardProperty = [string, unknown, string, unknown];

interface RdapEntity {
  roles?: unknown;
  vcardArray?: unknown;
  entities?: unknown;
}

/** The first value of a vCard property (fn, org, email) of an RDAP entity. */
function vcardValue(entity: RdapEntity, name: string): string | undefined {
  const card = entity.vcardArray;
  if (!Array.isArray(card) || !Array.isArray(card[1])) return undefined;
  for (const property of card[1] as unknown[]) {
    if (!Array.isArray(property)) continue;
    const [key, , , value] = property as VcardProperty;
    if (key !== name) continue;
    const text = Array.isArray(value)
      ? value.filter((v) => typeof v === 'string').join(' ')
      : value;
    if (typeof text === 'string' && text.trim() !== '') return text.trim();
  }
  return undefined;
}

function entitiesWithRole(entities: unknown, role: string): RdapEntity[] {
  if (!Array.isArray(entities)) return [];
  const found: RdapEntity[] = [];
  for (const e of entities as (RdapEntity | null)[]) {
    if (e === null || typeof e !== 'object') continue;
    if (Array.isArray(e.roles) && e.roles.includes(role)) found.push(e);
    found.push(...entitiesWithRole(e.entities, role));
  }
  return found;
}

function rdapDate(events: unknown, action: string): number | undefined {
  if (!Array.isArray(events)) return undefined;
  for (const event of events as ({ eventAction?: unknown; eventDate?: unknown } | null)[]) {
    if (event?.eventAction === action && typeof event.eventDate === 'string') {
      const ms = Date.parse(event.eventDate);
      if (!Number.isNaN(ms)) return ms;
    }
  }
  return undefined;
}

/** One RDAP domain or ip network object as a registration fact; a string is the problem. */
export function rdapToFact(object: unknown, now: number, source = 'rdap'): Fact | string {
  if (object === null || typeof object !== 'object') return 'an RDAP answer is a JSON object';
  const o = object as Record<string, unknown>;
  let subject: string | undefined;
  if (o.objectClassName === 'domain') {
    subject = typeof o.ldhName === 'string' ? normaliseHost(o.ldhName) : undefined;
    if (subject === undefined) return 'RDAP domain without a valid ldhName';
  } else if (o.objectClassName === 'ip network') {
    const cidrs = o.cidr0_cidrs;
    const first = Array.isArray(cidrs)
      ? (cidrs[0] as Record<string, unknown> | undefined)
      : undefined;
    const prefix = first?.v4prefix ?? first?.v6prefix;
    if (typeof prefix === 'string' && typeof first?.length === 'number') {
      subject = normaliseCidr(`${prefix}/${String(first.length)}`);
    } else if (typeof o.startAddress === 'string' && typeof o.endAddress === 'string') {
      subject = rangeToCidr(o.startAddress, o.endAddress);
    }
    if (subject === undefined)
      return 'RDAP ip network without a CIDR or an address range that is one';
  } else {
    return `unsupported RDAP objectClassName ${JSON.stringify(o.objectClassName)} (domain or ip network)`;
  }
  const value: RegistrationFacts = {};
  const registrant = entitiesWithRole(o.entities, 'registrant')[0];
  if (registrant !== undefined) {
    const org = vcardValue(registrant, 'org') ?? vcardValue(registrant, 'fn');
    if (org !== undefined) value.registrant_org = org;
    const email = vcardValue(registrant, 'email');
    if (email !== undefined) value.registrant_email = email;
  } else if (typeof o.name === 'string' && o.objectClassName === 'ip network') {
    value.registrant_org = o.name;
  }
  const registrar = entitiesWithRole(o.entities, 'registrar')[0];
  const registrarName = registrar === undefined ? undefined : vcardValue(registrar, 'fn');
  if (registrarName !== undefined) value.registrar = registrarName;
  if (Array.isArray(o.nameservers)) {
    value.name_servers = (o.nameservers as ({ ldhName?: unknown } | null)[])
      .map((ns) => ns?.ldhName)
      .filter((n): n is string => typeof n === 'string');
  }
  const created = rdapDate(o.events, 'registration');
  if (created !== undefined) value.created = created;
  const updated = rdapDate(o.events, 'last changed');
  if (updated !== undefined) value.updated = updated;
  return toFact({ kind: 'registration', subject, value }, now, source);
}

/** A start-end address range as a CIDR, if it is exactly one. */
function rangeToCidr(start: string, end: string): string | undefined {
  try {
    const a = ipaddr.parse(start).toByteArray();
    const b = ipaddr.parse(end).toByteArray();
    if (a.length !== b.length) return undefined;
    let bits = 0;
    for (let i = 0; i < a.length; i++) {
      const diff = a[i]! ^ b[i]!;
      if (diff === 0) {
        bits += 8;
        continue;
      }
      const hostBits = 32 - Math.clz32(diff);
      if (diff !== (1 << hostBits) - 1) return undefined;
      bits += 8 - hostBits;
      for (let j = i + 1; j < a.length; j++) if (a[j] !== 0 || b[j] !== 255) return undefined;
      break;
    }
    return normaliseCidr(`${start}/${String(bits)}`);
  } catch {
    return undefined;
  }
}

/** Parses RDAP JSON: one object, or an array of them. */
export function parseRdap(text: string, now: number): ParsedFacts {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { facts: [], problems: [{ line: 0, message: `not JSON: ${(error as Error).message}` }] };
  }
  const items = Array.isArray(json) ? json : [json];
  const facts: Fact[] = [];
  const problems: FactProblem[] = [];
  items.forEach((item, i) => {
    const fact = rdapToFact(item, now);
    if (typeof fact === 'string') problems.push({ line: i + 1, message: fact });
    else facts.push(fact);
  });
  return { facts, problems };
}

const WHOIS_KEYS: Record<
  string,
  'domain' | 'network' | 'org' | 'email' | 'ns' | 'registrar' | 'created' | 'updated'
> = {
  'domain name': 'domain',
  domain: 'domain',
  cidr: 'network',
  inetnum: 'network',
  inet6num: 'network',
  netrange: 'network',
  'registrant organization': 'org',
  'registrant organisation': 'org',
  'registrant org': 'org',
  orgname: 'org',
  'org-name': 'org',
  'registrant email': 'email',
  'registrant e-mail': 'email',
  'name server': 'ns',
  nserver: 'ns',
  registrar: 'registrar',
  'creation date': 'created',
  created: 'created',
  regdate: 'created',
  'updated date': 'updated',
  'last-modified': 'updated',
  updated: 'updated',
};

/**
 * Parses WHOIS text: "Key: value" lines, one record per file or per blank-line-separated block
 * that names a domain or network. Values that cannot be read are problems on their line.
 */
export function parseWhois(text: string, now: number): ParsedFacts {
  const facts: Fact[] = [];
  const problems: FactProblem[] = [];
  const lines = text.split('\n');
  let record: {
    start: number;
    subject?: string;
    value: RegistrationFacts;
    lines: Record<string, number>;
  } = {
    start: 1,
    value: {},
    lines: {},
  };
  const flush = (): void => {
    const hasData = record.subject !== undefined || Object.keys(record.value).length > 0;
    if (hasData) {
      if (record.subject === undefined) {
        problems.push({
          line: record.start,
          message: 'WHOIS record without a Domain Name or network (CIDR, inetnum, NetRange)',
        });
      } else {
        const fact = toFact(
          { kind: 'registration', subject: record.subject, value: record.value },
          now,
          'whois',
        );
        if (typeof fact === 'string') {
          const field = /^value\.(\w+)/.exec(fact)?.[1];
          problems.push({
            line: (field === undefined ? undefined : record.lines[field]) ?? record.start,
            message: fact,
          });
        } else facts.push(fact);
      }
    }
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed.startsWith('%') || trimmed.startsWith('#') || trimmed.startsWith('>>>')) continue;
    if (trimmed === '') {
      if (record.subject !== undefined) {
        flush();
        record = { start: i + 2, value: {}, lines: {} };
      }
      continue;
    }
    const colon = trimmed.indexOf(':');
    if (colon <= 0) continue;
    const key = WHOIS_KEYS[trimmed.slice(0, colon).trim().toLowerCase()];
    const raw = trimmed.slice(colon + 1).trim();
    if (key === undefined || raw === '') continue;
    const at = i + 1;
    switch (key) {
      case 'domain': {
        const host = normaliseHost(raw);
        if (host === undefined)
          problems.push({ line: at, message: `${JSON.stringify(raw)} is not a domain name` });
        else record.subject = host;
        break;
      }
      case 'network': {
        const range = /^(\S+)\s*-\s*(\S+)$/.exec(raw);
        const cidr = range
          ? rangeToCidr(range[1]!, range[2]!)
          : normaliseCidr(raw.split(',')[0] ?? '');
        if (cidr === undefined)
          problems.push({
            line: at,
            message: `${JSON.stringify(raw)} is not a CIDR or a range that is one`,
          });
        else record.subject ??= cidr;
        break;
      }
      case 'org':
        record.value.registrant_org ??= raw;
        break;
      case 'email':
        record.value.registrant_email ??= raw;
        record.lines.registrant_email = at;
        break;
      case 'ns':
        (record.value.name_servers ??= []).push(raw.split(/\s+/)[0]!);
        if (record.lines.name_servers === undefined) record.lines.name_servers = at;
        break;
      case 'registrar':
        record.value.registrar ??= raw;
        break;
      case 'created':
      case 'updated': {
        const ms = Date.parse(raw);
        if (Number.isNaN(ms))
          problems.push({ line: at, message: `${JSON.stringify(raw)} is not a date` });
        else record.value[key] ??= ms;
        break;
      }
    }
  }
  flush();
  if (facts.length === 0 && problems.length === 0) {
    problems.push({
      line: 1,
      message: 'no WHOIS record found (no Domain Name, CIDR, inetnum or NetRange line)',
    });
  }
  return { facts, problems };
}

/** A certificate as a fact (subject sha256:HEX). */
export function certificateToFact(
  cert: X509Certificate,
  now: number,
  source: string,
): Fact | string {
  const der = cert.raw;
  const sha = createHash('sha256').update(der).digest('hex');
  const subject = parseDn(cert.subject);
  const issuer = parseDn(cert.issuer);
  const sans = (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4));
  const value: CertificateFacts = { sha256: sha, sans };
  const o = subject.O;
  if (o !== undefined) value.subject_o = o;
  const cn = subject.CN;
  if (cn !== undefined) value.subject_cn = cn;
  const issuerName = issuer.O ?? issuer.CN;
  if (issuerName !== undefined) value.issuer = issuerName;
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  if (!Number.isNaN(notBefore)) value.not_before = notBefore;
  if (!Number.isNaN(notAfter)) value.not_after = notAfter;
  return toFact(
    { kind: 'certificate', subject: `sha256:${sha}`, value, seen_at: now },
    now,
    source,
  );
}

/** A distinguished name as Node prints it ("C=US\nO=Example\nCN=x") as a map. */
function parseDn(dn: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of dn.split('\n')) {
    const eq = line.indexOf('=');
    // Node escapes separators inside values ("Example Corp\\, Inc.").
    if (eq > 0) out[line.slice(0, eq)] ??= line.slice(eq + 1).replace(/\\(.)/g, '$1');
  }
  return out;
}

/** Parses PEM text: every CERTIFICATE block; a bad block is a problem at its BEGIN line. */
export function parsePem(text: string, now: number): ParsedFacts {
  const facts: Fact[] = [];
  const problems: FactProblem[] = [];
  const lines = text.split('\n');
  let begin = -1;
  let body: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '-----BEGIN CERTIFICATE-----') {
      if (begin >= 0)
        problems.push({ line: begin + 1, message: 'certificate block without an END line' });
      begin = i;
      body = [];
    } else if (line === '-----END CERTIFICATE-----') {
      if (begin < 0) {
        problems.push({ line: i + 1, message: 'END line without a BEGIN line' });
        continue;
      }
      const pem = `-----BEGIN CERTIFICATE-----\n${body.join('\n')}\n-----END CERTIFICATE-----\n`;
      try {
        const fact = certificateToFact(new X509Certificate(pem), now, 'pem');
        if (typeof fact === 'string') problems.push({ line: begin + 1, message: fact });
        else facts.push(fact);
      } catch (error) {
        problems.push({
          line: begin + 1,
          message: `not a readable certificate: ${(error as Error).message}`,
        });
      }
      begin = -1;
    } else if (begin >= 0) {
      body.push(line);
    }
  }
  if (begin >= 0)
    problems.push({ line: begin + 1, message: 'certificate block without an END line' });
  if (facts.length === 0 && problems.length === 0) {
    problems.push({ line: 1, message: 'no certificate (-----BEGIN CERTIFICATE-----) found' });
  }
  return { facts, problems };
}

/** Parses one DER-encoded certificate. */
export function parseDer(bytes: Buffer, now: number): ParsedFacts {
  try {
    const fact = certificateToFact(new X509Certificate(bytes), now, 'der');
    return typeof fact === 'string'
      ? { facts: [], problems: [{ line: 0, message: fact }] }
      : { facts: [fact], problems: [] };
  } catch (error) {
    return {
      facts: [],
      problems: [{ line: 0, message: `not a DER certificate: ${(error as Error).message}` }],
    };
  }
}

/** Guesses the format of a file from its first bytes. */
export function detectFormat(bytes: Buffer): FactFormat {
  const head = bytes.subarray(0, 4096).toString('utf8').trimStart();
  if (bytes[0] === 0x30 && bytes.length > 1 && (bytes[1]! & 0x80) !== 0) return 'der';
  if (head.startsWith('-----BEGIN')) return 'pem';
  if (head.startsWith('[')) return /"objectClassName"/.test(head) ? 'rdap' : 'json';
  if (head.startsWith('{')) {
    const firstLine = head.split('\n', 1)[0] ?? '';
    if (/"objectClassName"/.test(head) && !/^\{.*"kind"\s*:/.test(firstLine)) return 'rdap';
    return 'jsonl';
  }
  return 'whois';
}

/** Parses a file's bytes in the given (or detected) format. */
export function parseFacts(
  bytes: Buffer,
  format: FactFormat | 'auto',
  now: number,
): ParsedFacts & { format: FactFormat } {
  const chosen = format === 'auto' ? detectFormat(bytes) : format;
  const text = (): string => bytes.toString('utf8');
  switch (chosen) {
    case 'jsonl':
      return { format: chosen, ...parseJsonLines(text(), now) };
    case 'json': {
      let json: unknown;
      try {
        json = JSON.parse(text());
      } catch (error) {
        return {
          format: chosen,
          facts: [],
          problems: [{ line: 0, message: `not JSON: ${(error as Error).message}` }],
        };
      }
      if (!Array.isArray(json))
        return {
          format: chosen,
          facts: [],
          problems: [{ line: 0, message: 'a JSON fact file is an array of facts' }],
        };
      return { format: chosen, ...parseFactArray(json, now) };
    }
    case 'rdap':
      return { format: chosen, ...parseRdap(text(), now) };
    case 'whois':
      return { format: chosen, ...parseWhois(text(), now) };
    case 'pem':
      return { format: chosen, ...parsePem(text(), now) };
    case 'der':
      return { format: chosen, ...parseDer(bytes, now) };
  }
}

/** One paragraph listing the first problems, for the CLI and the API. */
export function describeProblems(problems: readonly FactProblem[], limit = 5): string {
  const shown = problems
    .slice(0, limit)
    .map((p) => (p.line > 0 ? `line ${String(p.line)}: ${p.message}` : p.message))
    .join('; ');
  const more = problems.length > limit ? `; and ${String(problems.length - limit)} more` : '';
  return `${String(problems.length)} malformed record${problems.length === 1 ? '' : 's'}: ${shown}${more}`;
}
