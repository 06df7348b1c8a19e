/** How the CLI reports failures: one paragraph on stderr, never a stack, and a stable exit code. */
import { CommanderError } from 'commander';
import { ConfigError } from '#src/config/config.js';
import { EnvironmentError } from '#src/cloud/environment.loader.js';
import { StartupError } from '#src/startup-error.js';

/** Bad input from the user (flags, files, ids): exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The user stopped the command (SIGINT/SIGTERM) after it had started work: exit code 130. */
export class InterruptedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterruptedError';
  }
}

/** Exit code of an interrupted command, as shells report a SIGINT (128 + 2). */
export const EXIT_INTERRUPTED = 130;

const LISTEN_ERRORS = new Set([
  'EADDRINUSE',
  'EACCES',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
]);

/** Exit code for bad input. */
export const EXIT_USAGE = 2;

/** Prints the error for a human and returns the exit code to use. */
export function reportError(error: unknown, write: (text: string) => void): number {
  if (error instanceof CommanderError) {
    // Commander has printed its own message already; --help and --version exit 0, while help
    // shown because no command was given, and every parse error, are usage errors.
    return error.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (error instanceof InterruptedError) {
    write(`surfacescan: ${error.message}\n`);
    return EXIT_INTERRUPTED;
  }
  if (
    error instanceof UsageError ||
    error instanceof ConfigError ||
    error instanceof EnvironmentError ||
    error instanceof StartupError
  ) {
    write(`surfacescan: ${error.message}\n`);
    return EXIT_USAGE;
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // A taken port, a forbidden one, an address this machine lacks or a host name that does not
  // resolve: all bad --host/--port input.
  if (code !== undefined && LISTEN_ERRORS.has(code)) {
    write(`surfacescan: cannot listen: ${(error as Error).message}\n`);
    return EXIT_USAGE;
  }
  write(`surfacescan: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}
