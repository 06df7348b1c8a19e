/**
 * Exposure policies as data: which service findings are issues, how urgent they are and what
 * to do about them. The bundled set lives in data/policies.json; operators add or override
 * policies with their own files. Loading validates everything up front, so a typo in a regular
 * expression or a field name stops start-up with one message instead of silently never firing.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { StartupError } from '#src/startup-error.js';
import type { ServiceFinding, TlsCertificate } from '#src/discovery/discovery.model.js';

/** Priorities, most severe first. */
export const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
/** One of PRIORITIES. */
export type Priority = (typeof PRIORITIES)[number];

/** Rank of a priority for sorting by severity: critical 4 ... low 1. */
export function priorityRank(priority: Priority): number {
  return PRIORITIES.length - PRIORITIES.indexOf(priority);
}

/** A version interval; every bound given must hold. Versions compare by compareVersions. */
export interface VersionRange {
  readonly gte?: string;
  readonly gt?: string;
  readonly lt?: string;
  readonly lte?: string;
}

/** TLS conditions; every one given must hold. */
export interface TlsConditions {
  /** The leaf certificate's validity ended before `now`. */
  readonly expired?: boolean;
  /** The leaf certificate is self-signed. */
  readonly self_signed?: boolean;
  /** RSA key under 2048 bits or EC key under 256 bits. */
  readonly weak_key?: boolean;
  /** SSLv2, SSLv3, TLSv1 or TLSv1.1 was negotiated. */
  readonly insecure_protocol?: boolean;
  /** Not expired yet, but expires within this many days. */
  readonly expires_within_days?: number;
}

/** HTTP conditions (regular expressions, case-insensitive). */
export interface HttpConditions {
  readonly server?: RegExp;
  readonly title?: RegExp;
}

/**
 * One set of conditions; a finding matches when every condition given holds. Regular
 * expressions are case-insensitive; a named group `version` in one of them supplies the
 * version when the finding has none (a Server header "Apache/2.4.12", an SSH banner).
 */
export interface MatchConditions {
  readonly service?: RegExp;
  readonly product?: RegExp;
  readonly port?: readonly number[];
  /** Any of the ranges. */
  readonly version?: readonly VersionRange[];
  /** Exact (case-insensitive) values of finding.extra. */
  readonly extra?: Readonly<Record<string, string>>;
  readonly banner?: RegExp;
  readonly http?: HttpConditions;
  readonly tls?: TlsConditions;
}

/** A validated policy. */
export interface Policy {
  /** Stable id, e.g. "telnet-server"; issues refer to it. */
  readonly id: string;
  /** Display name, e.g. "Telnet Server"; issue titles start with it. */
  readonly name: string;
  readonly priority: Priority;
  /** Alternatives: the policy fires when any of them matches. */
  readonly match: readonly MatchConditions[];
  /** When any of these matches, the policy does not fire (e.g. Redis with auth vs. without). */
  readonly unless: readonly MatchConditions[];
  /** Put the version in the title: "Apache Web Server (2.4.12) at ...". */
  readonly titleVersion: boolean;
  /** What to do about it. */
  readonly remediation: string;
  readonly references: readonly string[];
}

/** A policy that fired on a finding. */
export interface PolicyMatch {
  readonly policyId: string;
  readonly name: string;
  readonly priority: Priority;
  /** "<name> at <ip>:<port>", or "<name> (<version>) at <ip>:<port>". */
  readonly title: string;
  /** The finding's values that made the conditions hold, by field ("http.server", "tls.protocol"). */
  readonly evidence: Readonly<Record<string, string | number | boolean>>;
}

/**
 * A policy file is invalid; the message names the file, the policy and the problem. A start-up
 * error: a process given a bad policy file stops (the CLI exits 2) before it stores anything.
 */
export class PolicyError extends StartupError {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

/** The bundled policy file (data/policies.json at the package root). */
export const BUNDLED_POLICIES = fileURLToPath(
  new URL('../../../data/policies.json', import.meta.url),
);

/** Reads and validates one policy file. Throws PolicyError. */
export function readPolicyFile(path: string): Policy[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PolicyError(`${path}: cannot read policy file: ${(error as Error).message}`);
  }
  return parsePolicies(text, path);
}

