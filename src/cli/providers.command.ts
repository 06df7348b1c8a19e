/**
 * `surfacescan providers refresh|list|lookup`: the cloud provider ranges that label every
 * scanned address (the Provider of services and issues). A refresh reads provider-published
 * files and stores their ranges in the database, each replacing its provider's bundled ones.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Command, Option } from 'commander';
import { withDatabase } from '#src/cli/database.js';
import { UsageError } from '#src/cli/errors.js';
import { addSettingOptions, configFromOptions } from '#src/cli/settings-options.js';
import {
  PROVIDER_RANGE_FORMATS,
  ProviderRangeError,
  detectProviderRangeFormat,
  parseProviderRanges,
  type ProviderRangeFormat,
} from '#src/discovery/provider.model.js';
import {
  ProviderRangeRepository,
  type ProviderRefresh,
} from '#src/discovery/provider.repository.js';
import { loadProviderIndexFor, providerOverview } from '#src/discovery/provider.data.js';

type Options = Record<string, string | undefined>;

/** Reads every file completely before anything is stored: one bad file refuses the lot. */
function readRefreshes(
  files: readonly string[],
  format: ProviderRangeFormat | 'auto',
  provider: string | undefined,
): ProviderRefresh[] {
  const byProvider = new Map<string, ProviderRefresh['ranges'][number][]>();
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as Error).message}. Nothing was stored.`);
    }
    const text = bytes.toString('utf8');
    const sourceSha256 = createHash('sha256').update(bytes).digest('hex');
    let ranges;
    try {
      const used = format === 'auto' ? detectProviderRangeFormat(text) : format;
      ranges = parseProviderRanges(used, text, provider);
      if (ranges.length === 0)
        throw new ProviderRangeError(
          `${used} file: it lists no ranges (refusing to empty a provider)`,
        );
    } catch (error) {
      if (!(error instanceof ProviderRangeError)) throw error;
      const hint = error.message.includes('names no provider') ? ' (pass --provider NAME)' : '';
      throw new UsageError(`${file}: ${error.message}${hint}. Nothing was stored.`);
    }
    for (const { provider: name, cidr } of ranges) {
      const list = byProvider.get(name) ?? [];
      list.push({ cidr, sourceFile: basename(file), sourceSha256 });
      byProvider.set(name, list);
    }
  }
  return [...byProvider].map(([name, ranges]) => ({ provider: name, ranges }));
}

/** Builds `surfacescan providers` with its subcommands. */
export function providersCommand(write: (text: string) => void): Command {
  const providers = new Command('providers').description(
    'Cloud provider IP ranges (the Provider of services and issues): bundled, or refreshed.',
  );

  const refresh = new Command('refresh')
    .description(
      'Store the ranges of provider-published FILEs (AWS ip-ranges.json, Google cloud.json,\n' +
        'Azure ServiceTags_Public_*.json, Oracle public_ip_ranges.json, the DigitalOcean geofeed,\n' +
        'Fastly public-ip-list, "provider,cidr" CSV, or a CIDR list one a line with --provider).\n' +
        "Each provider's refreshed ranges replace its earlier ones, bundled or refreshed; all\n" +
        'files are stored in one transaction, or none if any is bad.',
    )
    .argument('<files...>', 'the published range files')
    .option('--provider <name>', 'the provider of every range read (required for a CIDR list)')
    .addOption(
      new Option('--format <format>', 'the file format')
        .choices(['auto', ...PROVIDER_RANGE_FORMATS])
        .default('auto'),
    );
  addSettingOptions(refresh, ['databaseUrl']);
  refresh.action(
    async (
      files: string[],
      options: Options & { format: ProviderRangeFormat | 'auto'; provider?: string },
    ) => {
      const config = configFromOptions(options);
      const refreshes = readRefreshes(files, options.format, options.provider);
      await withDatabase(config.databaseUrl, (db) =>
        new ProviderRangeRepository(db).replace(refreshes, Date.now()),
      );
      for (const r of refreshes)
        write(
          `${r.provider}: ${String(new Set(r.ranges.map((x) => x.cidr)).size)} ranges from ` +
            `${[...new Set(r.ranges.map((x) => x.sourceFile))].join(', ')}\n`,
        );
    },
  );

  const list = new Command('list').description(
    'Each provider with its range count and source (bundled, or refreshed and when).',
  );
  addSettingOptions(list, ['databaseUrl']);
  list.action(async (options: Options) => {
    const config = configFromOptions(options);
    const rows = await withDatabase(config.databaseUrl, (db) => providerOverview(db));
    const width = Math.max(8, ...rows.map((r) => r.provider.length));
    write(`${'PROVIDER'.padEnd(width)}  ${'RANGES'.padStart(6)}  SOURCE\n`);
    for (const r of rows) {
      const source =
        r.source === 'refreshed'
          ? `refreshed ${new Date(r.refreshedAt ?? 0).toISOString()} from ${r.origin}`
          : `bundled, data of ${r.dated ?? 'unknown date'}`;
      write(`${r.provider.padEnd(width)}  ${String(r.ranges).padStart(6)}  ${source}\n`);
    }
  });

  const lookup = new Command('lookup')
    .description('The provider announcing IP, or "On Prem".')
    .argument('<ip>', 'an IPv4 or IPv6 address');
  addSettingOptions(lookup, ['databaseUrl']);
  lookup.action(async (ip: string, options: Options) => {
    const config = configFromOptions(options);
    const index = await withDatabase(config.databaseUrl, (db) => loadProviderIndexFor(db));
    try {
      write(`${index.lookup(ip.trim())}\n`);
    } catch (error) {
      if (error instanceof RangeError) throw new UsageError(error.message);
      throw error;
    }
  });

  providers.addCommand(refresh);
  providers.addCommand(list);
  providers.addCommand(lookup);
  return providers;
}
