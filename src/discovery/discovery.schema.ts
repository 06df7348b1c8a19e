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
    asns: Type.Array(Type.Integer({ minimum: 0, maximum: 4_294_967_295 }), { maxItems: 10_000 }),
    names: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 1000 }),
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
    name: Type.String({ minLength: 1, maxLength: 200 }),
    seeds: Seeds,
  },
  { additionalProperties: false },
);

/** An organization. */
export const OrganizationAnswer = Type.Object({
  id: Type.String(),
  name: Type.String(),
  seeds: Seeds,
  createdAt: Type.String({ format: 'date-time' }),
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
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 8192 })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 60_000 })),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 5 })),
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
  id: Type.String(),
  orgId: Type.String(),
  state: Type.String({ description: 'running, completed, failed or cancelled' }),
  error: Type.Union([Type.String(), Type.Null()]),
  hosts: Type.Integer({ description: 'Addresses covered.' }),
  ports: Type.String(),
  options: Type.Unknown(),
  probesTotal: Type.Integer(),
  probesDone: Type.Integer(),
  openFound: Type.Integer(),
  shards: Type.Integer(),
  shardsDone: Type.Integer(),
  shardRestarts: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

/** A service (one open or once-open TCP port). */
export const ServiceAnswer = Type.Object({
  id: Type.String(),
  orgId: Type.Union([Type.String(), Type.Null()]),
  ip: Type.String(),
  port: Type.Integer(),
  protocol: Type.String(),
  state: Type.String({ description: 'open, or closed once a complete scan no longer finds it' }),
  service: Type.Union([Type.String(), Type.Null()]),
  product: Type.Union([Type.String(), Type.Null()]),
  version: Type.Union([Type.String(), Type.Null()]),
  provider: Type.String(),
  source: Type.String(),
  firstSeen: Type.String({ format: 'date-time' }),
  lastSeen: Type.String({ format: 'date-time' }),
  finding: Type.Unknown({ description: 'Banner, CPEs, TLS chain, HTTP facts.' }),
});

/** A page of a list. */
export function Page<T extends ReturnType<typeof Type.Object>>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Union([Type.String(), Type.Null()]),
    total: Type.Integer(),
  });
}

/** GET /api/v1/services query. */
export const ServiceQuery = Type.Object(
  {
    org: Type.Optional(Type.String({ maxLength: 200 })),
    state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed')])),
    q: Type.Optional(Type.String({ maxLength: 200 })),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

/** An asset of the inventory. */
export const AssetAnswer = Type.Object({
  id: Type.String(),
  kind: Type.String({ description: 'ip, domain, certificate, service or vm' }),
  key: Type.String({ description: 'Identity within the kind: an address, a domain, ip:port/tcp.' }),
  orgId: Type.Union([Type.String(), Type.Null()]),
  provider: Type.Union([Type.String(), Type.Null()]),
  firstSeen: Type.String({ format: 'date-time' }),
  lastSeen: Type.String({ format: 'date-time' }),
});

/** GET /api/v1/assets query. */
export const AssetQuery = Type.Object(
  {
    kind: Type.Optional(
      Type.Union([
        Type.Literal('ip'),
        Type.Literal('domain'),
        Type.Literal('certificate'),
        Type.Literal('service'),
        Type.Literal('vm'),
      ]),
    ),
    org: Type.Optional(Type.String({ maxLength: 200 })),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Substring of the key.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

/** The observation history of an asset or service: where each fact came from, and when. */
export const Observations = Type.Array(
  Type.Object({
    source: Type.String(),
    observedAt: Type.String({ format: 'date-time' }),
    data: Type.Unknown(),
  }),
);
