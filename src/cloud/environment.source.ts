/**
 * Where the served environment comes from: a JSON file, or the database (`db:latest`, the
 * newest stored version, or `db:N`, one pinned version), so every replica can serve the same.
 */
import {
  EnvironmentError,
  loadEnvironmentFile,
  parseEnvironment,
} from '#src/cloud/environment.loader.js';
import type { EnvironmentRepository } from '#src/cloud/environment.repository.js';
import type { ReadEnvironment } from '#src/cloud/environment.service.js';

/** A parsed --cloud-env value. */
export type EnvironmentSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'db'; readonly version: 'latest' | number };

/** Parses --cloud-env: `db:latest`, `db:N` or a file path. */
export function parseEnvironmentSource(raw: string): EnvironmentSource {
  const match = /^db:(latest|[1-9]\d{0,9})$/.exec(raw.trim());
  if (match === null) return { kind: 'file', path: raw };
  return { kind: 'db', version: match[1] === 'latest' ? 'latest' : Number(match[1]) };
}

/** The empty environment a db:latest server serves until a version is stored. */
const EMPTY = { vms: [], fw_rules: [] };

/** A reader for EnvironmentService over the given source. */
export function environmentReader(
  source: EnvironmentSource,
  repositoryOf: () => EnvironmentRepository,
): (name: string) => ReadEnvironment | Promise<ReadEnvironment> {
  if (source.kind === 'file') return (path) => ({ environment: loadEnvironmentFile(path) });
  return async () => {
    const repository = repositoryOf();
    const version = source.version === 'latest' ? await repository.latestVersion() : source.version;
    if (version === 0) return { environment: EMPTY, version: 0 };
    const text = await repository.document(version);
    if (text === undefined) {
      throw new EnvironmentError(`cloud environment db:${String(version)}: no such stored version`);
    }
    return { environment: parseEnvironment(text, `db:${String(version)}`), version };
  };
}
