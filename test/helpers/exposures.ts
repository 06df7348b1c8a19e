/**
 * A small exposure history for the inventory summary tests: nmap XML files written here (one per
 * day, hosts in AWS, GCP, Azure and on-prem address space, more than ten products, a service
 * that later closes) posted to a real server's import endpoint, plus a naive reference that
 * replays the same files into the summary the API should answer.
 */
import assert from 'node:assert/strict';
import { sendJson } from './http.js';

/** One port line of an nmap report. */
export interface PortSpec {
  readonly port: number;
  readonly state: 'open' | 'closed';
  /** nmap's service name; absent: no <service> element at all. */
  readonly service?: string;
  readonly product?: string;
}

/** One host of an nmap report. */
export interface HostSpec {
  readonly ip: string;
  readonly ports: readonly PortSpec[];
}

/** One nmap file: its organization, how many days before now it finished, its hosts. */
export interface ImportSpec {
  readonly org: string;
  readonly daysAgo: number;
  readonly hosts: readonly HostSpec[];
}

/** The provider the bundled cloud ranges give each address block used here. */
export const PROVIDER_OF_PREFIX: Readonly<Record<string, string>> = {
  '104.144.': 'AWS',
  '130.211.': 'GCP',
  '102.133.': 'Azure',
  '127.': 'On Prem',
};

/** The two organizations and their scopes. */
export const ORGS = [
  {
    name: 'Exposure Corp',
    cidrs: ['104.144.0.0/24', '130.211.0.0/24', '102.133.0.0/24', '127.0.0.0/24'],
  },
  { name: 'Other Corp', cidrs: ['127.1.0.0/24'] },
] as const;

const open = (port: number, service?: string, product?: string): PortSpec => ({
  port,
  state: 'open',
  ...(service === undefined ? {} : { service }),
  ...(product === undefined ? {} : { product }),
});

/**
 * The history, oldest first. Exposure Corp ends with 28 open services over 7 addresses, 15
 * product labels (13 products, "telnet" from the service name, two ports "unidentified"), and
 * two services closed by a later complete import; Other Corp has 2 open services.
 */
export const HISTORY: readonly ImportSpec[] = [
  {
    org: 'Exposure Corp',
    daysAgo: 20,
    hosts: [
      {
        ip: '104.144.0.11',
        ports: [open(22, 'ssh', 'OpenSSH'), open(80, 'http', 'nginx'), open(443, 'https', 'nginx')],
      },
    ],
  },
  {
    org: 'Exposure Corp',
    daysAgo: 10,
    hosts: [
      {
        ip: '130.211.0.20',
        ports: [
          open(22, 'ssh', 'OpenSSH'),
          open(80, 'http', 'Apache httpd'),
          open(3306, 'mysql', 'MySQL'),
          open(23, 'telnet'),
        ],
      },
      {
        ip: '102.133.0.30',
        ports: [
          open(80, 'http', 'Microsoft IIS httpd'),
          open(443, 'https', 'Microsoft IIS httpd'),
          open(21, 'ftp', 'vsftpd'),
        ],
      },
    ],
  },
  {
    org: 'Exposure Corp',
    daysAgo: 3,
    hosts: [
      {
        ip: '104.144.0.10',
        ports: [
          open(22, 'ssh', 'OpenSSH'),
          open(80, 'http', 'nginx'),
          open(8080, 'http-proxy', 'Apache httpd'),
          open(6379, 'redis', 'Redis key-value store'),
        ],
      },
      {
        ip: '130.211.0.21',
        ports: [
          open(5432, 'postgresql', 'PostgreSQL DB'),
          open(3306, 'mysql', 'MySQL'),
          open(25, 'smtp', 'Postfix smtpd'),
          open(143, 'imap', 'Dovecot imapd'),
        ],
      },
    ],
  },
  {
    org: 'Other Corp',
    daysAgo: 2,
    hosts: [{ ip: '127.1.0.5', ports: [open(22, 'ssh', 'OpenSSH'), open(11211, 'memcache')] }],
  },
  {
    org: 'Exposure Corp',
    daysAgo: 0,
    hosts: [
      // 8080 and 6379 (which this run covers, for the next host) are gone: this complete
      // import closes them; 22 and 80 keep their first sighting.
      {
        ip: '104.144.0.10',
        ports: [
          open(22, 'ssh', 'OpenSSH'),
          open(80, 'http', 'nginx'),
          { port: 8080, state: 'closed' },
        ],
      },
      {
        ip: '104.144.0.12',
        ports: [
          open(80, 'http', 'lighttpd'),
          open(25, 'smtp', 'Exim smtpd'),
          open(11211, 'memcache', 'memcached'),
          open(6379, 'redis', 'Redis key-value store'),
          open(443, 'https', 'nginx'),
        ],
      },
      {
        ip: '127.0.0.40',
        ports: [
          open(22, 'ssh', 'OpenSSH'),
          open(23, 'telnet'),
          open(5432, 'postgresql', 'PostgreSQL DB'),
          open(3306, 'mysql', 'MySQL'),
          open(9999),
          open(9998),
          open(8443, 'https', 'nginx'),
        ],
      },
    ],
  },
];

