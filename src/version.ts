/** The package version, read once from package.json so --version and the API agree. */
import { readFileSync } from 'node:fs';

const packageJson = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string };

/** The version of the installed surfacescan package. */
export const PACKAGE_VERSION: string = packageJson.version;
