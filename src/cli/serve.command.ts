/** `surfacescan serve`: the API, and (with --role all, the default) job workers, on one port. */
import { Command } from 'commander';
import { addSettingOptions, configFromOptions } from '#src/cli/settings-options.js';

/** Builds the serve command; every setting is a flag, documented with its variable and default. */
export function serveCommand(): Command {
  const command = new Command('serve').description(
    'Serve the REST API (OpenAPI docs at /docs) with the cloud environment loaded; with\n' +
      '--role all (the default) this process also runs the job workers.\n' +
      'Every flag can also be set with its SURFACESCAN_* variable; flags win.',
  );
  addSettingOptions(command);
  command.action(async (options: Record<string, string | boolean | undefined>) => {
    const config = configFromOptions(options);
    // Loaded here, not at the top: the server's modules cost the other commands ~0.5 s of start.
    const { serve } = await import('#src/http/server.js');
    await serve(config);
  });
  return command;
}