const xmlText = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

/** An nmap -oX report of `hosts`, finished (successfully) at `at` (whole seconds). */
export function nmapXml(hosts: readonly HostSpec[], at: number): string {
  const seconds = String(Math.floor(at / 1000));
  const ports = [...new Set(hosts.flatMap((h) => h.ports.map((p) => p.port)))].sort(
    (a, b) => a - b,
  );
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<nmaprun scanner="nmap" args="nmap -sT -sV" start="${seconds}" version="7.93" xmloutputversion="1.05">`,
    `<scaninfo type="connect" protocol="tcp" numservices="${String(ports.length)}" services="${ports.join(',')}"/>`,
  ];
  for (const host of hosts) {
    lines.push(`<host starttime="${seconds}" endtime="${seconds}"><status state="up"/>`);
    lines.push(`<address addr="${host.ip}" addrtype="ipv4"/><ports>`);
    for (const p of host.ports) {
      const service =
        p.service === undefined
          ? ''
          : `<service name="${xmlText(p.service)}"${p.product === undefined ? '' : ` product="${xmlText(p.product)}"`} method="probed" conf="10"/>`;
      lines.push(
        `<port protocol="tcp" portid="${String(p.port)}"><state state="${p.state}"/>${service}</port>`,
      );
    }
    lines.push('</ports></host>');
  }
  lines.push(
    `<runstats><finished time="${seconds}" exit="success"/><hosts up="${String(hosts.length)}" down="0" total="${String(hosts.length)}"/></runstats>`,
    '</nmaprun>',
  );
  return lines.join('\n');
}

const DAY = 86_400_000;

/** When an import of `daysAgo` finishes, relative to `now` (whole seconds, a minute back). */
export function importTime(now: number, daysAgo: number): number {
  return Math.floor((now - daysAgo * DAY - 60_000) / 1000) * 1000;
}

/** Creates the organizations and imports the history into the server at `base`. */
export async function importHistory(base: string, now: number): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const org of ORGS) {
    const created = await sendJson('POST', `${base}/api/v1/organizations`, {
      name: org.name,
      seeds: { domains: [], cidrs: [...org.cidrs], asns: [], names: [] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    ids[org.name] = (created.body as { id: string }).id;
  }
  for (const spec of HISTORY) {
    const response = await fetch(`${base}/api/v1/imports?org=${encodeURIComponent(spec.org)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: nmapXml(spec.hosts, importTime(now, spec.daysAgo)),
    });
    assert.equal(response.status, 201, await response.text());
  }
  return ids;
}

/** The summary as the API answers it. */
export interface SummaryView {
  orgId: string | null;
  totals: {
    openServices: number;
    closedServices: number;
    ipAssets: number;
    exposedIps: number;
    products: number;
    newThisWeek: number;
  };
  byProduct: { items: { name: string; count: number }[]; other: { count: number; names: number } };
  byService: { items: { name: string; count: number }[]; other: { count: number; names: number } };
  byProvider: { provider: string; ipAssets: number; exposedIps: number; openServices: number }[];
  firstSeenByDay: { day: string; count: number }[];
}

