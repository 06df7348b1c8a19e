/**
 * masscan -oJ output to ServiceFinding records.
 *
 * masscan's "JSON" is not quite JSON: records are written one per line as the scan runs, the
 * last record is followed by a comma before the closing "]", and some versions end with an
 * unquoted `{finished: 1}`. Those quirks are blanked out in place (same length, so error
 * offsets still point into the user's file) and the rest must be strict JSON. The one-object-
 * per-line form without brackets (-oD, ndjson) is read too. An open-port record and the banner
 * records of the same ip/port become one finding.
 */
import type { HttpInfo, ServiceFinding, TlsCertificate } from '#src/discovery/discovery.model.js';
import { certificateFacts } from '#src/discovery/certificate.model.js';
import { jsonErrorOffset } from '#src/cloud/json-position.js';
import {
  ImportFormatError,
  assertImportSize,
  compact,
  isPort,
  lineColumnAt,
  printableBanner,
  type ImportResult,
  type ImportedHost,
} from '#src/discovery/import-result.model.js';
import { canonicalIp } from '#src/discovery/ip.model.js';

/** masscan's banner module names where nmap's service vocabulary differs. */
const SERVICE_NAMES: Readonly<Record<string, string>> = {
  rdp: 'ms-wbt-server',
  smb: 'microsoft-ds',
  imap4: 'imap',
};

/** The end-of-scan record, quoted or (older versions) not. */
const FINISHED = /\{\s*"?finished"?\s*:\s*1\s*\}/g;
const FINISHED_LINE = /^\{\s*"?finished"?\s*:\s*1\s*\},?$/;

interface Accumulator {
  ip: string;
  port: number;
  service?: string;
  banner?: string;
  title?: string;
  server?: string;
  status?: number;
  tlsProtocol?: string;
  chain: TlsCertificate[];
  extra: Record<string, string>;
  hasExtra: boolean;
}

/** A JSON value for a message; JSON.stringify gives undefined for undefined. */
function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function blank(text: string): string {
  return ' '.repeat(text.length);
}

function syntaxError(text: string, what: string): ImportFormatError {
  const offset = jsonErrorOffset(text);
  if (offset < 0) return new ImportFormatError(`masscan JSON is malformed: ${what}`);
  const { line, column } = lineColumnAt(text, offset);
  const found =
    offset >= text.length
      ? 'unexpected end of input'
      : `unexpected ${JSON.stringify(text[offset])}`;
  return new ImportFormatError(
    `masscan JSON is malformed: ${found} at line ${String(line)}, column ${String(column)}`,
    line,
    column,
  );
}

/** The records of the bracketed (-oJ) form, quirks removed. */
interface Records {
  records: unknown[];
  finished: boolean;
  /** Line where record i starts; computed only on the error path. */
  lineOf: (index: number) => number | undefined;
}

/** Offsets of the top-level objects of a JSON text (inside the outer list for -oJ). */
function recordOffsets(text: string, depthOfRecords: number): number[] {
  const offsets: number[] = [];
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') {
      if (ch === '{' && depth === depthOfRecords) offsets.push(i);
      depth++;
    } else if (ch === '}' || ch === ']') depth--;
  }
  return offsets;
}

function arrayRecords(text: string): Records {
  const end = text.trimEnd();
  if (!end.endsWith(']')) {
    const { line } = lineColumnAt(text, end.length);
    throw new ImportFormatError(
      `masscan JSON is truncated: the record list never closes with "]" (input ends at line ${String(line)})`,
      line,
    );
  }
  let finished = false;
  let cleaned = text.replace(FINISHED, (match) => {
    finished = true;
    return blank(match);
  });
  // The comma masscan leaves after the last record (before "]", possibly after a blanked
  // finished record).
  cleaned = cleaned.replace(/,(\s*\]\s*)$/, ' $1');
  let parsed: unknown;
  try {
    parsed = JSON.parse(cleaned);
  } catch {
    throw syntaxError(cleaned, 'not valid JSON');
  }
  if (!Array.isArray(parsed)) throw new ImportFormatError('masscan JSON is malformed: not a list');
  let offsets: number[] | undefined;
  const lineOf = (index: number): number | undefined => {
    offsets ??= recordOffsets(cleaned, 1);
    const offset = offsets[index];
    return offset === undefined ? undefined : lineColumnAt(cleaned, offset).line;
  };
  return { records: parsed, finished, lineOf };
}

