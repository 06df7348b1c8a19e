/**
 * IP addresses and CIDR blocks as numbers, for scope checks and target expansion. Written here
 * rather than taken from a library because the scanner needs exactly three things a library
 * does not give together: numeric ranges it can enumerate, containment of one block in another
 * (to tell an explicit loopback scope from 0.0.0.0/0), and canonical text for storage keys.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** 4 or 6. */
export type IpFamily = 4 | 6;

/** A parsed address: IPv4 as a 32-bit value, IPv6 as a 128-bit value, both as bigint. */
export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

/** A CIDR block: every address whose first `prefix` bits equal those of `base`. */
export interface Cidr {
  readonly family: IpFamily;
  /** The network address (host bits zero). */
  readonly base: bigint;
  readonly prefix: number;
}

const BITS: Record<IpFamily, number> = { 4: 32, 6: 128 };

/** Parses an IPv4 or IPv6 address; undefined when the text is not one. */
export function parseIp(text: string): IpAddress | undefined {
  if (isIPv4(text)) {
    let value = 0n;
    for (const part of text.split('.')) value = (value << 8n) | BigInt(Number(part));
    return { family: 4, value };
  }
  if (!isIPv6(text) || text.includes('%')) return undefined;
  // An embedded dotted quad (::ffff:1.2.3.4) becomes two hex groups first.
  let body = text;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(body);
  if (dotted !== null) {
    const v4 = parseIp(dotted[1]!)!.value;
    body = `${body.slice(0, dotted.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = body.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [
    ...headGroups,
    ...Array<string>(tail === undefined ? 0 : missing).fill('0'),
    ...tailGroups,
  ];
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(parseInt(g, 16));
  return { family: 6, value };
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run compressed). */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) {
    const v = Number(ip.value);
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Canonical text of an address given as text; undefined when it is not an address. */
export function canonicalIp(text: string): string | undefined {
  const ip = parseIp(text);
  return ip === undefined ? undefined : formatIp(ip);
}

/** Parses "a.b.c.d/n", "v6/n" or a bare address (a /32 or /128). Host bits must be zero. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (ip === undefined) return undefined;
  const bits = BITS[ip.family];
  const prefixText = slash < 0 ? String(bits) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > bits) return undefined;
  const base = ip.value & mask(ip.family, prefix);
  if (base !== ip.value) return undefined;
  return { family: ip.family, base, prefix };
}

/** Text form of a block. */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp({ family: cidr.family, value: cidr.base })}/${String(cidr.prefix)}`;
}

function mask(family: IpFamily, prefix: number): bigint {
  const bits = BigInt(BITS[family]);
  const all = (1n << bits) - 1n;
  return prefix === 0 ? 0n : (all >> (bits - BigInt(prefix))) << (bits - BigInt(prefix));
}

/** Number of addresses in a block. */
export function cidrSize(cidr: Cidr): bigint {
  return 1n << BigInt(BITS[cidr.family] - cidr.prefix);
}

/** Whether the block holds the address. */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  return cidr.family === ip.family && (ip.value & mask(cidr.family, cidr.prefix)) === cidr.base;
}

/** Whether `inner` lies entirely inside `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return (
    inner.family === outer.family &&
    inner.prefix >= outer.prefix &&
    cidrContains(outer, { family: inner.family, value: inner.base })
  );
}

/** The address `offset` places after the block's base. */
export function cidrAddress(cidr: Cidr, offset: bigint): IpAddress {
  return { family: cidr.family, value: cidr.base + offset };
}

/**
 * Ranges a scan must never touch unless a scope names them explicitly: private, loopback,
 * link-local, carrier-grade NAT, multicast, reserved and "this network" blocks (RFC 6890).
 */
export const SPECIAL_RANGES: readonly { readonly cidr: Cidr; readonly label: string }[] = [
  ['0.0.0.0/8', 'this-network'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'carrier-grade NAT'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::ffff:0:0/96', 'IPv4-mapped'],
  ['fc00::/7', 'unique local'],
  ['fe80::/10', 'link-local'],
  ['ff00::/8', 'multicast'],
].map(([text, label]) => ({ cidr: parseCidr(text!)!, label: label! }));

/** The special range holding the address, if any. */
export function specialRangeOf(ip: IpAddress): { cidr: Cidr; label: string } | undefined {
  return SPECIAL_RANGES.find((r) => cidrContains(r.cidr, ip));
}
