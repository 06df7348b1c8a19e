/**
 * SURFACESCAN_DATABASE_URL: which engine holds the data. `sqlite:PATH` (a file, created with
 * its folder), `sqlite::memory:` (gone at exit; tests and one-off commands) or
 * `postgres://user@host:port/db` (also `postgresql://`).
 */

/** A parsed database location. */
export type DatabaseTarget =
  | { readonly dialect: 'sqlite'; readonly path: string }
  | { readonly dialect: 'postgres'; readonly url: string };

/** The default: an embedded SQLite file under ./data of the working directory. */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/surfacescan.db';

/** Parses a database URL, or returns the problem in words. */
export function parseDatabaseUrl(raw: string): DatabaseTarget | { problem: string } {
  const value = raw.trim();
  if (value.startsWith('sqlite:')) {
    const path = value.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') return { problem: 'needs a path after "sqlite:" (or sqlite::memory:)' };
    return { dialect: 'sqlite', path };
  }
  if (/^postgres(ql)?:\/\//.test(value)) {
    try {
      const url = new URL(value);
      if (url.hostname === '' && !url.searchParams.has('host')) {
        return { problem: `has no host: ${JSON.stringify(redactUrl(value))}` };
      }
    } catch {
      return { problem: `is not a valid URL: ${JSON.stringify(redactUrl(value))}` };
    }
    return { dialect: 'postgres', url: value };
  }
  return {
    problem: `must start with sqlite: or postgres://, got ${JSON.stringify(redactUrl(value))}`,
  };
}

/**
 * The URL with any password replaced, for messages and logs: the one after `user:` (up to the
 * last `@` before the query, so an unencoded `@` or `/` in it hides nothing of it) and a
 * `password=` query parameter.
 */
export function redactUrl(raw: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(raw);
  if (scheme === null || /^sqlite:/i.test(raw)) return raw;
  const rest = raw.slice(scheme[0].length);
  const end = rest.search(/[?#]/);
  const beforeQuery = end === -1 ? rest : rest.slice(0, end);
  const at = beforeQuery.lastIndexOf('@');
  const colon = beforeQuery.indexOf(':');
  const withoutPassword =
    at !== -1 && colon !== -1 && colon < at
      ? `${rest.slice(0, colon + 1)}***${rest.slice(at)}`
      : rest;
  return scheme[0] + withoutPassword.replace(/([?&]password=)[^&#]*/gi, '$1***');
}
