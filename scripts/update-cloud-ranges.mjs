// Regenerates data/cloud-ranges.json from providers' published range files.
//
//   npm run build
//   node scripts/update-cloud-ranges.mjs [--out data/cloud-ranges.json] [FORMAT:]FILE...
//
// FORMAT is one of aws (ip-ranges.json), gcp (cloud.json), azure (ServiceTags_Public_*.json),
// oracle (public_ip_ranges.json), digitalocean (the geofeed CSV) or csv ("provider,cidr" lines).
// A csv file may say where it came from in "# origin: ..." and "# retrieved: YYYY-MM-DD"
// comment lines; without FORMAT: the format is told from the content; for the other formats the date inside the file (or the file's mtime) is used.
// With no arguments it rebuilds from the committed hand-collected sources in
// data/cloud-ranges.sources/. Every file is validated with the same parser as
// `surfacescan providers refresh`, so a bad file changes nothing.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  PROVIDER_RANGE_FORMATS,
  detectProviderRangeFormat,
  ProviderIndex,
  parseProviderRanges,
} from '../dist/src/discovery/provider.model.js';

const args = process.argv.slice(2);
let out = 'data/cloud-ranges.json';
const inputs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--out') out = args[++i];
  else inputs.push(args[i]);
}
if (inputs.length === 0) {
  const dir = 'data/cloud-ranges.sources';
  for (const name of readdirSync(dir).sort())
    if (name.endsWith('.csv')) inputs.push(`csv:${join(dir, name)}`);
}

const isoDate = (value) => new Date(value).toISOString().slice(0, 10);

/** The date a published file states for itself, when it states one. */
function statedDate(format, text, file) {
  try {
    if (format === 'aws') {
      const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(JSON.parse(text).createDate ?? '');
      if (m) return `${m[1]}-${m[2]}-${m[3]}`;
    }
    if (format === 'gcp') return isoDate(JSON.parse(text).creationTime);
    if (format === 'oracle') return isoDate(JSON.parse(text).last_updated_timestamp);
    if (format === 'csv') {
      const m = /^#\s*retrieved:\s*(\S+)/m.exec(text);
      if (m) return m[1];
    }
  } catch {
    // fall through to the file's mtime
  }
  return isoDate(statSync(file).mtime);
}

const byProvider = new Map();
const sources = [];
for (const input of inputs) {
  const colon = input.indexOf(':');
  const prefixed = colon > 0 && PROVIDER_RANGE_FORMATS.includes(input.slice(0, colon));
  const file = prefixed ? input.slice(colon + 1) : input;
  const text = readFileSync(file, 'utf8');
  let format;
  try {
    format = prefixed ? input.slice(0, colon) : detectProviderRangeFormat(text);
  } catch (error) {
    console.error(`update-cloud-ranges: ${file}: ${error.message}`);
    process.exit(2);
  }
  let ranges;
  try {
    ranges = parseProviderRanges(format, text);
  } catch (error) {
    console.error(`update-cloud-ranges: ${file}: ${error.message}`);
    process.exit(2);
  }
  const origin =
    (format === 'csv' && /^#\s*origin:\s*(.+)$/m.exec(text)?.[1]) ||
    `${format} file ${basename(file)}`;
  const providers = new Set();
  for (const { provider, cidr } of ranges) {
    providers.add(provider);
    if (!byProvider.has(provider)) byProvider.set(provider, new Set());
    byProvider.get(provider).add(cidr);
  }
  for (const provider of providers)
    sources.push({ provider, origin, retrieved: statedDate(format, text, file) });
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
  note: 'Only providers listed in sources are covered; any other address looks up as "On Prem".',
  sources,
  ranges,
};
writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
console.log(
  `update-cloud-ranges: ${out}: ${String(Object.keys(ranges).length)} providers, ${String(index.segmentCount)} segments`,
);