/**
 * Loads the bundled policies and then each extra file. A later file's policy replaces an
 * earlier one with the same id (so an operator can re-prioritise a bundled policy); the same
 * id twice within one file is an error. Throws PolicyError.
 */
export function loadPolicies(extraPaths: readonly string[] = []): Policy[] {
  const byId = new Map<string, Policy>();
  for (const path of [BUNDLED_POLICIES, ...extraPaths]) {
    for (const policy of readPolicyFile(path)) byId.set(policy.id, policy);
  }
  return [...byId.values()];
}

/** Parses and validates the text of one policy file ({"policies": [...]}). */
export function parsePolicies(text: string, file: string): Policy[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new PolicyError(`${file}: not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(doc) || !Array.isArray(doc.policies)) {
    throw new PolicyError(`${file}: expected an object {"policies": [...]}`);
  }
  const unknownTop = Object.keys(doc).filter((k) => k !== 'policies' && k !== '$comment');
  if (unknownTop.length > 0) {
    throw new PolicyError(`${file}: unknown field "${unknownTop[0]!}" at the top level`);
  }
  const seen = new Map<string, number>();
  return doc.policies.map((raw: unknown, index) => {
    const label = isObject(raw) && typeof raw.id === 'string' ? `"${raw.id}"` : `#${index}`;
    const fail = (problem: string): never => {
      throw new PolicyError(`${file}: policy ${label}: ${problem}`);
    };
    const policy = parsePolicy(raw, fail);
    const first = seen.get(policy.id);
    if (first !== undefined) {
      fail(
        `the id is used twice in this file (policies[${String(first)}] and policies[${String(index)}])`,
      );
    }
    seen.set(policy.id, index);
    return policy;
  });
}

/** Match conditions as a policy file writes them (regular expressions as their source). */
export type ConditionsDoc = Record<string, unknown>;

/** One set of conditions in file form: what the API and CLI show a policy matches. */
export function conditionsDoc(conditions: MatchConditions): ConditionsDoc {
  const doc: ConditionsDoc = {};
  for (const [key, value] of Object.entries(conditions) as [string, unknown][]) {
    if (value instanceof RegExp) doc[key] = value.source;
    else if (key === 'http' && isObject(value)) {
      doc[key] = Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, v instanceof RegExp ? v.source : v]),
      );
    } else doc[key] = value;
  }
  return doc;
}

type Fail = (problem: string) => never;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkFields(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  where: string,
  fail: Fail,
): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) fail(`unknown field "${key}" in ${where}`);
  }
}

function nonEmptyString(value: unknown, where: string, fail: Fail): string {
  if (typeof value !== 'string' || value.trim() === '') fail(`${where} must be a non-empty string`);
  return value;
}

function parsePolicy(raw: unknown, fail: Fail): Policy {
  if (!isObject(raw)) return fail('must be an object');
  checkFields(
    raw,
    [
      'id',
      'name',
      'priority',
      'match',
      'unless',
      'titleVersion',
      'remediation',
      'references',
      '$comment',
    ],
    'the policy',
    fail,
  );
  const id = nonEmptyString(raw.id, 'id', fail);
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(id))
    fail('id must be lower-case letters, digits, ".", "_" or "-"');
  const name = nonEmptyString(raw.name, 'name', fail);
  if (!PRIORITIES.includes(raw.priority as Priority)) {
    fail(`priority must be one of ${PRIORITIES.join(', ')}, not ${JSON.stringify(raw.priority)}`);
  }
  const remediation = nonEmptyString(raw.remediation, 'remediation', fail);
  const match = parseAlternatives(raw.match, 'match', fail);
  if (match.length === 0) fail('match must not be empty');
  const unless = raw.unless === undefined ? [] : parseAlternatives(raw.unless, 'unless', fail);
  if (raw.titleVersion !== undefined && typeof raw.titleVersion !== 'boolean') {
    fail('titleVersion must be true or false');
  }
  let references: string[] = [];
  if (raw.references !== undefined) {
    if (!Array.isArray(raw.references) || raw.references.some((r) => typeof r !== 'string')) {
      fail('references must be an array of strings');
    }
    references = raw.references as string[];
  }
  return {
    id,
    name,
    priority: raw.priority as Priority,
    match,
    unless,
    titleVersion: raw.titleVersion === true,
    remediation,
    references,
  };
}

