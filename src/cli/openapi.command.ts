/** `surfacescan openapi`: writes the OpenAPI document the server serves at /openapi.json. */
import { writeOutputFile } from '#src/cli/output.js';
import { Command } from 'commander';

/** Builds `surfacescan openapi [--out FILE]`. */
export function openapiCommand(write: (text: string) => void): Command {
  return new Command('openapi')
    .description(
      'Write the OpenAPI 3.1 document (also served at /openapi.json) to stdout or a file.',
    )
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (options: { out?: string }) => {
      // The app's modules load only for this command, not for every CLI start.
      const { renderOpenApi } = await import('#src/http/openapi.js');
      const text = await renderOpenApi();
      if (options.out === undefined) write(text);
      else writeOutputFile(options.out, text);
    });
}
