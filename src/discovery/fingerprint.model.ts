/**
 * The fingerprint database: probes (what to send), a port → probe hint table, and match rules
 * (regular expressions over what came back), all loaded from JSON so that recognising a new
 * product is a data change. Loading is strict: a bad regex or an unknown field stops with one
 * message naming the file, the section, the entry index and the problem.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { StartupError } from '#src/startup-error.js';

/** Code decoders that turn a binary answer into a `key=value` text line the rules can match. */
export const DECODERS = [
  'mysql',
  'postgresql',
  'redis',
  'mongodb',
  'smb',
  'netbios',
  'rdp',
  'telnet',
] as const;

/** The name of a code decoder. */
export type DecoderName = (typeof DECODERS)[number];

/** One way to ask a service who it is. */
export interface ProbeDef {
  /** Unique name; match rules refer to it. "null" is the connect-and-listen probe. */
  readonly name: string;
  /** raw: write `send`, read the answer; http: GET / with our HTTP client. */
  readonly kind: 'raw' | 'http';
  /** Wrap the connection in TLS first (and capture the certificate chain). */
  readonly tls: boolean;
  /** Bytes to write, one character per byte (U+0000..U+00FF); empty writes nothing. */
  readonly send: Buffer;
  /** Read the server's greeting before writing (SMTP EHLO, FTP commands). */
  readonly afterBanner: boolean;
  /** Overrides the caller's per-read timeout for this probe. */
  readonly readTimeoutMs?: number;
  /** Decoders run over the answer, in order. */
  readonly decoders: readonly DecoderName[];
  /** Rules of these other probes also apply to this probe's answer (e.g. https uses http's). */
  readonly matchAs: readonly string[];
  /** Services this probe can confirm: after a service-only match, only such probes are tried. */
  readonly services: readonly string[];
}

/** One recognition rule. */
export interface FingerprintEntry {
  /** Probe (or decoder) whose answer this rule reads. */
  readonly probe: string;
  /** Source of the regular expression. */
  readonly pattern: string;
  /** The compiled expression. */
  readonly regex: RegExp;
  /** nmap service name. */
  readonly service: string;
  /** Product name; a rule with a product ends probing (a "hard" match). */
  readonly product?: string;
  /** Version template, `$1`..`$9` are capture groups. */
  readonly version?: string;
  /** CPE 2.3 templates; an unmatched group becomes `*`. */
  readonly cpe?: readonly string[];
  /** Free-text template, e.g. "protocol $2". */
  readonly info?: string;
  /** File and index, for messages. */
  readonly origin: string;
}

/** Everything identifyService needs to know, immutable once loaded. */
export interface FingerprintDb {
  /** Probes by name, in file order. */
  readonly probes: ReadonlyMap<string, ProbeDef>;
  /** Probe names to try first on a port (after null). */
  readonly portHints: ReadonlyMap<number, readonly string[]>;
  /** Probe order for the rest. */
  readonly defaultOrder: readonly string[];
  /** Rules by probe or decoder name, in priority order. */
  readonly rules: ReadonlyMap<string, readonly FingerprintEntry[]>;
}

/**
 * Why a fingerprint file was refused; the message names file, entry and problem. A start-up
 * error: a process given a bad fingerprint file stops (the CLI exits 2) before it scans.
 */
export class FingerprintError extends StartupError {
  constructor(message: string) {
    super(message);
    this.name = 'FingerprintError';
  }
}

/** The bundled database file, resolved from the compiled module (dist/src/discovery). */
export const BUNDLED_FINGERPRINTS = fileURLToPath(
  new URL('../../../data/fingerprints.json', import.meta.url),
);

/** The most text a rule ever sees, so that matching cost stays bounded. */
export const MATCH_TEXT_LIMIT = 16 * 1024;

const ENTRY_FIELDS = new Set([
  'probe',
  'pattern',
  'flags',
  'service',
  'product',
  'version',
  'cpe',
  'info',
]);
const PROBE_FIELDS = new Set([
  'name',
  'kind',
  'tls',
  'send',
  'afterBanner',
  'readTimeoutMs',
  'decoders',
  'matchAs',
  'services',
]);
const TOP_FIELDS = new Set(['$comment', 'probes', 'portHints', 'defaultOrder', 'fingerprints']);
const SERVICE_NAME = /^[a-z0-9][a-z0-9._/-]{0,39}$/;
const TEMPLATE_GROUP = /\$(\d)/g;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface RawFile {
  readonly file: string;
  readonly probes: unknown[];
  readonly portHints: Record<string, unknown>;
  readonly defaultOrder: unknown[];
  readonly fingerprints: unknown[];
}

