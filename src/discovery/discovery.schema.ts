/** Request and response schemas of the discovery API (organizations, scans, services, assets). */
import { Type } from 'typebox';

const Cidrs = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 10_000 });

/** An organization's seeds. */
export const Seeds = Type.Object(
  {
    domains: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), {
      maxItems: 10_000,
      description: 'Domains it owns; host names under them are in scope.',
    }),
    cidrs: { ...Cidrs, description: 'Address blocks it owns; addresses inside are in scope.' },
    asns: Type.Array(Type.Integer({ minimum: 0, maximum: 4_294_967_295 }), {
      maxItems: 10_000,
      description: 'Autonomous system numbers it announces (attribution evidence).',
    }),
    names: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
      maxItems: 1000,
      description: 'Names it registers under (attribution evidence), e.g. legal names.',
    }),
    excludes: Type.Optional({
      ...Cidrs,
      description: 'Blocks or addresses never to scan; they win over every inclusion.',
    }),
  },
  { additionalProperties: false },
);

/** POST /api/v1/organizations. */
export const NewOrganization = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: 'Unique display name.' }),
    seeds: Seeds,
  },
  { additionalProperties: false },
);

/** An organization. */
export const OrganizationAnswer = Type.Object({
  id: Type.String({ description: 'Stable id; routes accept it or the name.' }),
  name: Type.String({ description: 'Unique display name.' }),
  seeds: Seeds,
  createdAt: Type.String({ format: 'date-time', description: 'When it was created.' }),
});

/** POST /api/v1/scans. */
export const NewScan = Type.Object(
  {
    org: Type.String({ minLength: 1, maxLength: 200, description: 'Organization id or name.' }),
    targets: Type.Array(Type.String({ minLength: 1, maxLength: 260 }), {
      minItems: 1,
      maxItems: 10_000,
      description: 'IP addresses, CIDR blocks and host names; all must be in scope.',
    }),
    ports: Type.String({
      minLength: 1,
      maxLength: 10_000,
      description: 'e.g. "22,80,443", "1-1024", "top-100", "-" (all 65,535).',
    }),
    rate: Type.Optional(Type.Integer({ minimum: 1, description: 'Probes per second.' })),
    concurrency: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 8192, description: 'Connections in flight at most.' }),
    ),
    timeoutMs: Type.Optional(
      Type.Integer({ minimum: 50, maximum: 60_000, description: 'Connect timeout per probe.' }),
    ),
    retries: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 5, description: 'Extra tries of a filtered port.' }),
    ),
    parallelism: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 64, description: 'Shards that may run at once.' }),
    ),
    identify: Type.Optional(
      Type.Boolean({ description: 'Identify services on open ports (default true).' }),
    ),
  },
  { additionalProperties: false },
);

/** A scan with its progress. */
export const ScanAnswer = Type.Object({
  id: Type.String({ description: 'Scan id.' }),
  orgId: Type.String({ description: 'The organization whose scope it scans.' }),
  state: Type.Union(
    [
      Type.Literal('running'),
      Type.Literal('completed'),
      Type.Literal('failed'),
      Type.Literal('cancelled'),
    ],
    { description: 'running, completed, failed or cancelled.' },
  ),
  error: Type.Union([Type.String(), Type.Null()], { description: 'Why it failed, else null.' }),
  hosts: Type.Integer({ description: 'Addresses covered.' }),
  ports: Type.String({ description: 'Compact port list, e.g. "1-1024,3306".' }),
  options: Type.Unknown({ description: 'Rate, concurrency, timeout, retries, parallelism.' }),
  probesTotal: Type.Integer({ description: 'Host x port probes in the scan.' }),
  probesDone: Type.Integer({ description: 'Probes finished so far.' }),
  openFound: Type.Integer({ description: 'Open ports found so far.' }),
  shards: Type.Integer({ description: 'Shards the scan is split into.' }),
  shardsDone: Type.Integer({ description: 'Shards finished.' }),
  shardRestarts: Type.Integer({ description: 'Shard runs redone after a worker was lost.' }),
  createdAt: Type.String({ format: 'date-time', description: 'When it was planned.' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'When it ended; null while running.',
  }),
});

