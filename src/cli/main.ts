#!/usr/bin/env node
/** The surfacescan command line: one binary for the server and every one-off task. */
import { Command } from 'commander';
import { PACKAGE_VERSION } from '#src/version.js';
import { reportError } from '#src/cli/errors.js';
import { serveCommand } from '#src/cli/serve.command.js';
import { attackCommand, pathCommand } from '#src/cli/attack.command.js';
import { gendataCommand } from '#src/cli/gendata.command.js';
import { openapiCommand } from '#src/cli/openapi.command.js';
import { workerCommand } from '#src/cli/worker.command.js';
import { migrateCommand } from '#src/cli/migrate.command.js';
import { scanCommand } from '#src/cli/scan.command.js';
import { orgCommand } from '#src/cli/org.command.js';
import { factsCommand } from '#src/cli/facts.command.js';
import { attributionCommand } from '#src/cli/attribution.command.js';
import { providersCommand } from '#src/cli/providers.command.js';

const out = (text: string): void => {
  process.stdout.write(text);
};
const err = (text: string): void => {
  process.stderr.write(text);
};

// `surfacescan gendata | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const program = new Command('surfacescan')
  .description('surfacescan: attack surface management. What do we expose, and who can reach what.')
  .version(PACKAGE_VERSION, '-V, --version', 'print the version')
  .showSuggestionAfterError(true)
  .exitOverride()
  .configureOutput({ writeOut: out, writeErr: err });

program.addCommand(serveCommand());
program.addCommand(workerCommand());
program.addCommand(migrateCommand(out));
program.addCommand(attackCommand(out));
program.addCommand(pathCommand(out, err));
program.addCommand(gendataCommand(out));
program.addCommand(openapiCommand(out));
program.addCommand(orgCommand(out));
program.addCommand(scanCommand(out, err));
program.addCommand(factsCommand(out, err));
program.addCommand(attributionCommand(out));
program.addCommand(providersCommand(out));
// Subcommands (and theirs) inherit neither exitOverride nor output settings from their parent.
const configure = (commands: readonly Command[]): void => {
  for (const command of commands) {
    command
      .exitOverride()
      .configureOutput({ writeOut: out, writeErr: err })
      .showSuggestionAfterError(true);
    configure(command.commands);
  }
};
configure(program.commands);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportError(error, err);
}
