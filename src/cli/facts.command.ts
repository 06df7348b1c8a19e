/** `surfacescan facts import FILE`: stores facts from a file (all of them, or none). */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { withDatabase } from '#src/cli/database.js';
import { addSettingOptions, configFromOptions } from '#src/cli/settings-options.js';
import { UsageError } from '#src/cli/errors.js';
import {
  FACT_FORMATS,
  describeProblems,
  parseFacts,
  type FactFormat,
} from '#src/attribution/facts.model.js';
import { FactRepository } from '#src/attribution/facts.repository.js';

/** Builds `surfacescan facts` with its `import` subcommand. */
export function factsCommand(
  write: (text: string) => void,
  writeError: (text: string) => void,
): Command {
  const facts = new Command('facts').description('Facts about assets, for attribution.');
  const importer = new Command('import')
    .description(
      'Import facts from FILE: JSON Lines of typed facts, a JSON array of them, RDAP JSON,\n' +
        'WHOIS text, or PEM/DER certificates (detected from the content unless --format).\n' +
        'A malformed record stops the import (nothing is stored) unless --skip-bad is given.\n' +
        'Importing a fact again only moves its last-seen time.',
    )
    .argument('<file>', 'the file to import')
    .option('--skip-bad', 'skip malformed records (each is reported) and import the rest')
    .addOption(
      new Option('--format <format>', 'the file format')
        .choices(['auto', ...FACT_FORMATS])
        .default('auto'),
    );
  addSettingOptions(importer, ['databaseUrl']);
  importer.action(
    async (
      file: string,
      options: Record<string, string | boolean | undefined> & {
        skipBad?: boolean;
        format: FactFormat | 'auto';
      },
    ) => {
      const config = configFromOptions(options);
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (error) {
        throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
      }
      const parsed = parseFacts(bytes, options.format, Date.now());
      if (parsed.problems.length > 0) {
        if (options.skipBad !== true || parsed.facts.length === 0) {
          throw new UsageError(
            `${file} (${parsed.format}): ${describeProblems(parsed.problems)}. Nothing was imported` +
              (options.skipBad === true ? '.' : '; pass --skip-bad to import the valid records.'),
          );
        }
        for (const p of parsed.problems)
          writeError(`surfacescan: ${file}:${String(p.line)}: skipped: ${p.message}\n`);
      }
      await withDatabase(config.databaseUrl, async (db) => {
        const report = await new FactRepository(db).importFacts(parsed.facts);
        write(
          `${file} (${parsed.format}): ${String(report.received)} facts, ${String(report.added)} new, ` +
            `${String(report.updated)} seen again, ${String(parsed.problems.length)} skipped\n`,
        );
      });
    },
  );
  facts.addCommand(importer);
  return facts;
}
