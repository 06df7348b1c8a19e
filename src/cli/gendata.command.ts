/** `surfacescan gendata`: writes a reproducible synthetic environment for benchmarks and demos. */
import { writeOutputFile } from '#src/cli/output.js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { environmentToJson, generateEnvironment } from '#src/cloud/gendata.model.js';

function integerIn(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const value = /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`must be an integer from ${String(min)} to ${String(max)}.`);
    }
    return value;
  };
}

/** Builds `surfacescan gendata --vms N --tags T --rules R --seed S [--out FILE]`. */
export function gendataCommand(write: (text: string) => void): Command {
  return new Command('gendata')
    .description(
      'Write a reproducible synthetic cloud environment (skewed tag popularity) as JSON.',
    )
    .addOption(
      new Option('--vms <n>', 'number of VMs').argParser(integerIn(0, 2_000_000)).default(1000),
    )
    .addOption(
      new Option('--tags <n>', 'number of distinct tags')
        .argParser(integerIn(1, 1_000_000))
        .default(100),
    )
    .addOption(
      new Option('--rules <n>', 'number of firewall rules')
        .argParser(integerIn(0, 10_000_000))
        .default(300),
    )
    .addOption(
      new Option('--seed <n>', 'random seed (same seed, same file)')
        .argParser(integerIn(-2147483648, 4294967295))
        .default(1),
    )
    .option('--out <file>', 'write to this file instead of stdout')
    .action((options: { vms: number; tags: number; rules: number; seed: number; out?: string }) => {
      const text = environmentToJson(generateEnvironment(options));
      if (options.out === undefined) write(text);
      else writeOutputFile(options.out, text);
    });
}
