/**
 * `surfacescan import FILE --org ORG`: imports an nmap XML (-oX) or masscan JSON (-oJ) file into
 * the database without a server, like POST /api/v1/imports. All or nothing: a bad file, an
 * unknown organization or a host outside its scope stores nothing and exits 2.
 */
import { readFileSync, statSync } from 'node:fs';
import { Command, Option } from 'commander';
import { withDatabase } from '#src/cli/database.js';
import { AssetRepository } from '#src/assets/assets.repository.js';
import { UsageError } from '#src/cli/errors.js';
import { addSettingOptions, configFromOptions } from '#src/cli/settings-options.js';
import { AppError } from '#src/http/errors.js';
import {
  createScanService,
  loadScanCapabilities,
  loadScanData,
} from '#src/discovery/discovery.wiring.js';
import { IMPORT_FORMATS } from '#src/discovery/import.model.js';
import { MAX_IMPORT_BYTES, type ImportFormat } from '#src/discovery/import-result.model.js';
import {
  ImportRejectedError,
  ImportService,
  type ImportOutcome,
} from '#src/discovery/import.service.js';

/** Options of the import command as commander hands them over. */
interface ImportOptions {
  readonly org: string;
  readonly format?: ImportFormat;
}

/** Reads the file, checking its size before reading it; a bad path is bad input. */
function readImportFile(path: string): Buffer {
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new UsageError(`cannot import ${path}: not a regular file`);
    if (stat.size > MAX_IMPORT_BYTES) {
      throw new UsageError(
        `cannot import ${path}: it is ${String(stat.size)} bytes, over the import limit of ${String(MAX_IMPORT_BYTES)} bytes (256 MiB); nothing was imported`,
      );
    }
    return readFileSync(path);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : (error as Error).message;
    throw new UsageError(`cannot import ${path}: ${why}`);
  }
}

/** The one summary line of an import. */
export function summaryLine(path: string, outcome: ImportOutcome): string {
  const n = (count: number, what: string): string =>
    `${String(count)} ${what}${count === 1 ? '' : 's'}`;
  return [
    `${outcome.reimport ? 're-imported' : 'imported'} ${path} (${outcome.format}, ${outcome.scanner.name}${outcome.complete ? '' : ', incomplete'}):`,
    `${n(outcome.hosts, 'host')},`,
    `${n(outcome.services, 'open service')} (${String(outcome.newServices)} new, ${String(outcome.updatedServices)} updated),`,
    `${String(outcome.closedServices)} closed,`,
    `${n(outcome.issuesOpened, 'issue')} opened;`,
    `import ${outcome.id}`,
  ].join(' ');
}

/** Builds the import command. */
export function importCommand(write: (text: string) => void): Command {
  const command = new Command('import')
    .description(
      'Import an nmap XML (-oX) or masscan JSON (-oJ) file for an organization: its open\n' +
        'ports become services, observations and issues. Every host must be in the\n' +
        "organization's scope. A complete nmap scan closes the services it no longer found.\n" +
        'All or nothing; importing the same file again only moves last-seen times.',
    )
    .argument('<file>', 'the nmap XML or masscan JSON file')
    .requiredOption('--org <id|name>', 'organization the scan belongs to')
    .addOption(
      new Option('--format <format>', 'skip format detection').choices([...IMPORT_FORMATS]),
    );
  addSettingOptions(command, ['databaseUrl', 'policies', 'fingerprints']);
  command.action(
    async (path: string, options: ImportOptions & Record<string, string | undefined>) => {
      const config = configFromOptions(options);
      const bytes = readImportFile(path);
      // A bad policy or fingerprint file stops the command before the database is touched.
      const data = loadScanData(config);
      await withDatabase(config.databaseUrl, async (db) => {
        const assets = new AssetRepository(db);
        const scans = createScanService(db, assets, config, loadScanCapabilities(db, data));
        const imports = new ImportService(db, assets, scans);
        let outcome: ImportOutcome;
        try {
          outcome = await imports.importFile({ org: options.org, bytes, format: options.format });
        } catch (error) {
          if (error instanceof ImportRejectedError) {
            const at =
              error.line === undefined
                ? ''
                : `:${String(error.line)}${error.column === undefined ? '' : `:${String(error.column)}`}`;
            throw new UsageError(
              `cannot import ${path}${at}: ${error.detail}; nothing was imported`,
            );
          }
          if (error instanceof AppError && error.status < 500) throw new UsageError(error.message);
          throw error;
        }
        write(`${summaryLine(path, outcome)}\n`);
      });
    },
  );
  return command;
}
