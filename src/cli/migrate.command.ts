/** `surfacescan migrate`: applies pending database migrations (idempotent) and exits. */
import { Command } from 'commander';
import { addSettingOptions, configFromOptions } from '#src/cli/settings-options.js';
import { migrateDatabase } from '#src/storage/migrations.js';

/** Builds the migrate command. */
export function migrateCommand(write: (text: string) => void): Command {
  const command = new Command('migrate').description(
    'Apply pending database migrations and exit. Safe to run again: it applies nothing then.\n' +
      'A failing migration leaves the schema as it was (all pending ones run in one transaction).',
  );
  addSettingOptions(command, ['databaseUrl']);
  command.action(async (options: Record<string, string | boolean | undefined>) => {
    const config = configFromOptions(options);
    const report = await migrateDatabase(config.databaseUrl);
    write(
      report.applied.length === 0
        ? `${report.label}: up to date (${String(report.total)} migrations)\n`
        : `${report.label}: applied ${report.applied.join(', ')} (${String(report.total)} migrations)\n`,
    );
  });
  return command;
}