function parseAlternatives(raw: unknown, where: string, fail: Fail): MatchConditions[] {
  if (Array.isArray(raw))
    return raw.map((m, i) => parseConditions(m, `${where}[${String(i)}]`, fail));
  return [parseConditions(raw, where, fail)];
}

function parseRegex(value: unknown, where: string, fail: Fail): RegExp {
  if (typeof value !== 'string' || value === '')
    return fail(`${where} must be a regular expression string`);
  try {
    return new RegExp(value, 'i');
  } catch (error) {
    return fail(`${where} is not a valid regular expression: ${(error as Error).message}`);
  }
}

function parseConditions(raw: unknown, where: string, fail: Fail): MatchConditions {
  if (!isObject(raw)) return fail(`${where} must be an object`);
  checkFields(
    raw,
    ['service', 'product', 'port', 'version', 'extra', 'banner', 'http', 'tls'],
    where,
    fail,
  );
  if (Object.keys(raw).length === 0) fail(`${where} has no conditions (it would match everything)`);
  const out: {
    -readonly [K in keyof MatchConditions]: MatchConditions[K];
  } = {};
  if (raw.service !== undefined) out.service = parseRegex(raw.service, `${where}.service`, fail);
  if (raw.product !== undefined) out.product = parseRegex(raw.product, `${where}.product`, fail);
  if (raw.banner !== undefined) out.banner = parseRegex(raw.banner, `${where}.banner`, fail);
  if (raw.port !== undefined) {
    const ports = raw.port;
    if (
      !Array.isArray(ports) ||
      ports.length === 0 ||
      ports.some((p) => !Number.isInteger(p) || (p as number) < 1 || (p as number) > 65535)
    ) {
      fail(`${where}.port must be a non-empty list of port numbers 1..65535`);
    }
    out.port = ports as number[];
  }
  if (raw.version !== undefined) {
    const ranges = Array.isArray(raw.version) ? raw.version : [raw.version];
    if (ranges.length === 0) fail(`${where}.version must not be empty`);
    out.version = ranges.map((r: unknown, i) =>
      parseRange(r, `${where}.version[${String(i)}]`, fail),
    );
  }
  if (raw.extra !== undefined) {
    const extra = raw.extra;
    if (!isObject(extra) || Object.values(extra).some((v) => typeof v !== 'string')) {
      fail(`${where}.extra must be an object of string values`);
    }
    out.extra = extra as Record<string, string>;
  }
  if (raw.http !== undefined) {
    const http = raw.http;
    if (!isObject(http)) return fail(`${where}.http must be an object`);
    checkFields(http, ['server', 'title'], `${where}.http`, fail);
    const conditions: { server?: RegExp; title?: RegExp } = {};
    if (http.server !== undefined)
      conditions.server = parseRegex(http.server, `${where}.http.server`, fail);
    if (http.title !== undefined)
      conditions.title = parseRegex(http.title, `${where}.http.title`, fail);
    if (Object.keys(conditions).length === 0) fail(`${where}.http has no conditions`);
    out.http = conditions;
  }
  if (raw.tls !== undefined) {
    const tls = raw.tls;
    if (!isObject(tls)) return fail(`${where}.tls must be an object`);
    const flags = ['expired', 'self_signed', 'weak_key', 'insecure_protocol'] as const;
    checkFields(tls, [...flags, 'expires_within_days'], `${where}.tls`, fail);
    const conditions: { -readonly [K in keyof TlsConditions]: TlsConditions[K] } = {};
    for (const flag of flags) {
      if (tls[flag] === undefined) continue;
      if (tls[flag] !== true) fail(`${where}.tls.${flag} must be true (omit it otherwise)`);
      conditions[flag] = true;
    }
    if (tls.expires_within_days !== undefined) {
      const days = tls.expires_within_days;
      if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 3650) {
        fail(`${where}.tls.expires_within_days must be an integer 1..3650`);
      }
      conditions.expires_within_days = days;
    }
    if (Object.keys(conditions).length === 0) fail(`${where}.tls has no conditions`);
    out.tls = conditions;
  }
  return out;
}

