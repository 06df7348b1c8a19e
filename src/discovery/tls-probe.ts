/**
 * What a TLS handshake tells about a service: protocol, cipher and the presented chain, each
 * certificate parsed with node:crypto. Bounded: at most `maxChain` certificates, and a
 * certificate larger than `maxCertBytes` ends the chain there rather than being parsed.
 */
import { X509Certificate, createHash } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { TlsCertificate, TlsInfo } from '#src/discovery/discovery.model.js';

/** Bounds of a chain capture. */
export interface TlsCaptureLimits {
  /** Most certificates kept, leaf first. */
  readonly maxChain: number;
  /** A certificate with a larger DER is not parsed and ends the chain. */
  readonly maxCertBytes: number;
}

/** Defaults: real chains have 2-4 certificates of 1-3 KiB each. */
export const DEFAULT_TLS_LIMITS: TlsCaptureLimits = { maxChain: 10, maxCertBytes: 64 * 1024 };

const CURVE_BITS: Record<string, number> = {
  prime256v1: 256,
  secp256k1: 256,
  secp384r1: 384,
  secp521r1: 521,
  secp224r1: 224,
  prime192v1: 192,
  brainpoolP256r1: 256,
  brainpoolP384r1: 384,
  brainpoolP512r1: 512,
};

function attribute(name: string, key: string): string | undefined {
  for (const line of name.split('\n')) {
    if (line.startsWith(`${key}=`)) return line.slice(key.length + 1);
  }
  return undefined;
}

function isoDate(text: string): string {
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

/** subjectAltName text ("DNS:a, IP Address:1.2.3.4, ...") to names, at most `limit`. */
function sansOf(text: string | undefined, limit = 200): string[] {
  if (text === undefined) return [];
  const out: string[] = [];
  for (const part of text.split(/,\s*/)) {
    const match = /^(?:DNS|IP Address):"?([^"]*)"?$/.exec(part.trim());
    if (match?.[1] !== undefined && match[1] !== '') out.push(match[1]);
    if (out.length >= limit) break;
  }
  return out;
}

/** One certificate as the finding records it. */
export function certificateInfo(der: Buffer): TlsCertificate {
  const cert = new X509Certificate(der);
  const subjectOrg = attribute(cert.subject, 'O');
  const issuerOrg = attribute(cert.issuer, 'O');
  let selfSigned = false;
  if (cert.issuer === cert.subject) {
    try {
      selfSigned = cert.verify(cert.publicKey);
    } catch {
      selfSigned = false;
    }
  }
  const key = cert.publicKey;
  const keyType = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  let keyBits: number | undefined = details?.modulusLength;
  if (keyBits === undefined && details?.namedCurve !== undefined)
    keyBits = CURVE_BITS[details.namedCurve];
  if (keyBits === undefined && keyType === 'ed25519') keyBits = 256;
  if (keyBits === undefined && keyType === 'ed448') keyBits = 448;
  return {
    subject: cert.subject.split('\n').join(', '),
    ...(subjectOrg === undefined ? {} : { subjectOrg }),
    issuer: cert.issuer.split('\n').join(', '),
    ...(issuerOrg === undefined ? {} : { issuerOrg }),
    sans: sansOf(cert.subjectAltName),
    validFrom: isoDate(cert.validFrom),
    validTo: isoDate(cert.validTo),
    selfSigned,
    ...(keyType === undefined ? {} : { keyType }),
    ...(keyBits === undefined ? {} : { keyBits }),
    sha256: createHash('sha256').update(der).digest('hex'),
    serial: cert.serialNumber.toUpperCase(),
  };
}

/** The DER certificates the peer presented, leaf first, bounded by `limits`. */
export function presentedChain(socket: TLSSocket, limits: TlsCaptureLimits): Buffer[] {
  const out: Buffer[] = [];
  // Typed loosely on purpose: with no certificate node returns {}, and the last link may lack
  // issuerCertificate, whatever the declarations say.
  type Link = Partial<DetailedPeerCertificate> | undefined;
  let current = socket.getPeerCertificate(true) as Link;
  const seen = new Set<Link>();
  while (current?.raw !== undefined && out.length < limits.maxChain && !seen.has(current)) {
    if (current.raw.length > limits.maxCertBytes) break;
    seen.add(current);
    out.push(current.raw);
    // OpenSSL links a self-issued root to itself; the seen set ends that loop.
    current = current.issuerCertificate;
  }
  return out;
}

/** Protocol, cipher and parsed chain of an established TLS connection. */
export function captureTls(
  socket: TLSSocket,
  limits: TlsCaptureLimits = DEFAULT_TLS_LIMITS,
): TlsInfo {
  const chain: TlsCertificate[] = [];
  for (const der of presentedChain(socket, limits)) {
    try {
      chain.push(certificateInfo(der));
    } catch {
      // A certificate node:crypto cannot parse ends the chain; what came before is kept.
      break;
    }
  }
  const protocol = socket.getProtocol();
  const cipher = socket.getCipher() as { name?: string } | undefined;
  return {
    ...(protocol === null ? {} : { protocol }),
    ...(cipher?.name === undefined ? {} : { cipher: cipher.name }),
    chain,
  };
}