interface Known {
  org: string;
  ip: string;
  port: number;
  open: boolean;
  firstSeen: number;
  product: string;
  service: string;
}

function providerOf(ip: string): string {
  const prefix = Object.keys(PROVIDER_OF_PREFIX).find((p) => ip.startsWith(p));
  assert.ok(prefix !== undefined, ip);
  return PROVIDER_OF_PREFIX[prefix]!;
}

function top(counts: Map<string, number>, n: number): SummaryView['byProduct'] {
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const rest = sorted.slice(n);
  return {
    items: sorted.slice(0, n).map(([name, count]) => ({ name, count })),
    other: { count: rest.reduce((s, [, c]) => s + c, 0), names: rest.length },
  };
}

/**
 * The summary replayed naively from HISTORY for `org` (undefined: all), as of the UTC day
 * `today` (YYYY-MM-DD) and the moment `now` the history was imported relative to.
 */
export function expectedSummary(
  org: string | undefined,
  orgId: string | null,
  now: number,
  today: string,
): SummaryView {
  const known = new Map<string, Known>();
  for (const spec of HISTORY) {
    const at = importTime(now, spec.daysAgo);
    // A complete nmap run covers every port of its scaninfo on every host it lists: what it
    // covered and did not find open is closed.
    const hosts = new Set(spec.hosts.map((h) => h.ip));
    const ports = new Set(spec.hosts.flatMap((h) => h.ports.map((p) => p.port)));
    const found = new Set(
      spec.hosts.flatMap((h) =>
        h.ports.filter((p) => p.state === 'open').map((p) => `${h.ip}:${String(p.port)}`),
      ),
    );
    for (const [key, k] of known) {
      if (k.org === spec.org && hosts.has(k.ip) && ports.has(k.port) && !found.has(key))
        k.open = false;
    }
    for (const host of spec.hosts) {
      for (const p of host.ports) {
        const key = `${host.ip}:${String(p.port)}`;
        const previous = known.get(key);
        if (p.state === 'closed') continue;
        known.set(key, {
          org: spec.org,
          ip: host.ip,
          port: p.port,
          open: true,
          firstSeen: previous?.firstSeen ?? at,
          product: p.product ?? p.service ?? 'unidentified',
          service: p.service ?? 'unidentified',
        });
      }
    }
  }
  const mine = [...known.values()].filter((k) => org === undefined || k.org === org);
  const openOnes = mine.filter((k) => k.open);
  const count = (values: string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
    return m;
  };
  const products = count(openOnes.map((k) => k.product));
  const providers = new Set(mine.map((k) => providerOf(k.ip)));
  const todayMs = Date.parse(`${today}T00:00:00Z`);
  const series = Array.from({ length: 14 }, (_, i) => {
    const start = todayMs - (13 - i) * DAY;
    return {
      day: new Date(start).toISOString().slice(0, 10),
      count: mine.filter((k) => k.firstSeen >= start && k.firstSeen < start + DAY).length,
    };
  });
  const ipsOf = (list: Known[]) => new Set(list.map((k) => k.ip)).size;
  return {
    orgId,
    totals: {
      openServices: openOnes.length,
      closedServices: mine.length - openOnes.length,
      ipAssets: ipsOf(mine),
      exposedIps: ipsOf(openOnes),
      products: products.size,
      newThisWeek: series.slice(-7).reduce((s, d) => s + d.count, 0),
    },
    byProduct: top(products, 10),
    byService: top(count(openOnes.map((k) => k.service)), 10),
    byProvider: [...providers]
      .map((provider) => {
        const all = mine.filter((k) => providerOf(k.ip) === provider);
        const opened = all.filter((k) => k.open);
        return {
          provider,
          ipAssets: ipsOf(all),
          exposedIps: ipsOf(opened),
          openServices: opened.length,
        };
      })
      .sort(
        (a, b) =>
          b.openServices - a.openServices ||
          b.ipAssets - a.ipAssets ||
          (a.provider < b.provider ? -1 : 1),
      ),
    firstSeenByDay: series,
  };
}