function readRaw(file: string): RawFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new FingerprintError(`fingerprint file ${file}: cannot be read (${code})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new FingerprintError(
      `fingerprint file ${file}: not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (!isRecord(doc)) throw new FingerprintError(`fingerprint file ${file}: expected an object`);
  for (const key of Object.keys(doc)) {
    if (!TOP_FIELDS.has(key)) {
      throw new FingerprintError(
        `fingerprint file ${file}: unknown field "${key}" (expected ${[...TOP_FIELDS].join(', ')})`,
      );
    }
  }
  const list = (key: string): unknown[] => {
    const value = doc[key];
    if (value === undefined) return [];
    if (!Array.isArray(value))
      throw new FingerprintError(`fingerprint file ${file}: "${key}" must be an array`);
    return value;
  };
  const hints = doc.portHints ?? {};
  if (!isRecord(hints))
    throw new FingerprintError(`fingerprint file ${file}: "portHints" must be an object`);
  return {
    file,
    probes: list('probes'),
    portHints: hints,
    defaultOrder: list('defaultOrder'),
    fingerprints: list('fingerprints'),
  };
}

function stringList(value: unknown, where: string, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new FingerprintError(`${where}: "${field}" must be an array of strings`);
  }
  return value;
}

function parseProbe(value: unknown, where: string): ProbeDef {
  if (!isRecord(value)) throw new FingerprintError(`${where}: expected an object`);
  for (const key of Object.keys(value)) {
    if (!PROBE_FIELDS.has(key)) throw new FingerprintError(`${where}: unknown field "${key}"`);
  }
  const { name, kind = 'raw', tls = false, send = '', afterBanner = false } = value;
  if (typeof name !== 'string' || !/^[a-z0-9-]{1,40}$/.test(name)) {
    throw new FingerprintError(`${where}: "name" must be 1-40 characters a-z, 0-9 or -`);
  }
  if (kind !== 'raw' && kind !== 'http')
    throw new FingerprintError(`${where}: "kind" must be "raw" or "http"`);
  if (typeof tls !== 'boolean') throw new FingerprintError(`${where}: "tls" must be a boolean`);
  if (typeof afterBanner !== 'boolean')
    throw new FingerprintError(`${where}: "afterBanner" must be a boolean`);
  if (typeof send !== 'string') throw new FingerprintError(`${where}: "send" must be a string`);
  for (let i = 0; i < send.length; i++) {
    if (send.charCodeAt(i) > 0xff) {
      throw new FingerprintError(
        `${where}: "send" character ${i} is above \\u00ff (one character stands for one byte)`,
      );
    }
  }
  if (kind === 'http' && send !== '')
    throw new FingerprintError(`${where}: an http probe builds its own request; drop "send"`);
  const timeout = value.readTimeoutMs;
  if (
    timeout !== undefined &&
    (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > 60_000)
  ) {
    throw new FingerprintError(`${where}: "readTimeoutMs" must be an integer 1..60000`);
  }
  const decoders = stringList(value.decoders, where, 'decoders');
  for (const decoder of decoders) {
    if (!(DECODERS as readonly string[]).includes(decoder)) {
      throw new FingerprintError(
        `${where}: unknown decoder "${decoder}" (known: ${DECODERS.join(', ')})`,
      );
    }
  }
  return {
    name,
    kind,
    tls,
    send: Buffer.from(send, 'latin1'),
    afterBanner,
    ...(timeout === undefined ? {} : { readTimeoutMs: timeout }),
    decoders: decoders as DecoderName[],
    matchAs: stringList(value.matchAs, where, 'matchAs'),
    services: stringList(value.services, where, 'services'),
  };
}

function optionalString(record: Record<string, unknown>, field: string, where: string) {
  const value = record[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
    throw new FingerprintError(
      `${where}: "${field}" must be a non-empty string of ≤200 characters`,
    );
  }
  return value;
}

