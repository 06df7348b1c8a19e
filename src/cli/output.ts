/** Writing a command's result to a file the user named: a bad path is bad input, not a crash. */
import { writeFileSync } from 'node:fs';
import { UsageError } from '#src/cli/errors.js';

/** Writes `text` to `path`, turning a missing directory or a permission problem into exit 2. */
export function writeOutputFile(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'its directory does not exist'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : (error as Error).message;
    throw new UsageError(`cannot write --out ${path}: ${why}`);
  }
}
