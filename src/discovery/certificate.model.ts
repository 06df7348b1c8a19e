/**
 * A TlsCertificate from the certificate itself (DER or PEM), using node:crypto's X509 parser.
 * Importers get certificates as text (nmap's ssl-cert PEM, masscan's base64 X509 banner);
 * deriving every field from the certificate keeps them identical to what a live handshake gives.
 */
import { X509Certificate } from 'node:crypto';
import type { TlsCertificate } from '#src/discovery/discovery.model.js';
import { compact } from '#src/discovery/import-result.model.js';

const CURVE_BITS: Readonly<Record<string, number>> = {
  prime256v1: 256,
  secp256k1: 256,
  secp384r1: 384,
  secp521r1: 521,
  secp224r1: 224,
  brainpoolP256r1: 256,
  brainpoolP384r1: 384,
  brainpoolP512r1: 512,
};

/** node prints a distinguished name one attribute per line; ServiceFinding wants one line. */
function oneLine(name: string): string {
  return name
    .split('\n')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .join(', ');
}

function attribute(name: string, key: string): string | undefined {
  for (const line of name.split('\n')) {
    if (line.startsWith(`${key}=`)) return line.slice(key.length + 1);
  }
  return undefined;
}

/** subjectAltName as node prints it ("DNS:a, IP Address:1.2.3.4") to plain names. */
function sanList(text: string | undefined): string[] {
  if (text === undefined) return [];
  const out: string[] = [];
  for (const entry of text.split(', ')) {
    const colon = entry.indexOf(':');
    if (colon < 0) continue;
    const kind = entry.slice(0, colon);
    let value = entry.slice(colon + 1);
    if (value.startsWith('"') && value.endsWith('"')) value = JSON.parse(value) as string;
    if (kind === 'DNS' || kind === 'IP Address') out.push(value);
  }
  return out;
}

function keyFacts(cert: X509Certificate): { keyType?: string; keyBits?: number } {
  const key = cert.publicKey;
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  let bits = details?.modulusLength;
  if (bits === undefined && details?.namedCurve !== undefined)
    bits = CURVE_BITS[details.namedCurve];
  if (bits === undefined && type === 'ed25519') bits = 256;
  if (bits === undefined && type === 'ed448') bits = 456;
  return compact({ keyType: type, keyBits: bits });
}

/** The ServiceFinding view of one certificate (DER bytes or PEM text). Throws on bytes that are
 * not a certificate. */
export function certificateFacts(certificate: Buffer | string): TlsCertificate {
  const cert = new X509Certificate(certificate);
  const selfSigned = cert.checkIssued(cert) && cert.verify(cert.publicKey);
  return {
    ...compact({
      subject: oneLine(cert.subject),
      subjectOrg: attribute(cert.subject, 'O'),
      issuer: oneLine(cert.issuer),
      issuerOrg: attribute(cert.issuer, 'O'),
    }),
    sans: sanList(cert.subjectAltName),
    validFrom: new Date(cert.validFrom).toISOString(),
    validTo: new Date(cert.validTo).toISOString(),
    selfSigned,
    ...keyFacts(cert),
    sha256: cert.fingerprint256.replaceAll(':', '').toLowerCase(),
    serial: cert.serialNumber.toUpperCase(),
  };
}