function parseEntry(value: unknown, where: string): FingerprintEntry {
  if (!isRecord(value)) throw new FingerprintError(`${where}: expected an object`);
  for (const key of Object.keys(value)) {
    if (!ENTRY_FIELDS.has(key)) {
      throw new FingerprintError(
        `${where}: unknown field "${key}" (expected ${[...ENTRY_FIELDS].join(', ')})`,
      );
    }
  }
  const { probe, pattern, flags = '', service } = value;
  if (typeof probe !== 'string' || probe.length === 0)
    throw new FingerprintError(`${where}: "probe" must be a probe or decoder name`);
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > 1000)
    throw new FingerprintError(`${where}: "pattern" must be a regex source of 1-1000 characters`);
  if (typeof flags !== 'string' || !/^[imsu]*$/.test(flags))
    throw new FingerprintError(`${where}: "flags" may only hold i, m, s and u`);
  if (typeof service !== 'string' || !SERVICE_NAME.test(service))
    throw new FingerprintError(`${where}: "service" must be an nmap-style service name`);
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, flags);
  } catch (error) {
    throw new FingerprintError(
      `${where}: invalid regex: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const groups = new RegExp(`${pattern}|`, flags).exec('')!.length - 1;
  const product = optionalString(value, 'product', where);
  const version = optionalString(value, 'version', where);
  const info = optionalString(value, 'info', where);
  const cpeValue = value.cpe;
  let cpe: string[] | undefined;
  if (cpeValue !== undefined) {
    const list = typeof cpeValue === 'string' ? [cpeValue] : cpeValue;
    if (
      !Array.isArray(list) ||
      !list.every((c) => typeof c === 'string' && c.startsWith('cpe:2.3:'))
    ) {
      throw new FingerprintError(`${where}: "cpe" must be a "cpe:2.3:..." string or an array`);
    }
    cpe = list as string[];
  }
  for (const template of [version, info, ...(cpe ?? [])]) {
    if (template === undefined) continue;
    for (const m of template.matchAll(TEMPLATE_GROUP)) {
      if (Number(m[1]) > groups) {
        throw new FingerprintError(
          `${where}: template "${template}" uses $${m[1]!} but the pattern has ${groups} group(s)`,
        );
      }
    }
  }
  return {
    probe,
    pattern,
    regex,
    service,
    ...(product === undefined ? {} : { product }),
    ...(version === undefined ? {} : { version }),
    ...(cpe === undefined ? {} : { cpe }),
    ...(info === undefined ? {} : { info }),
    origin: where,
  };
}

/** What one fingerprint file defines, for `surfacescan fingerprints check`. */
export interface FingerprintFileSummary {
  readonly file: string;
  /** Names of the probes it adds. */
  readonly probes: readonly string[];
  /** Number of match rules. */
  readonly rules: number;
  /** Ports it gives probe hints for. */
  readonly portHints: readonly number[];
}

/**
 * Summarises each extra file after validating them together with the bundled database (a
 * file may use probes another file defines). Throws FingerprintError.
 */
export function summarizeFingerprintFiles(paths: readonly string[]): FingerprintFileSummary[] {
  loadFingerprints(paths);
  return paths.map((path) => {
    const raw = readRaw(path);
    return {
      file: path,
      probes: raw.probes.map((p) => (p as { name: string }).name),
      rules: raw.fingerprints.length,
      portHints: Object.keys(raw.portHints).map(Number),
    };
  });
}

/**
 * Loads the bundled database plus any extra files. Extra files use the same format; their
 * probes are added (a probe may not be redefined), their port hints replace the bundled ones
 * for the same port, and their rules are tried before the bundled ones so a user can override.
 */
export function loadFingerprints(extraPaths: readonly string[] = []): FingerprintDb {
  const files = [BUNDLED_FINGERPRINTS, ...extraPaths].map(readRaw);
  const probes = new Map<string, ProbeDef>();
  const portHints = new Map<number, readonly string[]>();
  const defaultOrder: string[] = [];
  const entriesByFile: FingerprintEntry[][] = [];
  const probeFile = new Map<string, string>();
  // Probes of every file first, so that any file may refer to any probe.
  for (const raw of files) {
    raw.probes.forEach((value, index) => {
      const probe = parseProbe(value, `fingerprint file ${raw.file}: probes[${index}]`);
      if (probes.has(probe.name)) {
        throw new FingerprintError(
          `fingerprint file ${raw.file}: probes[${index}]: probe "${probe.name}" is defined twice`,
        );
      }
      probes.set(probe.name, probe);
      probeFile.set(probe.name, `fingerprint file ${raw.file}: probes[${index}]`);
    });
  }
  const checkProbe = (name: string, where: string): void => {
    if (!probes.has(name)) throw new FingerprintError(`${where}: unknown probe "${name}"`);
  };
  for (const probe of probes.values()) {
    for (const name of probe.matchAs) checkProbe(name, `${probeFile.get(probe.name)!} matchAs`);
  }
  for (const raw of files) {
    for (const [key, value] of Object.entries(raw.portHints)) {
      const where = `fingerprint file ${raw.file}: portHints["${key}"]`;
      const port = Number(key);
      if (!/^\d{1,5}$/.test(key) || port < 1 || port > 65535)
        throw new FingerprintError(`${where}: key must be a port number 1..65535`);
      const names = stringList(value, where, 'hint');
      for (const name of names) checkProbe(name, where);
      portHints.set(port, names);
    }
    raw.defaultOrder.forEach((value, index) => {
      const where = `fingerprint file ${raw.file}: defaultOrder[${index}]`;
      if (typeof value !== 'string') throw new FingerprintError(`${where}: expected a probe name`);
      checkProbe(value, where);
      if (!defaultOrder.includes(value)) defaultOrder.push(value);
    });
    entriesByFile.push(
      raw.fingerprints.map((value, index) =>
        parseEntry(value, `fingerprint file ${raw.file}: fingerprints[${index}]`),
      ),
    );
  }
  const namespaces = new Set<string>([...probes.keys(), ...DECODERS]);
  const rules = new Map<string, FingerprintEntry[]>();
  // Extra files first: a user's rule wins over a bundled one.
  for (const entries of [...entriesByFile.slice(1), entriesByFile[0] ?? []]) {
    for (const entry of entries) {
      if (!namespaces.has(entry.probe)) {
        throw new FingerprintError(
          `${entry.origin}: unknown probe "${entry.probe}" (known: ${[...namespaces].join(', ')})`,
        );
      }
      const list = rules.get(entry.probe) ?? [];
      list.push(entry);
      rules.set(entry.probe, list);
    }
  }
  // Probes not named in defaultOrder still run, after the ordered ones.
  for (const name of probes.keys()) if (!defaultOrder.includes(name)) defaultOrder.push(name);
  return { probes, portHints, defaultOrder, rules };
}

/** What a rule says about a service. */
export interface MatchResult {
  /** nmap service name. */
  readonly service: string;
  /** Product, when the rule names one. */
  readonly product?: string;
  /** Version from the rule's template, when its groups matched. */
  readonly version?: string;
  /** CPE 2.3 names, `*` where a group did not match. */
  readonly cpe?: readonly string[];
  /** Free text, e.g. the distribution's package suffix. */
  readonly info?: string;
  /** A product was named: probing may stop. */
  readonly hard: boolean;
}

function expand(template: string, groups: RegExpExecArray, missing: string): string {
  return template.replace(TEMPLATE_GROUP, (_, n: string) => {
    const value = groups[Number(n)];
    return value === undefined || value === '' ? missing : value;
  });
}

/** CPE components must not hold spaces or unescaped specials; versions rarely need more. */
function cpeComponent(value: string): string {
  return value.replace(/[^A-Za-z0-9._~-]/g, (c) => `\\${c}`);
}

/** Tries the rules of `namespace` in order against `text` (capped) and returns the first hit. */
export function matchRules(
  db: FingerprintDb,
  namespace: string,
  text: string,
): MatchResult | undefined {
  const rules = db.rules.get(namespace);
  if (rules === undefined) return undefined;
  const capped = text.length > MATCH_TEXT_LIMIT ? text.slice(0, MATCH_TEXT_LIMIT) : text;
  for (const rule of rules) {
    const groups = rule.regex.exec(capped);
    if (groups === null) continue;
    const version =
      rule.version === undefined ? undefined : expand(rule.version, groups, '').trim();
    const info = rule.info === undefined ? undefined : expand(rule.info, groups, '').trim();
    const cpe = rule.cpe?.map((template) =>
      template.replace(TEMPLATE_GROUP, (_, n: string) => {
        const value = groups[Number(n)];
        return value === undefined || value === '' ? '*' : cpeComponent(value);
      }),
    );
    return {
      service: rule.service,
      ...(rule.product === undefined ? {} : { product: rule.product }),
      ...(version === undefined || version === '' ? {} : { version }),
      ...(cpe === undefined ? {} : { cpe }),
      ...(info === undefined || info === '' ? {} : { info }),
      hard: rule.product !== undefined,
    };
  }
  return undefined;
}
