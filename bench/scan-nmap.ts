/**
 * The nmap half of `npm run bench:scan`: runs the Debian package's nmap as a child process on
 * loopback targets and reads its XML report (-oX -). The parse is deliberately minimal (ports,
 * states and service names only) so the benchmark does not depend on the importer it measures
 * against.
 */
import { execFile } from 'node:child_process';
import { isIP } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A service as nmap names it. */
export interface NmapService {
  /** nmap's service name, e.g. ftp, ssh, http, mysql. */
  readonly name: string;
  /** The product, e.g. vsftpd, OpenSSH, nginx (only when nmap recognised it). */
  readonly product?: string;
  /** The product's version, as nmap reports it. */
  readonly version?: string;
  /** nmap's extra information, e.g. "protocol 2.0". */
  readonly extrainfo?: string;
}

/** One port of nmap's report. */
export interface NmapPort {
  /** The TCP port. */
  readonly port: number;
  /** open, closed, filtered, ... */
  readonly state: string;
  /** What runs there, if nmap said. */
  readonly service?: NmapService;
}

/** Result of an all-ports connect scan. */
export interface FullConnectResult {
  /** Wall-clock seconds of the nmap run (process start to exit). */
  readonly seconds: number;
  /** Open TCP ports, ascending. */
  readonly openPorts: number[];
}

/** Result of a service-detection run. */
export interface ServiceDetectResult {
  /** Wall-clock seconds of the nmap run. */
  readonly seconds: number;
  /** Services on the open ports among those asked for. */
  readonly services: Map<number, NmapService>;
}

/** The XML predefined entities and numeric character references, decoded. */
function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, entity: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (entity.startsWith('#x') || entity.startsWith('#X')) {
      return String.fromCodePoint(parseInt(entity.slice(2), 16));
    }
    if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)));
    return named[entity.toLowerCase()] ?? '';
  });
}

/** The attributes of the first `<tag ...>` in `xml` (undefined when there is none). */
function attributes(xml: string, tag: string): Map<string, string> | undefined {
  const element = new RegExp(`<${tag}\\s([^>]*?)/?>`).exec(xml);
  if (element === null) return undefined;
  const found = new Map<string, string>();
  for (const [, name, value] of (element[1] ?? '').matchAll(/([\w:-]+)="([^"]*)"/g)) {
    if (name !== undefined && value !== undefined) found.set(name, unescapeXml(value));
  }
  return found;
}

/** The TCP ports of an nmap -oX report, with their states and services. */
export function parseNmapPorts(xml: string): NmapPort[] {
  const ports: NmapPort[] = [];
  for (const [element] of xml.matchAll(/<port\s[^>]*?(?:\/>|>[^]*?<\/port>)/g)) {
    const port = attributes(element, 'port');
    if (port?.get('protocol') !== 'tcp') continue;
    const number = Number(port.get('portid'));
    const state = attributes(element, 'state')?.get('state') ?? 'unknown';
    const service = attributes(element, 'service');
    const name = service?.get('name');
    const product = service?.get('product');
    const version = service?.get('version');
    const extrainfo = service?.get('extrainfo');
    ports.push({
      port: number,
      state,
      ...(name === undefined
        ? {}
        : {
            service: {
              name,
              ...(product === undefined ? {} : { product }),
              ...(version === undefined ? {} : { version }),
              ...(extrainfo === undefined ? {} : { extrainfo }),
            },
          }),
    });
  }
  return ports;
}

/** Benchmarks scan loopback only: anything else is refused before nmap runs. */
function assertLoopback(host: string): void {
  if (isIP(host) !== 4 || !host.startsWith('127.')) {
    throw new Error(`the scan benchmark targets 127.0.0.0/8 only, not ${host}`);
  }
}

/** Runs nmap with `args` plus -oX - and returns its XML report and the wall-clock seconds. */
async function nmap(args: readonly string[]): Promise<{ xml: string; seconds: number }> {
  const started = process.hrtime.bigint();
  const { stdout } = await run('nmap', [...args, '-oX', '-'], {
    maxBuffer: 64 * 1024 * 1024,
    timeout: 30 * 60_000,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (!stdout.includes('</nmaprun>')) throw new Error('nmap wrote no complete XML report');
  return { xml: stdout, seconds };
}

/** nmap's version line ("Nmap version 7.93 ..."), or undefined when nmap is not installed. */
export async function nmapVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await run('nmap', ['--version']);
    return stdout.split('\n')[0]?.trim();
  } catch {
    return undefined;
  }
}

/** `nmap -sT -T4 -p- -n -Pn HOST`: every TCP port by full connect; the open ones. */
export async function nmapFullConnect(host = '127.0.0.1'): Promise<FullConnectResult> {
  assertLoopback(host);
  const { xml, seconds } = await nmap(['-sT', '-T4', '-p-', '-n', '-Pn', host]);
  const openPorts = parseNmapPorts(xml)
    .filter((p) => p.state === 'open')
    .map((p) => p.port)
    .sort((a, b) => a - b);
  return { seconds, openPorts };
}

/** `nmap -sV -sT -n -Pn -p PORTS HOST`: what runs on each of `ports` that is open. */
export async function nmapServiceDetect(
  host: string,
  ports: readonly number[],
): Promise<ServiceDetectResult> {
  assertLoopback(host);
  if (ports.length === 0) return { seconds: 0, services: new Map() };
  const { xml, seconds } = await nmap(['-sV', '-sT', '-n', '-Pn', '-p', ports.join(','), host]);
  const services = new Map<number, NmapService>();
  for (const p of parseNmapPorts(xml)) {
    if (p.state === 'open' && p.service !== undefined) services.set(p.port, p.service);
  }
  return { seconds, services };
}
