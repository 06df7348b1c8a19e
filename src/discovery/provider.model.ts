/**
 * Which cloud provider announces an IP address, from the providers' published range lists.
 *
 * CIDR blocks are either nested or disjoint, so the ranges of all providers flatten into one
 * sorted list of non-overlapping segments where the most specific block wins (a provider's /24
 * inside another's /16 labels only the /24). A lookup is then one binary search: O(log n) with
 * no allocation beyond parsing the address. IPv4 bounds are plain numbers, IPv6 bounds bigints.
 */
import ipaddr from 'ipaddr.js';

/** What lookup answers for an address no listed provider announces. */
export const ON_PREM = 'On Prem';

/** One published block and who announces it. */
export interface ProviderRange {
  /** Display name: "AWS", "GCP", "Azure", "Oracle", "Cloudflare", "DigitalOcean", ... */
  readonly provider: string;
  /** Network in CIDR notation; host bits are cleared when the index is built. */
  readonly cidr: string;
}

/** The published formats parseProviderRanges reads: the providers' own JSON documents, the
 * DigitalOcean geofeed, Fastly's public-ip-list, "provider,cidr" CSV, and a bare list of CIDRs
 * one a line (Cloudflare's ips-v4 / ips-v6), which names no provider of its own. */
export type ProviderRangeFormat =
  'aws' | 'gcp' | 'azure' | 'oracle' | 'digitalocean' | 'fastly' | 'csv' | 'list';

/** Every format, for CLI help and validation. */
export const PROVIDER_RANGE_FORMATS: readonly ProviderRangeFormat[] = [
  'aws',
  'gcp',
  'azure',
  'oracle',
  'digitalocean',
  'fastly',
  'csv',
  'list',
];

/** A range file is not what its format says; nothing of it may be used. */
export class ProviderRangeError extends Error {
  override readonly name = 'ProviderRangeError';
}

interface Block {
  provider: string;
  start: bigint;
  end: bigint;
  bits: number;
  order: number;
}

const V4_BITS = 32;
const V6_BITS = 128;

/** Parses "a.b.c.d/n" or "x::/n" into its family and inclusive numeric bounds. */
export function cidrBounds(cidr: string): {
  v6: boolean;
  start: bigint;
  end: bigint;
  bits: number;
} {
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    // Picking the family first: ipaddr.parseCIDR tries IPv6 first, and the exception it throws
    // for every IPv4 block was most of the build time of a 60k-block index.
    const text = cidr.trim();
    parsed = text.includes(':') ? ipaddr.IPv6.parseCIDR(text) : ipaddr.IPv4.parseCIDR(text);
  } catch {
    throw new ProviderRangeError(`"${cidr}" is not a CIDR block`);
  }
  const [address, bits] = parsed;
  const v6 = address.kind() === 'ipv6';
  if (!v6 && !ipaddr.IPv4.isValidFourPartDecimal(cidr.trim().split('/')[0]!))
    throw new ProviderRangeError(`"${cidr}" is not a CIDR block`);
  const width = v6 ? V6_BITS : V4_BITS;
  const value = bytesToBigInt(address.toByteArray());
  const hostBits = BigInt(width - bits);
  const start = (value >> hostBits) << hostBits;
  const end = start + (1n << hostBits) - 1n;
  return { v6, start, end, bits };
}

function bytesToBigInt(bytes: readonly number[]): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/** Nested-or-disjoint blocks to non-overlapping labelled segments, innermost label winning;
 * adjacent segments with one label are merged. */
