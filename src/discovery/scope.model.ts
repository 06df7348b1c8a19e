/**
 * What an organization allows us to scan. A target is in scope when it lies inside one of the
 * organization's CIDR seeds or is a host name under one of its seed domains (and then each
 * address it resolves to is checked too). Exclusions win over inclusions. Private, loopback,
 * link-local and other special ranges are refused unless a seed CIDR inside that very range
 * names them, so "0.0.0.0/0" never opens loopback, while "127.0.0.0/8" does.
 * Every check happens before any packet is sent.
 */
import {
  cidrAddress,
  cidrContains,
  cidrSize,
  cidrWithin,
  formatIp,
  parseCidr,
  parseIp,
  specialRangeOf,
  type Cidr,
  type IpAddress,
} from '#src/discovery/ip.model.js';

/** The seeds of an organization that bear on scanning. */
export interface ScopeSeeds {
  readonly domains: readonly string[];
  readonly cidrs: readonly string[];
  /** CIDRs or addresses never to scan, whatever else includes them. */
  readonly excludes?: readonly string[];
}

/** Why a target was refused. */
export interface Refusal {
  readonly target: string;
  readonly reason: string;
}

/** A target list that is malformed (not an IP, CIDR or host name). */
export class TargetSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetSpecError';
  }
}

/** Targets outside the scope; nothing was sent to any of them. */
export class OutOfScopeError extends Error {
  constructor(readonly refusals: readonly Refusal[]) {
    const first = refusals.slice(0, 5).map((r) => `${r.target} (${r.reason})`);
    const more = refusals.length > 5 ? ` and ${String(refusals.length - 5)} more` : '';
    super(`targets outside the organization's scope: ${first.join('; ')}${more}`);
    this.name = 'OutOfScopeError';
  }
}

/** Host names as RFC 1123 allows them (letters, digits, hyphens; dot-separated labels). */
const HOSTNAME =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Validates a seed list; returns the problems (empty when fine). */
export function seedProblems(seeds: ScopeSeeds): string[] {
  const problems: string[] = [];
  for (const c of [...seeds.cidrs, ...(seeds.excludes ?? [])]) {
    if (parseCidr(c) === undefined) problems.push(`"${c}" is not a CIDR block or an IP address`);
  }
  for (const d of seeds.domains) {
    if (!HOSTNAME.test(d.toLowerCase())) problems.push(`"${d}" is not a domain name`);
  }
  return problems;
}

/** An organization's scan scope, parsed once. */
export class Scope {
  private readonly includes: readonly Cidr[];
  private readonly excludes: readonly Cidr[];
  private readonly domains: readonly string[];

  constructor(seeds: ScopeSeeds) {
    const problems = seedProblems(seeds);
    if (problems.length > 0) throw new TargetSpecError(problems.join('; '));
    this.includes = seeds.cidrs.map((c) => parseCidr(c)!);
    this.excludes = (seeds.excludes ?? []).map((c) => parseCidr(c)!);
    this.domains = seeds.domains.map((d) => d.toLowerCase().replace(/\.$/, ''));
  }

  /** Why the address may not be scanned, or undefined when it may. */
  refuseIp(ip: IpAddress): string | undefined {
    if (this.excludes.some((c) => cidrContains(c, ip))) return 'excluded by the scope';
    const including = this.includes.filter((c) => cidrContains(c, ip));
    const special = specialRangeOf(ip);
    if (special !== undefined) {
      // Only a seed inside the special range itself opens it.
      if (!including.some((c) => cidrWithin(c, special.cidr))) {
        return `${special.label} range, not named by the scope`;
      }
      return undefined;
    }
    return including.length > 0 ? undefined : 'not inside any CIDR of the scope';
  }

  /** Whether a host name is a seed domain or under one. */
  coversHostname(name: string): boolean {
    const host = name.toLowerCase().replace(/\.$/, '');
    return this.domains.some((d) => host === d || host.endsWith(`.${d}`));
  }

  /** Why a resolved address of an in-scope host name may not be scanned. */
  refuseResolved(ip: IpAddress): string | undefined {
    if (this.excludes.some((c) => cidrContains(c, ip))) return 'excluded by the scope';
    const special = specialRangeOf(ip);
    if (special === undefined) return undefined;
    return this.includes.some((c) => cidrContains(c, ip) && cidrWithin(c, special.cidr))
      ? undefined
      : `resolves into the ${special.label} range, not named by the scope`;
  }
}