/** The records of the one-object-per-line (-oD) form. */
function lineRecords(text: string): Records {
  const records: unknown[] = [];
  const lineNumbers: number[] = [];
  let finished = false;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '') continue;
    if (FINISHED_LINE.test(line)) {
      finished = true;
      continue;
    }
    if (line.endsWith(',')) line = line.slice(0, -1);
    try {
      records.push(JSON.parse(line));
      lineNumbers.push(i + 1);
    } catch {
      const last = i === lines.length - 1;
      const offset = Math.max(0, jsonErrorOffset(line));
      throw new ImportFormatError(
        last
          ? `masscan JSON is truncated: the last record is incomplete (line ${String(i + 1)})`
          : `masscan JSON is malformed: line ${String(i + 1)} is not a JSON record`,
        i + 1,
        offset + 1,
      );
    }
  }
  return { records, finished, lineOf: (index) => lineNumbers[index] };
}

/** "TLS/1.2 cipher:0xc02f, ..." (masscan's ssl banner) to "TLSv1.2". */
function tlsProtocol(banner: string): string | undefined {
  const match = /^(TLS|SSL)\/?v?(\d(?:\.\d)?)/i.exec(banner);
  return match ? `${match[1]!.toUpperCase()}v${match[2]!}` : undefined;
}

