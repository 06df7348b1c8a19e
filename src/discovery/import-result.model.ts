/**
 * What an importer hands back, the error it throws, and the checks both importers share. The
 * importers are pure: text in, ImportResult out, or an ImportFormatError and nothing else, so a
 * truncated file can never be half stored.
 */
import type { ServiceFinding } from '#src/discovery/discovery.model.js';

/** The file formats the importers read. */
export type ImportFormat = 'nmap-xml' | 'masscan-json';

/** The largest input accepted: bigger files are refused before any parsing. */
export const MAX_IMPORT_BYTES = 256 * 1024 * 1024;

/** Which tool wrote the file and when it ran. */
export interface ImportScanner {
  /** "nmap" or "masscan". */
  readonly name: string;
  /** The tool's version, when the file records it (nmap does, masscan JSON does not). */
  readonly version?: string;
  /** The command line, when the file records it. */
  readonly args?: string;
  /** Epoch milliseconds; for masscan the earliest record's timestamp. */
  readonly startedAt?: number;
  /** Epoch milliseconds; for masscan the latest record's timestamp. */
  readonly finishedAt?: number;
}

/** One scanned host as the file lists it. */
export interface ImportedHost {
  /** Canonical IPv4 or IPv6 text. */
  readonly ip: string;
  /** Names the scanner resolved for the host (PTR or user-supplied), in file order. */
  readonly hostnames: readonly string[];
  readonly status: 'up' | 'down';
}

/** What the scan covered. */
export interface ImportScanned {
  /** TCP ports asked for, in nmap's syntax ("22-25,80,443"); absent when the file does not
   * record it (masscan JSON). */
  readonly ports?: string;
  /** The scanner recorded a normal end (nmap: <finished exit="success">; masscan: a finished
   * record). An interrupted scan is incomplete: absent ports are unknown, not closed. */
  readonly complete: boolean;
}

/** The result of importing one file. */
export interface ImportResult {
  readonly format: ImportFormat;
  readonly scanner: ImportScanner;
  /** Open TCP ports only, one per ip/port. */
  readonly findings: ServiceFinding[];
  readonly hosts: ImportedHost[];
  readonly scanned: ImportScanned;
}

/** The input is not a well-formed file of the expected format; nothing of it may be used. */
export class ImportFormatError extends Error {
  override readonly name = 'ImportFormatError';
  /** 1-based line of the problem, when known. */
  readonly line: number | undefined;
  /** 1-based column of the problem, when known. */
  readonly column: number | undefined;

  constructor(message: string, line?: number, column?: number) {
    super(message);
    this.line = line;
    this.column = column;
  }
}

/** Throws when the text is over the import limit. String length is a lower bound of the UTF-8
 * size, so callers that read files should also check the byte size before reading. */
export function assertImportSize(length: number): void {
  if (length > MAX_IMPORT_BYTES) {
    throw new ImportFormatError(
      `import is too large: ${String(length)} bytes, the limit is 256 MiB (${String(MAX_IMPORT_BYTES)} bytes)`,
    );
  }
}

/** True for a TCP/UDP port number. */
export function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** 1-based line and column of a character offset. */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** A banner as ServiceFinding wants it: control characters and bytes 0x7f..0xff as \xNN (other
 * characters kept), at most 1024 characters. Scanners already escape most bytes this way. */
export function printableBanner(raw: string): string {
  let out = '';
  for (const ch of raw) {
    const code = ch.codePointAt(0)!;
    if (code >= 0x20 && code < 0x7f) out += ch;
    else if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
    if (out.length >= 1024) break;
  }
  return out.slice(0, 1024);
}

/** `T` with every key whose type admits undefined made optional and undefined removed. */
export type Compacted<T> = {
  [K in keyof T as undefined extends T[K] ? never : K]: T[K];
} & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/** Drops keys whose value is undefined, so optional fields are absent rather than undefined
 * (exactOptionalPropertyTypes, and stored JSON should not carry empty keys). */
export function compact<T extends object>(value: T): Compacted<T> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = v;
  return out as Compacted<T>;
}

/** nmap's port list syntax ("1-1024,3306,8080-8090") as sorted, merged inclusive ranges, so a
 * caller can tell "scanned and not open" (closed) from "not scanned" (unknown). Throws
 * ImportFormatError on anything else. */
export function portRanges(spec: string): [number, number][] {
  const ranges: [number, number][] = [];
  for (const part of spec.split(',')) {
    const match = /^\s*(\d+)(?:\s*-\s*(\d+))?\s*$/.exec(part);
    const lo = match ? Number(match[1]) : NaN;
    const hi = match?.[2] === undefined ? lo : Number(match[2]);
    if (!isPort(lo) || !isPort(hi) || hi < lo)
      throw new ImportFormatError(`"${part.trim()}" is not a port or port range in 1..65535`);
    ranges.push([lo, hi]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1] + 1) last[1] = Math.max(last[1], range[1]);
    else merged.push(range);
  }
  return merged;
}