/** Resolves a host name to addresses (dns.lookup in production; anything in tests). */
export type Resolver = (hostname: string) => Promise<readonly string[]>;

/** Limits on one expansion. */
export interface ExpandLimits {
  /** Most addresses a target list may expand to. */
  readonly maxHosts: number;
  /** Most host names one address may be reached by (each name is identified on its own). */
  readonly maxNamesPerAddress?: number;
}

/** In-scope addresses, and the host names each was resolved from. */
export interface ExpandedTargets {
  /** Unique canonical addresses, in target order. */
  readonly hosts: string[];
  /** For each address a host name resolved to: those names (lower case, no trailing dot),
   * each once, in target order. Addresses given only as an IP or a CIDR block are absent. */
  readonly names: Record<string, string[]>;
}

/**
 * Expands targets (addresses, CIDR blocks, host names) into unique canonical addresses, in
 * scope, keeping which names led to each address (TLS SNI and the HTTP Host header need them).
 * Throws TargetSpecError for malformed input and OutOfScopeError listing every refused target;
 * on either, no address is returned, so nothing is scanned.
 */
export async function expandTargets(
  targets: readonly string[],
  scope: Scope,
  resolve: Resolver,
  limits: ExpandLimits,
): Promise<ExpandedTargets> {
  if (targets.length === 0) throw new TargetSpecError('no targets given');
  const out = new Set<string>();
  const names = new Map<string, string[]>();
  const refusals: Refusal[] = [];
  const add = (ip: string): void => {
    out.add(ip);
    if (out.size > limits.maxHosts) {
      throw new TargetSpecError(
        `the targets expand to more than ${String(limits.maxHosts)} addresses; split the scan`,
      );
    }
  };
  const addName = (ip: string, host: string): void => {
    const list = names.get(ip) ?? [];
    if (list.includes(host)) return;
    list.push(host);
    names.set(ip, list);
    const cap = limits.maxNamesPerAddress;
    if (cap !== undefined && list.length > cap) {
      throw new TargetSpecError(
        `more than ${String(cap)} of the host names resolve to ${ip} (${list.join(', ')}); a scan identifies at most ${String(cap)} names per address, split the scan`,
      );
    }
  };
  for (const raw of targets) {
    const target = raw.trim();
    if (target.includes('/') || parseIp(target) !== undefined) {
      const cidr = parseCidr(target);
      if (cidr === undefined) {
        throw new TargetSpecError(
          `"${target}" is not an IP address or a CIDR block with its host bits zero`,
        );
      }
      if (cidrSize(cidr) > BigInt(limits.maxHosts)) {
        throw new TargetSpecError(
          `"${target}" holds ${cidrSize(cidr).toString()} addresses, more than the ${String(limits.maxHosts)} a scan may take`,
        );
      }
      for (let i = 0n; i < cidrSize(cidr); i++) {
        const ip = cidrAddress(cidr, i);
        const reason = scope.refuseIp(ip);
        if (reason === undefined) add(formatIp(ip));
        else refusals.push({ target: formatIp(ip), reason });
      }
      continue;
    }
    const host = target.toLowerCase().replace(/\.$/, '');
    if (!HOSTNAME.test(host) || /^[\d.]+$/.test(host)) {
      throw new TargetSpecError(`"${target}" is not an IP address, a CIDR block or a host name`);
    }
    if (!scope.coversHostname(host)) {
      refusals.push({ target, reason: 'not under any domain of the scope' });
      continue;
    }
    let addresses: readonly string[];
    try {
      addresses = await resolve(host);
    } catch {
      throw new TargetSpecError(`"${target}" does not resolve`);
    }
    if (addresses.length === 0) throw new TargetSpecError(`"${target}" does not resolve`);
    for (const text of addresses) {
      const ip = parseIp(text);
      if (ip === undefined) continue;
      const reason = scope.refuseResolved(ip);
      if (reason === undefined) {
        add(formatIp(ip));
        addName(formatIp(ip), host);
      } else refusals.push({ target: `${target} -> ${formatIp(ip)}`, reason });
    }
  }
  if (refusals.length > 0) throw new OutOfScopeError(refusals);
  return { hosts: [...out], names: Object.fromEntries(names) };
}
