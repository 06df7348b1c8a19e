/** `surfacescan gendata`: writes a reproducible synthetic environment for benchmarks and demos. */
import { closeSync, openSync, writeSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { writeOutputFile } from '#src/cli/output.js';
import { environmentJsonChunks, type GenOptions } from '#src/cloud/gendata.model.js';

/** Commander argument parser for a plain decimal integer within [min, max]. */
export function integerIn(min: number, max: number): (raw: string) => number {
  return (raw) => {
    // Number() alone would also accept "0x10", "1e3", "" and " ".
    const value = /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`must be an integer from ${String(min)} to ${String(max)}.`);
    }
    return value;
  };
}

const writeStdout = (text: string): void => {
  process.stdout.write(text);
};

/**
 * Waits while stdout holds more than its high-water mark: a pipe to a slow reader would
 * otherwise queue the whole document (up to about 800 MB) in memory. Yielding to the event loop
 * here also lets a closed pipe (EPIPE) end the process before the rest is generated.
 */
async function stdoutDrained(): Promise<void> {
  const stdout = process.stdout;
  if (!stdout.writableNeedDrain || stdout.destroyed) {
    await new Promise((resolve) => setImmediate(resolve));
    return;
  }
  await new Promise<void>((resolve) => {
    const done = (): void => {
      stdout.off('drain', done);
      stdout.off('close', done);
      resolve();
    };
    stdout.on('drain', done);
    stdout.on('close', done);
  });
}

function writeChunksToFile(path: string, chunks: Iterable<string>): void {
  // Creating the file first turns a bad path into the CLI's usual bad-input error (exit 2).
  writeOutputFile(path, '');
  const fd = openSync(path, 'w');
  try {
    for (const chunk of chunks) {
      const bytes = Buffer.from(chunk, 'utf8');
      for (let done = 0; done < bytes.length;)
        done += writeSync(fd, bytes, done, bytes.length - done);
    }
  } finally {
    closeSync(fd);
  }
}

/** Builds `surfacescan gendata --vms N --tags T --rules R --seed S [--out FILE]`. */
export function gendataCommand(write: (text: string) => void = writeStdout): Command {
  return new Command('gendata')
    .description(
      'Write a reproducible synthetic cloud environment as JSON: skewed tag popularity (a few\n' +
        'tags on many VMs, many rare ones), ~2% untagged VMs, and a few untidy rules (tags no VM\n' +
        'carries, t -> t, repeated pairs). The same options always give the same bytes.',
    )
    .addOption(
      new Option('--vms <n>', 'number of VMs (0 to 2000000)')
        .argParser(integerIn(0, 2_000_000))
        .default(1000),
    )
    .addOption(
      new Option('--tags <n>', 'number of distinct tags (1 to 1000000)')
        .argParser(integerIn(1, 1_000_000))
        .default(100),
    )
    .addOption(
      new Option('--rules <n>', 'number of firewall rules (0 to 10000000)')
        .argParser(integerIn(0, 10_000_000))
        .default(300),
    )
    .addOption(
      new Option('--seed <n>', 'random seed, a 32-bit integer (same seed, same file)')
        .argParser(integerIn(-2_147_483_648, 4_294_967_295))
        .default(1),
    )
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (options: GenOptions & { out?: string }) => {
      const chunks = environmentJsonChunks(options);
      if (options.out !== undefined) {
        writeChunksToFile(options.out, chunks);
        return;
      }
      for (const chunk of chunks) {
        write(chunk);
        await stdoutDrained();
      }
    });
}
