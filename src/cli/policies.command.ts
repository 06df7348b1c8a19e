/**
 * `surfacescan policies check FILE...|list`: operators write their own exposure policies as
 * JSON files (docs/issues.md); `check` validates them together with the bundled set before a
 * server or scan is pointed at them, and `list` shows the policies a process would use.
 */
import { Command } from 'commander';
import { addSettingOptions, configFromOptions } from '#src/cli/settings-options.js';
import { loadPolicies, readPolicyFile } from '#src/issues/policy.model.js';

type Options = Record<string, string | undefined>;

const count = (n: number): string => `${String(n)} ${n === 1 ? 'policy' : 'policies'}`;

/** Builds `surfacescan policies` with its subcommands. */
export function policiesCommand(write: (text: string) => void): Command {
  const policies = new Command('policies').description(
    'Exposure policies (which services are issues): bundled in data/policies.json, plus the\n' +
      'files of --policies / SURFACESCAN_POLICIES.',
  );

  const check = new Command('check')
    .description(
      'Validate policy FILEs as `--policies` would load them (after the bundled set, in order)\n' +
        'and print what each defines. Exit 2 with the file, policy and problem if one is bad.',
    )
    .argument('<files...>', 'policy files ({"policies": [...]})');
  check.action((files: string[]) => {
    // Everything together first: the same checks, in the same order, as a starting process.
    const effective = loadPolicies(files);
    const bundled = new Set(loadPolicies().map((p) => p.id));
    for (const file of files) {
      const defined = readPolicyFile(file);
      const overrides = defined.filter((p) => bundled.has(p.id)).map((p) => p.id);
      write(
        `${file}: ${count(defined.length)}` +
          (defined.length === 0 ? '' : ` (${defined.map((p) => p.id).join(', ')})`) +
          (overrides.length === 0 ? '' : `; overrides bundled: ${overrides.join(', ')}`) +
          '\n',
      );
    }
    write(`ok: ${count(effective.length)} in effect\n`);
  });

  const list = new Command('list').description(
    'The policies in effect (bundled, then --policies files): id, priority and name.',
  );
  addSettingOptions(list, ['policies']);
  list.action((options: Options) => {
    const config = configFromOptions(options);
    const effective = loadPolicies(config.policies);
    const width = Math.max(2, ...effective.map((p) => p.id.length));
    write(`${'ID'.padEnd(width)}  PRIORITY  NAME\n`);
    for (const p of effective) write(`${p.id.padEnd(width)}  ${p.priority.padEnd(8)}  ${p.name}\n`);
  });

  policies.addCommand(check);
  policies.addCommand(list);
  return policies;
}
