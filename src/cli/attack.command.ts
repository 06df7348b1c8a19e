/** `surfacescan attack` and `surfacescan path`: answers from the command line, no server needed. */
import { Command, Option } from 'commander';
import { loadConfig } from '#src/config/config.js';
import { AttackIndex, type AttackMode } from '#src/cloud/attack-index.model.js';
import { loadEnvironmentFile } from '#src/cloud/environment.loader.js';
import { UsageError } from '#src/cli/errors.js';

function openIndex(cloudEnv: string | undefined): AttackIndex {
  const config = loadConfig({ cloudEnv });
  return new AttackIndex(loadEnvironmentFile(config.cloudEnv));
}

function notFound(vmId: string): UsageError {
  return new UsageError(`no VM with vm_id ${JSON.stringify(vmId)} in the environment`);
}

/** Builds `surfacescan attack --vm-id X [--mode transitive]`. */
export function attackCommand(write: (text: string) => void): Command {
  return new Command('attack')
    .description('Print the vm_ids of the VMs that can attack a VM, as a JSON array (sorted).')
    .requiredOption('--vm-id <id>', 'the VM under attack')
    .option(
      '--cloud-env <file>',
      'environment JSON file [env SURFACESCAN_CLOUD_ENV; default: bundled example]',
    )
    .addOption(
      new Option('--mode <mode>', 'direct: one rule hop; transitive: any chain of hops')
        .choices(['direct', 'transitive'])
        .default('direct'),
    )
    .addOption(
      new Option('--format <format>', 'json: one array; lines: one id per line')
        .choices(['json', 'lines'])
        .default('json'),
    )
    .action(
      (options: {
        vmId: string;
        cloudEnv?: string;
        mode: AttackMode;
        format: 'json' | 'lines';
      }) => {
        const index = openIndex(options.cloudEnv);
        const attackers = index.attackers(options.vmId, options.mode);
        if (attackers === undefined) throw notFound(options.vmId);
        write(
          options.format === 'json'
            ? `${JSON.stringify(attackers)}\n`
            : attackers.map((id) => `${id}\n`).join(''),
        );
      },
    );
}

/** Builds `surfacescan path --from A --to B`. */
export function pathCommand(
  write: (text: string) => void,
  writeError: (text: string) => void,
): Command {
  return new Command('path')
    .description('Print one shortest chain of allowed hops from one VM to another, as JSON.')
    .requiredOption('--from <id>', 'the attacking VM')
    .requiredOption('--to <id>', 'the target VM')
    .option(
      '--cloud-env <file>',
      'environment JSON file [env SURFACESCAN_CLOUD_ENV; default: bundled example]',
    )
    .action((options: { from: string; to: string; cloudEnv?: string }) => {
      const index = openIndex(options.cloudEnv);
      if (!index.has(options.from)) throw notFound(options.from);
      if (!index.has(options.to)) throw notFound(options.to);
      const path = index.path(options.from, options.to);
      if (!path) {
        // Not bad input: a valid "no" answer, reported like grep's no-match (exit 1).
        writeError(
          `surfacescan: no chain of allowed hops leads from ${options.from} to ${options.to}\n`,
        );
        process.exitCode = 1;
        return;
      }
      write(`${JSON.stringify(path)}\n`);
    });
}