function flatten(blocks: Block[]): { starts: bigint[]; ends: bigint[]; labels: string[] } {
  // Outer blocks first at a shared start; among identical blocks the later listed wins, which
  // lets a refreshed list override an older entry for the same CIDR.
  blocks.sort((a, b) =>
    a.start !== b.start
      ? a.start < b.start
        ? -1
        : 1
      : a.bits !== b.bits
        ? a.bits - b.bits
        : a.order - b.order,
  );
  const starts: bigint[] = [];
  const ends: bigint[] = [];
  const labels: string[] = [];
  const emit = (start: bigint, end: bigint, label: string): void => {
    if (start > end) return;
    const last = labels.length - 1;
    if (last >= 0 && labels[last] === label && ends[last]! + 1n === start) {
      ends[last] = end;
      return;
    }
    starts.push(start);
    ends.push(end);
    labels.push(label);
  };
  const stack: Block[] = [];
  let cursor = 0n;
  const popThrough = (limit: bigint | undefined): void => {
    while (stack.length > 0 && (limit === undefined || stack[stack.length - 1]!.end < limit)) {
      const top = stack.pop()!;
      emit(cursor, top.end, top.provider);
      cursor = top.end + 1n;
    }
  };
  for (const block of blocks) {
    popThrough(block.start);
    const outer = stack[stack.length - 1];
    if (outer) emit(cursor, block.start - 1n, outer.provider);
    cursor = block.start;
    stack.push(block);
  }
  popThrough(undefined);
  return { starts, ends, labels };
}

/** Index of the last start <= key, or -1 (IPv4: starts are plain numbers). */
function floorV4(starts: Float64Array, key: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid]! <= key) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Compares the 128-bit value at words[4*i..4*i+3] with key (four 32-bit words, big end
 * first). Four number comparisons are far cheaper than building and comparing a bigint. */