function parseRange(raw: unknown, where: string, fail: Fail): VersionRange {
  if (!isObject(raw)) return fail(`${where} must be an object like {"lt": "2.4.58"}`);
  checkFields(raw, ['gte', 'gt', 'lt', 'lte'], where, fail);
  const out: { -readonly [K in keyof VersionRange]: VersionRange[K] } = {};
  for (const bound of ['gte', 'gt', 'lt', 'lte'] as const) {
    const value = raw[bound];
    if (value === undefined) continue;
    if (typeof value !== 'string' || versionParts(value) === undefined) {
      fail(`${where}.${bound} must be a version string such as "2.4.58"`);
    }
    out[bound] = value;
  }
  if (Object.keys(out).length === 0) fail(`${where} has no bounds`);
  return out;
}

// Suffixes that mark a pre-release: 1.0rc1 < 1.0, whereas 9.2p1 (a patch level) > 9.2.
const PRE_RELEASE = /^(?:alpha|a|beta|b|rc|pre|dev|m)$/i;

/** The numeric and alphabetic runs of a version ("9.2p1" → [9, 2, "p", 1]); undefined without digits. */
function versionParts(version: string): (number | string)[] | undefined {
  const runs = version.trim().match(/\d+|[a-z]+/gi);
  if (runs === null || !/^\d/.test(version.trim())) return undefined;
  return runs.map((r) => (/^\d/.test(r) ? Number(r) : r.toLowerCase()));
}

/**
 * Compares dotted versions: numbers numerically ("2.4.12" > "2.4.9"), a missing part as less
 * ("1.22" < "1.22.1"), a patch suffix above its base ("9.2p1" > "9.2") and a pre-release below
 * it ("10.1.0-rc1" < "10.1.0"). Returns <0, 0 or >0; undefined when either is not a version.
 */
export function compareVersions(a: string, b: string): number | undefined {
  const x = versionParts(a);
  const y = versionParts(b);
  if (x === undefined || y === undefined) return undefined;
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (p === q) continue;
    if (p === undefined) return typeof q === 'string' && PRE_RELEASE.test(q) ? 1 : -1;
    if (q === undefined) return typeof p === 'string' && PRE_RELEASE.test(p) ? -1 : 1;
    if (typeof p === 'number' && typeof q === 'number') return p - q;
    if (typeof p === 'string' && typeof q === 'string') return p < q ? -1 : 1;
    // A number after the common prefix outranks a letter suffix: 9.2.1 > 9.2p1.
    return typeof p === 'number' ? 1 : -1;
  }
  return 0;
}

/** True when `version` lies in the range. */
export function inRange(version: string, range: VersionRange): boolean {
  const check = (bound: string | undefined, ok: (c: number) => boolean): boolean => {
    if (bound === undefined) return true;
    const c = compareVersions(version, bound);
    return c !== undefined && ok(c);
  };
  return (
    check(range.gte, (c) => c >= 0) &&
    check(range.gt, (c) => c > 0) &&
    check(range.lt, (c) => c < 0) &&
    check(range.lte, (c) => c <= 0)
  );
}

const DAY_MS = 86_400_000;
const INSECURE_PROTOCOLS = new Set(['sslv2', 'sslv3', 'tlsv1', 'tlsv1.0', 'tlsv1.1']);

type Evidence = Record<string, string | number | boolean>;

/** Tests a regex and records the field's value; returns the `version` group if any. */
function testRegex(
  re: RegExp,
  value: string | undefined,
  field: string,
  evidence: Evidence,
): { ok: boolean; version?: string } {
  if (value === undefined) return { ok: false };
  const m = re.exec(value);
  if (m === null) return { ok: false };
  evidence[field] = value.length > 200 ? `${value.slice(0, 200)}…` : value;
  const version = m.groups?.version;
  return version === undefined ? { ok: true } : { ok: true, version };
}

function weakKey(cert: TlsCertificate): boolean {
  if (cert.keyBits === undefined) return false;
  const type = (cert.keyType ?? '').toLowerCase();
  if (type === 'rsa' || type === 'dsa') return cert.keyBits < 2048;
  if (type === 'ec' || type === 'ecdsa') return cert.keyBits < 256;
  return false;
}

