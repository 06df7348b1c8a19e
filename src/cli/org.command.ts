/**
 * `surfacescan org add|list`: organizations and the seeds that make their scan scope, without
 * a server (the API has the same: POST/GET /api/v1/organizations).
 */
import { Command } from 'commander';
import { withDatabase } from '#src/cli/database.js';
import { AssetRepository } from '#src/assets/assets.repository.js';
import { UsageError } from '#src/cli/errors.js';
import { addSettingOptions, configFromOptions } from '#src/cli/settings-options.js';
import { isUniqueViolation } from '#src/storage/dialect.js';
import { seedProblems } from '#src/discovery/scope.model.js';

const collect = (value: string, previous: string[]): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== ''),
];

/** Builds the org command with its subcommands. */
export function orgCommand(write: (text: string) => void): Command {
  const org = new Command('org').description('Organizations and their seeds (scan scope).');
  const add = new Command('add')
    .description('Create an organization with its seeds.')
    .argument('<name>', 'organization name (unique)')
    .option('--domain <list>', 'seed domain(s); repeatable or comma-separated', collect, [])
    .option('--cidr <list>', 'seed CIDR block(s) or addresses', collect, [])
    .option('--exclude <list>', 'blocks or addresses never to scan', collect, [])
    .option('--asn <list>', 'seed AS number(s)', collect, [])
    .option('--alias <list>', 'other names of the organization', collect, []);
  addSettingOptions(add, ['databaseUrl']);
  add.action(
    async (
      name: string,
      options: {
        domain: string[];
        cidr: string[];
        exclude: string[];
        asn: string[];
        alias: string[];
      } & Record<string, unknown>,
    ) => {
      const config = configFromOptions(options as Record<string, string | undefined>);
      const bad = options.asn.find((a) => !/^(AS)?\d{1,10}$/i.test(a));
      if (bad !== undefined) throw new UsageError(`--asn: "${bad}" is not an AS number`);
      const seeds = {
        domains: options.domain.map((d) => d.toLowerCase()),
        cidrs: options.cidr,
        asns: options.asn.map((a) => Number(a.replace(/^AS/i, ''))),
        names: [name, ...options.alias],
        excludes: options.exclude,
      };
      const problems = seedProblems(seeds);
      if (problems.length > 0) throw new UsageError(`bad seeds: ${problems.join('; ')}`);
      const created = await withDatabase(config.databaseUrl, async (db) => {
        try {
          return await new AssetRepository(db).createOrganization(name, seeds, Date.now());
        } catch (error) {
          if (isUniqueViolation(error)) {
            throw new UsageError(`an organization named ${JSON.stringify(name)} exists already`);
          }
          throw error;
        }
      });
      write(`${created.id}\t${created.name}\n`);
    },
  );
  const list = new Command('list').description('List organizations and their seeds.');
  addSettingOptions(list, ['databaseUrl']);
  list.action(async (options: Record<string, string | undefined>) => {
    const config = configFromOptions(options);
    const orgs = await withDatabase(config.databaseUrl, (db) =>
      new AssetRepository(db).listOrganizations(),
    );
    for (const o of orgs) {
      write(
        `${o.id}\t${o.name}\tdomains=${o.seeds.domains.join(',')}\tcidrs=${o.seeds.cidrs.join(',')}\texcludes=${(o.seeds.excludes ?? []).join(',')}\n`,
      );
    }
  });
  return org.addCommand(add).addCommand(list);
}
