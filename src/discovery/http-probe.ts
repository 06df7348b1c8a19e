/**
 * A minimal HTTP/1.1 GET over a BoundedConnection, and what it captures (status, Server,
 * X-Powered-By, Location, <title>, favicon hash). node:http is not used on purpose: it cannot
 * bound the header bytes of one request cleanly (only a process-wide maxHeaderSize), and it
 * throws on the malformed responses that embedded devices send; here every response is bytes
 * read within a byte and time budget, parsed as leniently as a browser would.
 */
import type { HttpInfo } from '#src/discovery/discovery.model.js';
import type { BoundedConnection, Endpoint } from '#src/discovery/bounded-socket.js';
import { faviconHash } from '#src/discovery/mmh3.js';

/** A parsed (possibly partial) response. */
export interface HttpResponse {
  /** Status code from the status line. */
  readonly status: number;
  /** Lower-case header names, first value of each, at most 100 headers. */
  readonly headers: ReadonlyMap<string, string>;
  /** The body, de-chunked, as far as it was read. */
  readonly body: Buffer;
  /** Whether the whole body was read (Content-Length met, last chunk, or close). */
  readonly complete: boolean;
}

/** The Host header value for an endpoint (port left out when it is the scheme's default). */
export function hostHeader(endpoint: Endpoint, tls: boolean): string {
  const name = endpoint.hostname ?? (endpoint.ip.includes(':') ? `[${endpoint.ip}]` : endpoint.ip);
  return endpoint.port === (tls ? 443 : 80) ? name : `${name}:${endpoint.port}`;
}

/** The request bytes of GET `path`. */
export function getRequest(host: string, path: string): Buffer {
  return Buffer.from(
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: Mozilla/5.0 (compatible; surfacescan)\r\n` +
      'Accept: */*\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n',
    'latin1',
  );
}

function headEnd(data: Buffer): { end: number; sep: number } | undefined {
  const crlf = data.indexOf('\r\n\r\n');
  const lf = data.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { end: crlf, sep: 4 };
  if (lf >= 0) return { end: lf, sep: 2 };
  return undefined;
}

/** Decodes a chunked body as far as it is well formed. */
function dechunk(data: Buffer): { body: Buffer; complete: boolean } {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\n', at);
    if (lineEnd < 0) return { body: Buffer.concat(parts), complete: false };
    const size = Number.parseInt(data.toString('latin1', at, lineEnd).trim().split(';')[0]!, 16);
    if (!Number.isFinite(size) || size < 0) return { body: Buffer.concat(parts), complete: false };
    if (size === 0) return { body: Buffer.concat(parts), complete: true };
    const start = lineEnd + 1;
    parts.push(data.subarray(start, Math.min(start + size, data.length)));
    if (start + size > data.length) return { body: Buffer.concat(parts), complete: false };
    at = start + size;
    if (data[at] === 0x0d) at++;
    if (data[at] === 0x0a) at++;
  }
}

/**
 * Parses what was read. Lenient: bare LF line ends, missing reason phrase, headers without the
 * blank line (cut off) are all accepted; anything whose first line is not `HTTP/x.y NNN` is not
 * HTTP and gives undefined.
 */
export function parseHttpResponse(data: Buffer, closed = true): HttpResponse | undefined {
  const statusLine = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(data.toString('latin1', 0, 32));
  if (statusLine === null) return undefined;
  const head = headEnd(data);
  const headText = data.toString('latin1', 0, head?.end ?? data.length);
  const headers = new Map<string, string>();
  for (const line of headText.split('\n').slice(1, 101)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  const status = Number(statusLine[1]);
  if (head === undefined) return { status, headers, body: Buffer.alloc(0), complete: false };
  const rest = data.subarray(head.end + head.sep);
  if (headers.get('transfer-encoding')?.toLowerCase().includes('chunked') === true) {
    const { body, complete } = dechunk(rest);
    return { status, headers, body, complete };
  }
  const length = Number(headers.get('content-length') ?? Number.NaN);
  if (Number.isInteger(length) && length >= 0) {
    return {
      status,
      headers,
      body: rest.subarray(0, length),
      complete: rest.length >= length,
    };
  }
  const bodyless = (status >= 100 && status < 200) || status === 204 || status === 304;
  return { status, headers, body: bodyless ? Buffer.alloc(0) : rest, complete: bodyless || closed };
}

/** Whether what was read so far is a whole response (so the read need not wait for close). */
export function responseComplete(data: Buffer): boolean {
  if (headEnd(data) === undefined) return false;
  const response = parseHttpResponse(data, false);
  return response === undefined || response.complete;
}

/** Sends GET `path` and reads the answer within the limits. */
export async function httpGet(
  connection: BoundedConnection,
  host: string,
  path: string,
  limits: { readonly timeoutMs: number; readonly idleMs: number },
): Promise<{ raw: Buffer; response: HttpResponse | undefined }> {
  connection.write(getRequest(host, path));
  const raw = await connection.read({ ...limits, complete: responseComplete });
  return { raw, response: parseHttpResponse(raw, connection.finished) };
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,6});/gi, (whole, name: string) => {
    if (name.startsWith('#')) {
      const code =
        name[1] === 'x' || name[1] === 'X'
          ? Number.parseInt(name.slice(2), 16)
          : Number(name.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** The first <title>, entities decoded, whitespace collapsed, at most 200 characters. */
export function extractTitle(body: Buffer): string | undefined {
  // Searching lower-cased latin1 keeps offsets equal to byte offsets, and indexOf is linear.
  const lower = body.toString('latin1').toLowerCase();
  const open = lower.indexOf('<title');
  if (open < 0) return undefined;
  const contentStart = lower.indexOf('>', open);
  if (contentStart < 0) return undefined;
  let close = lower.indexOf('</title', contentStart);
  if (close < 0) close = Math.min(lower.length, contentStart + 1 + 2000);
  const raw = new TextDecoder('utf-8').decode(body.subarray(contentStart + 1, close));
  const title = decodeEntities(raw).replace(/\s+/g, ' ').trim();
  if (title === '') return undefined;
  // Cut by code points, not UTF-16 units, so no surrogate half is left at the end.
  // eslint-disable-next-line @typescript-eslint/no-misused-spread
  return [...title].slice(0, 200).join('');
}

/** What the finding records of a response. */
export function httpInfo(response: HttpResponse, favicon?: number): HttpInfo {
  const cap = (value: string | undefined): string | undefined =>
    value === undefined ? undefined : value.slice(0, 300);
  const server = cap(response.headers.get('server'));
  const poweredBy = cap(response.headers.get('x-powered-by'));
  const location = cap(response.headers.get('location'));
  const title = extractTitle(response.body);
  return {
    status: response.status,
    ...(server === undefined ? {} : { server }),
    ...(poweredBy === undefined ? {} : { poweredBy }),
    ...(title === undefined ? {} : { title }),
    ...(location === undefined ? {} : { location }),
    ...(favicon === undefined ? {} : { faviconHash: favicon }),
  };
}

/** The favicon hash of a /favicon.ico response, when it is a whole, non-empty 200. */
export function faviconHashOf(response: HttpResponse | undefined): number | undefined {
  if (response?.status !== 200 || !response.complete || response.body.length === 0)
    return undefined;
  const type = response.headers.get('content-type') ?? '';
  // A 200 with an HTML page is a catch-all route, not an icon.
  if (type.toLowerCase().startsWith('text/html')) return undefined;
  return faviconHash(response.body);
}