function compareV6(words: Uint32Array, i: number, key: Uint32Array): number {
  const base = i * 4;
  for (let w = 0; w < 4; w++) {
    const a = words[base + w]!;
    const b = key[w]!;
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}

function floorV6(starts: Uint32Array, key: Uint32Array): number {
  let lo = 0;
  let hi = starts.length / 4 - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (compareV6(starts, mid, key) <= 0) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

function toWords(values: readonly bigint[]): Uint32Array {
  const words = new Uint32Array(values.length * 4);
  values.forEach((value, i) => {
    for (let w = 0; w < 4; w++)
      words[i * 4 + w] = Number((value >> BigInt(96 - 32 * w)) & 0xffffffffn);
  });
  return words;
}

/** Cheap shape check before ipaddr.js parses: only dotted quads are IPv4 here ("127.1" and
 * "0x7f.0.0.1", which ipaddr.js also accepts, are not addresses a scan reports). */
const DOTTED_QUAD = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** Provider lookup over flattened ranges; immutable once built. */
export class ProviderIndex {
  /** Scratch key for IPv6 lookups (lookups are synchronous, so one buffer suffices). */
  private readonly key = new Uint32Array(4);

  private constructor(
    private readonly v4Starts: Float64Array,
    private readonly v4Ends: Float64Array,
    private readonly v4Labels: readonly string[],
    private readonly v6Starts: Uint32Array,
    private readonly v6Ends: Uint32Array,
    private readonly v6Labels: readonly string[],
  ) {}

  /** Builds the index; throws ProviderRangeError on a bad CIDR or an empty provider name. */
  static fromRanges(ranges: Iterable<ProviderRange>): ProviderIndex {
    const v4: Block[] = [];
    const v6: Block[] = [];
    let order = 0;
    for (const range of ranges) {
      const provider = range.provider.trim();
      if (provider === '')
        throw new ProviderRangeError(`${range.cidr}: the provider name is empty`);
      const { v6: isV6, start, end, bits } = cidrBounds(range.cidr);
      (isV6 ? v6 : v4).push({ provider, start, end, bits, order: order++ });
    }
    const flat4 = flatten(v4);
    const flat6 = flatten(v6);
    return new ProviderIndex(
      Float64Array.from(flat4.starts, Number),
      Float64Array.from(flat4.ends, Number),
      flat4.labels,
      toWords(flat6.starts),
      toWords(flat6.ends),
      flat6.labels,
    );
  }

  /** Number of flattened segments (IPv4 + IPv6), a measure of the index size. */
  get segmentCount(): number {
    return this.v4Labels.length + this.v6Labels.length;
  }

  /** Provider names present, sorted. */
  providers(): string[] {
    return [...new Set([...this.v4Labels, ...this.v6Labels])].sort();
  }

  /** The provider announcing `ip` (IPv4, IPv6, or IPv4-mapped IPv6), or ON_PREM. Throws a
   * RangeError when `ip` is not an address. */
  lookup(ip: string): string {
    if (DOTTED_QUAD.test(ip)) {
      let address: ipaddr.IPv4;
      try {
        address = ipaddr.IPv4.parse(ip);
      } catch {
        throw new RangeError(`not an IP address: ${JSON.stringify(ip)}`);
      }
      return this.lookupV4(address);
    }
    let address: ipaddr.IPv6;
    try {
      address = ipaddr.IPv6.parse(ip);
    } catch {
      throw new RangeError(`not an IP address: ${JSON.stringify(ip)}`);
    }
    if (address.isIPv4MappedAddress()) return this.lookupV4(address.toIPv4Address());
    const parts = address.parts;
    const key = this.key;
    for (let w = 0; w < 4; w++) key[w] = parts[2 * w]! * 65536 + parts[2 * w + 1]!;
    const i = floorV6(this.v6Starts, key);
    return i >= 0 && compareV6(this.v6Ends, i, key) >= 0 ? this.v6Labels[i]! : ON_PREM;
  }

  private lookupV4(address: ipaddr.IPv4): string {
    const [a, b, c, d] = address.octets as [number, number, number, number];
    const value = a * 16777216 + b * 65536 + c * 256 + d;
    const i = floorV4(this.v4Starts, value);
    return i >= 0 && value <= this.v4Ends[i]! ? this.v4Labels[i]! : ON_PREM;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ProviderRangeError(
      `${what} is not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (!isRecord(value)) throw new ProviderRangeError(`${what} is not a JSON object`);
  return value;
}

function list(record: Record<string, unknown>, key: string, what: string): unknown[] {
  const value = record[key];
  if (!Array.isArray(value)) throw new ProviderRangeError(`${what}: "${key}" is not a list`);
  return value;
}

/** Validates one CIDR from a file, naming where it was. */
function checked(provider: string, cidr: unknown, where: string): ProviderRange {
  if (typeof cidr !== 'string') throw new ProviderRangeError(`${where} is not a string`);
  try {
    cidrBounds(cidr);
  } catch {
    throw new ProviderRangeError(`${where}: "${cidr}" is not a CIDR block`);
  }
  return { provider, cidr: cidr.trim() };
}

function parseAws(text: string): ProviderRange[] {
  const what = 'AWS ip-ranges.json';
  const doc = parseJson(text, what);
  const out: ProviderRange[] = [];
  for (const [key, field] of [
    ['prefixes', 'ip_prefix'],
    ['ipv6_prefixes', 'ipv6_prefix'],
  ] as const) {
    list(doc, key, what).forEach((entry, i) => {
      const where = `${what}: ${key}[${String(i)}].${field}`;
      if (!isRecord(entry)) throw new ProviderRangeError(`${where} is missing`);
      out.push(checked('AWS', entry[field], where));
    });
  }
  return out;
}

function parseGcp(text: string): ProviderRange[] {
  const what = 'Google cloud.json';
  const doc = parseJson(text, what);
  return list(doc, 'prefixes', what).map((entry, i) => {
    const where = `${what}: prefixes[${String(i)}]`;
    if (!isRecord(entry)) throw new ProviderRangeError(`${where} is not an object`);
    const cidr = entry.ipv4Prefix ?? entry.ipv6Prefix;
    return checked('GCP', cidr, `${where}.ipv4Prefix/ipv6Prefix`);
  });
}

function parseAzure(text: string): ProviderRange[] {
  const what = 'Azure ServiceTags JSON';
  const doc = parseJson(text, what);
  const seen = new Set<string>();
  const out: ProviderRange[] = [];
  list(doc, 'values', what).forEach((entry, i) => {
    const where = `${what}: values[${String(i)}]`;
    if (!isRecord(entry) || !isRecord(entry.properties))
      throw new ProviderRangeError(`${where}.properties is missing`);
    // Service tags overlap heavily (AzureCloud contains every regional tag): keep each CIDR once.
    list(entry.properties, 'addressPrefixes', `${where}.properties`).forEach((cidr, j) => {
      const range = checked('Azure', cidr, `${where}.properties.addressPrefixes[${String(j)}]`);
      if (!seen.has(range.cidr)) {
        seen.add(range.cidr);
        out.push(range);
      }
    });
  });
  return out;
}

function parseOracle(text: string): ProviderRange[] {
  const what = 'Oracle public_ip_ranges.json';
  const doc = parseJson(text, what);
  const out: ProviderRange[] = [];
  list(doc, 'regions', what).forEach((region, i) => {
    if (!isRecord(region))
      throw new ProviderRangeError(`${what}: regions[${String(i)}] is not an object`);
    list(region, 'cidrs', `${what}: regions[${String(i)}]`).forEach((entry, j) => {
      const where = `${what}: regions[${String(i)}].cidrs[${String(j)}].cidr`;
      if (!isRecord(entry)) throw new ProviderRangeError(`${where} is missing`);
      out.push(checked('Oracle', entry.cidr, where));
    });
  });
  return out;
}

/** Lines of a CSV file, without blank lines and # comments, with their 1-based numbers. */
function csvLines(text: string): { line: number; fields: string[] }[] {
  const out: { line: number; fields: string[] }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    out.push({ line: i + 1, fields: line.split(',').map((f) => f.trim()) });
  });
  return out;
}

function parseDigitalOcean(text: string): ProviderRange[] {
  // DigitalOcean publishes a geofeed (RFC 8805): cidr,country,region,city,postal.
  return csvLines(text).map(({ line, fields }) =>
    checked('DigitalOcean', fields[0], `DigitalOcean geofeed line ${String(line)}`),
  );
}

function parseCsv(text: string): ProviderRange[] {
  const out: ProviderRange[] = [];
  for (const { line, fields } of csvLines(text)) {
    if (
      out.length === 0 &&
      fields[0]?.toLowerCase() === 'provider' &&
      fields[1]?.toLowerCase() === 'cidr'
    )
      continue;
    const [provider, cidr] = fields;
    if (fields.length !== 2 || provider === undefined || provider === '')
      throw new ProviderRangeError(`provider CSV line ${String(line)}: expected "provider,cidr"`);
    out.push(checked(provider, cidr, `provider CSV line ${String(line)}`));
  }
  return out;
}

function parseFastly(text: string): ProviderRange[] {
  const what = 'Fastly public-ip-list';
  const doc = parseJson(text, what);
  const out: ProviderRange[] = [];
  for (const key of ['addresses', 'ipv6_addresses'] as const) {
    // Older copies of the list carry IPv4 only.
    if (key === 'ipv6_addresses' && doc[key] === undefined) continue;
    list(doc, key, what).forEach((cidr, i) => {
      out.push(checked('Fastly', cidr, `${what}: ${key}[${String(i)}]`));
    });
  }
  return out;
}

function parseList(text: string, provider: string | undefined): ProviderRange[] {
  if (provider === undefined)
    throw new ProviderRangeError('a plain list of CIDR blocks names no provider: give one');
  return csvLines(text).map(({ line, fields }) => {
    if (fields.length !== 1)
      throw new ProviderRangeError(`CIDR list line ${String(line)}: expected one CIDR block`);
    return checked(provider, fields[0], `CIDR list line ${String(line)}`);
  });
}

function parseRanges(
  format: ProviderRangeFormat,
  text: string,
  provider: string | undefined,
): ProviderRange[] {
  switch (format) {
    case 'aws':
      return parseAws(text);
    case 'gcp':
      return parseGcp(text);
    case 'azure':
      return parseAzure(text);
    case 'oracle':
      return parseOracle(text);
    case 'digitalocean':
      return parseDigitalOcean(text);
    case 'fastly':
      return parseFastly(text);
    case 'csv':
      return parseCsv(text);
    case 'list':
      return parseList(text, provider);
  }
}

/** Reads one published range file. Throws ProviderRangeError naming the first bad entry, so a
 * refresh either takes the whole file or nothing of it. `provider`, when given, names the
 * provider of every range (needed for 'list'; for the others it renames, e.g. "AWS GovCloud"). */
export function parseProviderRanges(
  format: ProviderRangeFormat,
  text: string,
  provider?: string,
): ProviderRange[] {
  const name = provider?.trim();
  if (name === '') throw new ProviderRangeError('the provider name is empty');
  const ranges = parseRanges(format, text, name);
  return name === undefined ? ranges : ranges.map((r) => ({ provider: name, cidr: r.cidr }));
}

/** Which published format a range file is in, from its content, so a refresh command can take
 * bare file names. Throws ProviderRangeError when it is none of them. */
export function detectProviderRangeFormat(text: string): ProviderRangeFormat {
  const start = text.replace(/^\uFEFF/, '').trimStart();
  if (start.startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(start);
    } catch {
      throw new ProviderRangeError('range file: starts like JSON but is not valid JSON');
    }
    if (isRecord(doc)) {
      if (Array.isArray(doc.values)) return 'azure';
      if (Array.isArray(doc.addresses)) return 'fastly';
      if (Array.isArray(doc.regions)) return 'oracle';
      if (Array.isArray(doc.ipv6_prefixes)) return 'aws';
      const first: unknown = Array.isArray(doc.prefixes) ? doc.prefixes[0] : undefined;
      if (isRecord(first) && 'ip_prefix' in first) return 'aws';
      if (isRecord(first) && ('ipv4Prefix' in first || 'ipv6Prefix' in first)) return 'gcp';
    }
    throw new ProviderRangeError(
      'range file: a JSON document that is none of AWS ip-ranges.json, Google cloud.json, Azure ServiceTags, Oracle public_ip_ranges.json or Fastly public-ip-list',
    );
  }
  const firstLine = csvLines(start)[0];
  if (firstLine) {
    try {
      cidrBounds(firstLine.fields[0] ?? '');
      // A geofeed line has its location fields after the block; a bare list has nothing.
      return firstLine.fields.length === 1 ? 'list' : 'digitalocean';
    } catch {
      return 'csv';
    }
  }
  throw new ProviderRangeError('range file: the file is empty');
}

/** Where one provider's bundled ranges came from. */
export interface CloudRangeSource {
  readonly provider: string;
  /** The package (name@version), file and upstream list the ranges were taken from. */
  readonly origin: string;
  /** When the package was fetched, ISO date. */
  readonly retrieved: string;
  /** The date of the data itself (the list's own date, or the package's), ISO date. */
  readonly dated?: string;
  /** The licence the package ships the data under. */
  readonly license?: string;
}

/** The bundled data file's shape (data/cloud-ranges.json). */
export interface CloudRangesFile {
  /** When the file was generated, ISO date. */
  readonly generatedAt: string;
  /** Where each provider's list came from and when. */
  readonly sources: readonly CloudRangeSource[];
  /** Provider name to its CIDR blocks. */
  readonly ranges: Readonly<Record<string, readonly string[]>>;
}

/** Ranges of a cloud-ranges.json document, validated. */
export function rangesFromFile(doc: unknown): ProviderRange[] {
  if (!isRecord(doc) || !isRecord(doc.ranges))
    throw new ProviderRangeError('cloud ranges file: "ranges" is not an object');
  const out: ProviderRange[] = [];
  for (const [provider, cidrs] of Object.entries(doc.ranges)) {
    if (!Array.isArray(cidrs))
      throw new ProviderRangeError(`cloud ranges file: ranges.${provider} is not a list`);
    cidrs.forEach((cidr: unknown, i) => {
      out.push(checked(provider, cidr, `cloud ranges file: ranges.${provider}[${String(i)}]`));
    });
  }
  return out;
}

/** The sources of a cloud-ranges.json document (entries that are not objects are skipped). */
export function sourcesFromFile(doc: unknown): CloudRangeSource[] {
  if (!isRecord(doc) || !Array.isArray(doc.sources)) return [];
  const out: CloudRangeSource[] = [];
  for (const entry of doc.sources as unknown[]) {
    if (!isRecord(entry)) continue;
    const { provider, origin, retrieved, dated, license } = entry;
    if (typeof provider !== 'string' || typeof origin !== 'string' || typeof retrieved !== 'string')
      continue;
    out.push({
      provider,
      origin,
      retrieved,
      ...(typeof dated === 'string' ? { dated } : {}),
      ...(typeof license === 'string' ? { license } : {}),
    });
  }
  return out;
}

/** The fewest CIDR blocks covering exactly the inclusive range start..end of one family. */
export function rangeToCidrs(start: string, end: string): string[] {
  let first: ipaddr.IPv4 | ipaddr.IPv6;
  let last: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    first = ipaddr.parse(start);
    last = ipaddr.parse(end);
  } catch {
    throw new ProviderRangeError(`"${start}-${end}" is not an address range`);
  }
  if (first.kind() !== last.kind())
    throw new ProviderRangeError(`"${start}-${end}" mixes IPv4 and IPv6`);
  const v6 = first.kind() === 'ipv6';
  const width = v6 ? V6_BITS : V4_BITS;
  let low = bytesToBigInt(first.toByteArray());
  const high = bytesToBigInt(last.toByteArray());
  if (low > high) throw new ProviderRangeError(`"${start}-${end}" ends before it starts`);
  const out: string[] = [];
  while (low <= high) {
    // The largest block aligned at `low` that does not run past `high`.
    let hostBits = 0;
    while (
      hostBits < width &&
      (low & ((1n << BigInt(hostBits + 1)) - 1n)) === 0n &&
      low + (1n << BigInt(hostBits + 1)) - 1n <= high
    )
      hostBits++;
    out.push(`${formatAddress(low, v6)}/${String(width - hostBits)}`);
    low += 1n << BigInt(hostBits);
  }
  return out;
}

function formatAddress(value: bigint, v6: boolean): string {
  const count = v6 ? 16 : 4;
  const bytes: number[] = [];
  for (let i = count - 1; i >= 0; i--) bytes.push(Number((value >> BigInt(8 * i)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

/** Splits one CSV line into fields, honouring double quotes ("Amazon.com, Inc."). */
function quotedFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

/** What parseAsnTable found: the ranges of the wanted networks, and the organisation names the
 * table gives each wanted AS number (so a caller can check its AS-to-provider mapping). */
export interface AsnTableRanges {
  readonly ranges: ProviderRange[];
  readonly organizations: Map<number, Set<string>>;
}

/**
 * Reads an IP-to-ASN table, one inclusive range a line: `start,end,asn,organisation` (the CSV
 * layout of the ip-location-db ASN tables), keeping the ranges of the AS numbers in
 * `providers` under the provider each maps to. Consecutive rows of one provider are joined
 * before they are cut into CIDR blocks, which keeps the block count near the minimum.
 */
export function parseAsnTable(
  text: string,
  providers: ReadonlyMap<number, string>,
): AsnTableRanges {
  const ranges: ProviderRange[] = [];
  const organizations = new Map<number, Set<string>>();
  let open: { provider: string; start: string; end: string; endValue: bigint } | undefined;
  const close = (): void => {
    if (open === undefined) return;
    for (const cidr of rangeToCidrs(open.start, open.end))
      ranges.push({ provider: open.provider, cidr });
    open = undefined;
  };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `ASN table line ${String(i + 1)}`;
    const [start, end, asnText, organization = ''] = quotedFields(line);
    if (start === undefined || end === undefined || asnText === undefined)
      throw new ProviderRangeError(`${where}: expected "start,end,asn,organisation"`);
    if (!/^\d+$/.test(asnText))
      throw new ProviderRangeError(`${where}: "${asnText}" is not an AS number`);
    const asn = Number(asnText);
    const provider = providers.get(asn);
    if (provider === undefined) return;
    let names = organizations.get(asn);
    if (names === undefined) organizations.set(asn, (names = new Set()));
    names.add(organization);
    let startValue: bigint;
    let endValue: bigint;
    try {
      startValue = bytesToBigInt(ipaddr.parse(start).toByteArray());
      endValue = bytesToBigInt(ipaddr.parse(end).toByteArray());
    } catch {
      throw new ProviderRangeError(`${where}: "${start}-${end}" is not an address range`);
    }
    if (
      open !== undefined &&
      open.provider === provider &&
      open.endValue + 1n === startValue &&
      open.start.includes(':') === start.includes(':')
    ) {
      open.end = end;
      open.endValue = endValue;
      return;
    }
    close();
    open = { provider, start, end, endValue };
  });
  close();
  return { ranges, organizations };
}
