/** `surfacescan serve`: the API, and in later versions the UI and workers, on one port. */
import { Command, Option } from 'commander';
import { SETTINGS, loadConfig, type RawFlags } from '#src/config/config.js';
import { serve } from '#src/http/server.js';

/** Builds the serve command; every setting is a flag, documented with its variable and default. */
export function serveCommand(): Command {
  const command = new Command('serve').description(
    'Serve the REST API (OpenAPI docs at /docs) with the cloud environment loaded.\n' +
      'Every flag can also be set with its SURFACESCAN_* variable; flags win.',
  );
  for (const setting of SETTINGS) {
    const isBoolean = setting.key === 'accessLog';
    const flag = isBoolean ? `${setting.flag} [bool]` : `${setting.flag} <value>`;
    const option = new Option(flag, `${setting.doc} [env ${setting.env}]`);
    command.addOption(option);
  }
  command.action(async (options: Record<string, string | boolean | undefined>) => {
    const flags: RawFlags = {};
    for (const setting of SETTINGS) flags[setting.key] = options[setting.key];
    await serve(loadConfig(flags));
  });
  return command;
}
