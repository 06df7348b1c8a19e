/**
 * The shape every discovery source hands on: the connect scanner with its probes, and the
 * nmap XML and masscan JSON importers all produce ServiceFinding records, so that storage and
 * the issue policies never care where a finding came from.
 */

/** A certificate as captured from a TLS handshake (one entry of the presented chain). */
export interface TlsCertificate {
  /** Subject as one line, e.g. "CN=example.com, O=Example Inc". */
  readonly subject: string;
  /** The subject's O= attribute, when present. */
  readonly subjectOrg?: string;
  /** Issuer as one line. */
  readonly issuer: string;
  /** The issuer's O= attribute, when present. */
  readonly issuerOrg?: string;
  /** DNS names and IP addresses from subjectAltName. */
  readonly sans: readonly string[];
  /** Validity start, ISO 8601. */
  readonly validFrom: string;
  /** Validity end, ISO 8601. */
  readonly validTo: string;
  /** Issuer equals subject and the signature verifies with the certificate's own key. */
  readonly selfSigned: boolean;
  /** "rsa", "ec", "ed25519", ... */
  readonly keyType?: string;
  /** Modulus length (RSA) or curve size (EC), in bits. */
  readonly keyBits?: number;
  /** SHA-256 of the DER, lower-case hex without separators. */
  readonly sha256: string;
  /** Serial number, upper-case hex. */
  readonly serial: string;
}

/** What a TLS handshake told us. */
export interface TlsInfo {
  /** Negotiated protocol, e.g. "TLSv1.3". */
  readonly protocol?: string;
  /** Negotiated cipher name. */
  readonly cipher?: string;
  /** Leaf first. */
  readonly chain: readonly TlsCertificate[];
}

/** What an HTTP GET / told us. */
export interface HttpInfo {
  readonly status: number;
  /** The Server header. */
  readonly server?: string;
  /** The X-Powered-By header. */
  readonly poweredBy?: string;
  /** Text of the first <title>, whitespace collapsed, at most 200 characters. */
  readonly title?: string;
  /** The Location header of a redirect. */
  readonly location?: string;
  /** Shodan-style favicon hash: signed 32-bit MurmurHash3 of the base64 (76-column lines). */
  readonly faviconHash?: number;
}

/** Where a finding came from. */
export type FindingSource = 'scan' | 'nmap' | 'masscan';

/** One open TCP port and what runs on it. */
export interface ServiceFinding {
  /** IPv4 or IPv6 address, canonical text form. */
  readonly ip: string;
  readonly port: number;
  readonly protocol: 'tcp';
  /** The host name this port was identified under (sent as TLS SNI and HTTP Host), when the
   * scan reached the address through a name; the TLS and HTTP facts are that name's. */
  readonly hostname?: string;
  /** On a service's latest finding only: every name the port was identified under in that run
   * (at most 8), first the one whose facts this finding shows. Each name's own finding is an
   * observation of the service. */
  readonly hostnames?: readonly string[];
  /** nmap-style service name: ssh, ftp, http, https, telnet, smtp, mysql, postgresql, redis,
   * rsync, microsoft-ds, netbios-ssn, ms-wbt-server, memcached, mongodb, elasticsearch, ... */
  readonly service?: string;
  /** Product name as a fingerprint names it, e.g. "OpenSSH", "nginx", "vsftpd". */
  readonly product?: string;
  readonly version?: string;
  /** CPE 2.3 names, e.g. "cpe:2.3:a:openbsd:openssh:9.2p1:*:*:*:*:*:*:*". */
  readonly cpe?: readonly string[];
  /** The first bytes the service sent (or answered to a probe), printable with \xNN escapes,
   * at most 1024 characters. */
  readonly banner?: string;
  readonly tls?: TlsInfo;
  readonly http?: HttpInfo;
  /** Protocol facts a policy may test, e.g. {"auth": "none"} for an open Redis. */
  readonly extra?: Readonly<Record<string, string>>;
}
