#!/usr/bin/env node
/** The surfacescan command line: one binary for the server and every one-off task. */
import { Command } from 'commander';
import { PACKAGE_VERSION } from '#src/version.js';
import { reportError } from '#src/cli/errors.js';
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

/**
 * Each command's module, loaded only when that command runs (or for help and suggestions,
 * when the first argument names no command): the server's and attribution's modules would
 * add ~0.5 s to the start of every other command.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('#src/cli/serve.command.js')).serveCommand(),
  worker: async () => (await import('#src/cli/worker.command.js')).workerCommand(),
  migrate: async () => (await import('#src/cli/migrate.command.js')).migrateCommand(out),
  attack: async () => (await import('#src/cli/attack.command.js')).attackCommand(out),
  path: async () => (await import('#src/cli/attack.command.js')).pathCommand(out, err),
  gendata: async () => (await import('#src/cli/gendata.command.js')).gendataCommand(out),
  openapi: async () => (await import('#src/cli/openapi.command.js')).openapiCommand(out),
  org: async () => (await import('#src/cli/org.command.js')).orgCommand(out),
  scan: async () => (await import('#src/cli/scan.command.js')).scanCommand(out, err),
  import: async () => (await import('#src/cli/import.command.js')).importCommand(out),
  facts: async () => (await import('#src/cli/facts.command.js')).factsCommand(out, err),
  attribution: async () =>
    (await import('#src/cli/attribution.command.js')).attributionCommand(out),
  providers: async () => (await import('#src/cli/providers.command.js')).providersCommand(out),
  policies: async () => (await import('#src/cli/policies.command.js')).policiesCommand(out),
  fingerprints: async () =>
    (await import('#src/cli/fingerprints.command.js')).fingerprintsCommand(out),
};
const first = process.argv[2];
const wanted =
  first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS);
for (const name of wanted) program.addCommand(await COMMANDS[name]!());
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