function tlsHolds(
  tls: TlsConditions,
  finding: ServiceFinding,
  now: number,
  evidence: Evidence,
): boolean {
  const info = finding.tls;
  if (info === undefined) return false;
  const leaf = info.chain[0];
  if (tls.insecure_protocol === true) {
    const protocol = info.protocol;
    if (protocol === undefined || !INSECURE_PROTOCOLS.has(protocol.toLowerCase())) return false;
    evidence['tls.protocol'] = protocol;
  }
  const needsLeaf =
    tls.expired === true ||
    tls.self_signed === true ||
    tls.weak_key === true ||
    tls.expires_within_days !== undefined;
  if (!needsLeaf) return true;
  if (leaf === undefined) return false;
  const validTo = Date.parse(leaf.validTo);
  if (tls.expired === true) {
    if (!(validTo < now)) return false;
    evidence['tls.validTo'] = leaf.validTo;
  }
  if (tls.expires_within_days !== undefined) {
    if (!(validTo >= now && validTo < now + tls.expires_within_days * DAY_MS)) return false;
    evidence['tls.validTo'] = leaf.validTo;
  }
  if (tls.self_signed === true) {
    if (!leaf.selfSigned) return false;
    evidence['tls.selfSigned'] = true;
    evidence['tls.subject'] = leaf.subject;
  }
  if (tls.weak_key === true) {
    if (!weakKey(leaf)) return false;
    evidence['tls.keyType'] = leaf.keyType ?? '';
    evidence['tls.keyBits'] = leaf.keyBits ?? 0;
  }
  return true;
}

/** Whether one set of conditions holds; fills evidence and returns the version it relied on. */
function conditionsHold(
  c: MatchConditions,
  finding: ServiceFinding,
  now: number,
): { evidence: Evidence; version: string | undefined } | undefined {
  const evidence: Evidence = {};
  let captured: string | undefined;
  const regex = (re: RegExp | undefined, value: string | undefined, field: string): boolean => {
    if (re === undefined) return true;
    const r = testRegex(re, value, field, evidence);
    if (r.version !== undefined) captured ??= r.version;
    return r.ok;
  };
  if (!regex(c.service, finding.service, 'service')) return undefined;
  if (!regex(c.product, finding.product, 'product')) return undefined;
  if (!regex(c.banner, finding.banner, 'banner')) return undefined;
  if (!regex(c.http?.server, finding.http?.server, 'http.server')) return undefined;
  if (!regex(c.http?.title, finding.http?.title, 'http.title')) return undefined;
  if (c.port !== undefined) {
    if (!c.port.includes(finding.port)) return undefined;
    evidence.port = finding.port;
  }
  if (c.extra !== undefined) {
    for (const [key, want] of Object.entries(c.extra)) {
      const have = finding.extra?.[key];
      if (have?.toLowerCase() !== want.toLowerCase()) return undefined;
      evidence[`extra.${key}`] = have;
    }
  }
  // A version the fingerprint captured in the same alternative wins over finding.version:
  // it is the version of the very thing the regex recognised.
  const version = captured ?? finding.version;
  if (c.version !== undefined) {
    if (version === undefined || !c.version.some((r) => inRange(version, r))) return undefined;
    evidence.version = version;
  }
  if (c.tls !== undefined && !tlsHolds(c.tls, finding, now, evidence)) return undefined;
  return { evidence, version };
}

/** Formats an endpoint: IPv6 addresses in brackets. */
function endpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${String(port)}` : `${ip}:${String(port)}`;
}

/** Every policy that fires on the finding, in policy order. `now` is epoch milliseconds. */
export function evaluatePolicies(
  policies: readonly Policy[],
  finding: ServiceFinding,
  now: number,
): PolicyMatch[] {
  const matches: PolicyMatch[] = [];
  for (const policy of policies) {
    let hit: { evidence: Evidence; version: string | undefined } | undefined;
    for (const alternative of policy.match) {
      hit = conditionsHold(alternative, finding, now);
      if (hit !== undefined) break;
    }
    if (hit === undefined) continue;
    if (policy.unless.some((u) => conditionsHold(u, finding, now) !== undefined)) continue;
    const name =
      policy.titleVersion && hit.version !== undefined
        ? `${policy.name} (${hit.version})`
        : policy.name;
    matches.push({
      policyId: policy.id,
      name: policy.name,
      priority: policy.priority,
      title: `${name} at ${endpoint(finding.ip, finding.port)}`,
      evidence: hit.evidence,
    });
  }
  return matches;
}