/** Decodes masscan's \xNN escapes (banners are escaped text) for header parsing. */
function unescapeBanner(banner: string): string {
  return banner.replace(/\\x([0-9a-f]{2})/gi, (_m, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
}

function applyService(acc: Accumulator, name: string, banner: string): void {
  switch (name) {
    case 'title':
      acc.title = banner.replace(/\s+/g, ' ').trim().slice(0, 200);
      return;
    case 'http.server':
      acc.server = banner;
      return;
    case 'X509':
    case 'X509CA':
      try {
        acc.chain.push(certificateFacts(Buffer.from(banner, 'base64')));
      } catch {
        // A certificate that does not parse is a lost fact, not a broken file.
      }
      return;
    case 'ssl': {
      const protocol = tlsProtocol(banner);
      if (protocol !== undefined) acc.tlsProtocol = protocol;
      acc.extra.ssl = printableBanner(banner);
      acc.hasExtra = true;
      return;
    }
    default: {
      acc.service ??= SERVICE_NAMES[name] ?? name;
      acc.banner ??= printableBanner(banner);
      if (name === 'http') {
        const head = unescapeBanner(banner);
        const status = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(head);
        if (status) acc.status = Number(status[1]);
        const server = /\r?\nServer:[ \t]*([^\r\n]*)/i.exec(head);
        if (server) acc.server ??= server[1]!.trim();
      }
    }
  }
}

function toFinding(acc: Accumulator): ServiceFinding {
  let service = acc.service;
  if (service === 'http' && acc.chain.length > 0) service = 'https';
  const sawHttp = acc.status !== undefined || acc.title !== undefined || acc.server !== undefined;
  // masscan records no status for a title-only banner; 0 says "not recorded".
  const http: HttpInfo | undefined = sawHttp
    ? compact({ status: acc.status ?? 0, server: acc.server, title: acc.title })
    : undefined;
  const tls =
    acc.chain.length > 0 || acc.tlsProtocol !== undefined
      ? compact({ protocol: acc.tlsProtocol, chain: acc.chain })
      : undefined;
  // Assigned field by field: this runs once per open port, and compact()'s entry arrays were a
  // visible share of a 100k-port import.
  const finding: { -readonly [K in keyof ServiceFinding]: ServiceFinding[K] } = {
    ip: acc.ip,
    port: acc.port,
    protocol: 'tcp',
  };
  if (service !== undefined) finding.service = service;
  if (acc.banner !== undefined) finding.banner = acc.banner;
  if (tls) finding.tls = tls;
  if (http) finding.http = http;
  if (acc.hasExtra) finding.extra = acc.extra;
  return finding;
}

/** Parses masscan's JSON output (-oJ, also the one-record-per-line -oD form). Throws
 * ImportFormatError on anything malformed, truncated or carrying a non-IP address or an
 * impossible port. */
export function parseMasscanJson(text: string): ImportResult {
  assertImportSize(text.length);
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const first = body.trimStart()[0];
  if (first !== '[' && first !== '{')
    throw new ImportFormatError('not masscan JSON: the file starts with neither "[" nor "{"');
  const { records, finished, lineOf } = first === '[' ? arrayRecords(body) : lineRecords(body);

  const byKey = new Map<string, Accumulator>();
  const ipCache = new Map<string, string>();
  const hostOrder = new Map<string, ImportedHost>();
  let earliest: number | undefined;
  let latest: number | undefined;
  const fail: (index: number, problem: string) => never = (index, problem) => {
    const line = lineOf(index);
    const at = line === undefined ? '' : ` (line ${String(line)})`;
    throw new ImportFormatError(`masscan record ${String(index + 1)}${at}: ${problem}`, line);
  };

  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    if (!isRecord(record)) fail(i, 'not an object');
    if ('finished' in record && !('ip' in record)) continue;
    const rawIp = record.ip;
    // One host has many records; canonicalise each distinct spelling once.
    let ip = typeof rawIp === 'string' ? ipCache.get(rawIp) : undefined;
    if (ip === undefined && typeof rawIp === 'string') {
      ip = canonicalIp(rawIp);
      if (ip !== undefined) ipCache.set(rawIp, ip);
    }
    if (ip === undefined) fail(i, `"ip" ${show(rawIp)} is not an IP address`);
    const ts = Number(record.timestamp);
    if (record.timestamp !== undefined && Number.isFinite(ts) && ts > 0) {
      const ms = ts * 1000;
      earliest = earliest === undefined ? ms : Math.min(earliest, ms);
      latest = latest === undefined ? ms : Math.max(latest, ms);
    }
    if (!hostOrder.has(ip)) hostOrder.set(ip, { ip, hostnames: [], status: 'up' });
    const ports = record.ports;
    if (!Array.isArray(ports)) fail(i, '"ports" is not a list');
    for (const entry of ports as unknown[]) {
      if (!isRecord(entry)) fail(i, 'a "ports" entry is not an object');
      const proto = entry.proto;
      // ICMP echo replies (--ping) carry port 0; they say the host is up, nothing more.
      if (proto === 'icmp') continue;
      const port = entry.port;
      if (typeof port !== 'number' || !isPort(port))
        fail(i, `port ${show(port)} of ${ip} is not in 1..65535`);
      if (proto !== 'tcp') continue;
      const status = entry.status;
      const service = entry.service;
      // A banner record has no status: a banner was only grabbed because the port was open.
      if (status !== undefined && status !== 'open') continue;
      const key = `${ip}|${String(port)}`;
      let acc = byKey.get(key);
      if (!acc) {
        acc = { ip, port, chain: [], extra: {}, hasExtra: false };
        byKey.set(key, acc);
      }
      if (isRecord(service)) {
        const name = typeof service.name === 'string' ? service.name : '';
        const banner = typeof service.banner === 'string' ? service.banner : '';
        if (name !== '') applyService(acc, name, banner);
      }
    }
  }

  const findings = [...byKey.values()].map(toFinding);
  return {
    format: 'masscan-json',
    scanner: compact({ name: 'masscan', startedAt: earliest, finishedAt: latest }),
    findings,
    hosts: [...hostOrder.values()],
    scanned: { complete: finished },
  };
}