/** A service (one open or once-open TCP port). */
export const ServiceAnswer = Type.Object({
  id: Type.String({ description: 'The service asset id.' }),
  orgId: Type.Union([Type.String(), Type.Null()], { description: 'Owning organization.' }),
  ip: Type.String({ description: 'Address.' }),
  port: Type.Integer({ description: 'Port number.' }),
  protocol: Type.String({ description: 'Transport: tcp.' }),
  state: Type.Union([Type.Literal('open'), Type.Literal('closed')], {
    description: 'open, or closed once a complete scan no longer finds it.',
  }),
  service: Type.Union([Type.String(), Type.Null()], { description: 'Protocol, e.g. ssh.' }),
  product: Type.Union([Type.String(), Type.Null()], { description: 'e.g. OpenSSH.' }),
  version: Type.Union([Type.String(), Type.Null()], { description: 'Product version.' }),
  provider: Type.String({ description: 'Hosting provider, e.g. AWS or On Prem.' }),
  source: Type.String({
    description: 'scan, nmap or masscan: where the latest finding came from.',
  }),
  firstSeen: Type.String({ format: 'date-time', description: 'First observed.' }),
  lastSeen: Type.String({ format: 'date-time', description: 'Last observed.' }),
  finding: Type.Unknown({ description: 'Banner, CPEs, TLS chain, HTTP facts.' }),
});

/** A page of a list. */
export function Page<T extends ReturnType<typeof Type.Object>>(item: T) {
  return Type.Object({
    items: Type.Array(item, { description: 'This page.' }),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as cursor for the next page; null on the last page.',
    }),
    total: Type.Integer({ description: 'Items matching the filters, over all pages.' }),
  });
}

/** GET /api/v1/services query. */
export const ServiceQuery = Type.Object(
  {
    org: Type.Optional(Type.String({ maxLength: 200, description: 'Organization id or name.' })),
    state: Type.Optional(
      Type.Union([Type.Literal('open'), Type.Literal('closed')], {
        description: 'Open or closed.',
      }),
    ),
    q: Type.Optional(
      Type.String({ maxLength: 200, description: 'Text in the address, service or product.' }),
    ),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Port number.' })),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'Page size.' }),
    ),
    cursor: Type.Optional(
      Type.String({ maxLength: 500, description: 'nextCursor of the previous page.' }),
    ),
  },
  { additionalProperties: false },
);

/** An asset of the inventory. */
export const AssetAnswer = Type.Object({
  id: Type.String({ description: 'Asset id.' }),
  kind: Type.String({ description: 'ip, domain, certificate, service or vm.' }),
  key: Type.String({ description: 'Identity within the kind: an address, a domain, ip:port/tcp.' }),
  orgId: Type.Union([Type.String(), Type.Null()], { description: 'Owning organization.' }),
  provider: Type.Union([Type.String(), Type.Null()], { description: 'Hosting provider.' }),
  firstSeen: Type.String({ format: 'date-time', description: 'First observed.' }),
  lastSeen: Type.String({ format: 'date-time', description: 'Last observed.' }),
});

/** GET /api/v1/assets query. */
export const AssetQuery = Type.Object(
  {
    kind: Type.Optional(
      Type.Union(
        [
          Type.Literal('ip'),
          Type.Literal('domain'),
          Type.Literal('certificate'),
          Type.Literal('service'),
          Type.Literal('vm'),
        ],
        { description: 'Only assets of this kind.' },
      ),
    ),
    org: Type.Optional(Type.String({ maxLength: 200, description: 'Organization id or name.' })),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Substring of the key.' })),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'Page size.' }),
    ),
    cursor: Type.Optional(
      Type.String({ maxLength: 500, description: 'nextCursor of the previous page.' }),
    ),
  },
  { additionalProperties: false },
);

/** The observation history of an asset or service: where each fact came from, and when. */
export const Observations = Type.Array(
  Type.Object({
    source: Type.String({ description: 'scan, import, rdap, ct or cloud.' }),
    observedAt: Type.String({ format: 'date-time', description: 'When it was observed.' }),
    data: Type.Unknown({ description: 'What was observed.' }),
  }),
);
