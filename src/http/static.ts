/**
 * Serves the built web UI (web/dist, made by `npm run build:web`) from the API server: hashed
 * assets with long cache headers, index.html for / and for every client-side page route, so a
 * shared link such as /issues?priority=high opens the right page. /api, /docs, /metrics and the
 * health routes are registered elsewhere and keep their own answers; unknown paths keep the
 * JSON 404 of the app.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply } from 'fastify';
import type { App } from '#src/http/app.js';

/** Where `npm run build:web` writes the UI, seen from dist/src/http/static.js. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** The client-side pages; each also answers its sub-paths (e.g. /assets/view/…). */
export const PAGE_ROUTES = ['/overview', '/issues', '/inventory', '/cloud', '/scheduler'] as const;

/** Options of the UI plugin. */
export interface WebUiOptions {
  /** The directory holding index.html and assets/ (the Vite build output). */
  readonly root?: string;
}

const MISSING_BUILD =
  'surfacescan: the web UI is not built.\n\n' +
  'Run `npm run build` (or `npm run build:web`) in the repository, then reload this page.\n' +
  'The API is available under /api/v1 and its documentation at /docs.\n';

/** Registers the UI routes on `app`; a missing build answers 503 with a plain explanation. */
export async function registerWebUi(app: App, options: WebUiOptions = {}): Promise<void> {
  const root = options.root ?? DEFAULT_WEB_ROOT;
  // index.html is tiny and read once; until a build exists it is looked for on each request,
  // so building the UI while a server runs is picked up without a restart.
  let index: Buffer | undefined;
  const sendIndex = async (reply: FastifyReply): Promise<FastifyReply> => {
    if (index === undefined) {
      try {
        index = await readFile(join(root, 'index.html'));
      } catch {
        return reply.status(503).type('text/plain; charset=utf-8').send(MISSING_BUILD);
      }
    }
    // The page names hashed assets: it must be revalidated so a new build is seen at once.
    return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(index);
  };

  await app.register(fastifyStatic, {
    root: join(root, 'assets'),
    prefix: '/assets/',
    // Asset names carry a content hash, so a cached copy is never stale.
    immutable: true,
    maxAge: '365d',
    index: false,
    // The directory may not exist yet (UI not built): serve whatever is there at request time.
    wildcard: true,
    decorateReply: false,
  });

  const hidden = { schema: { hide: true } };
  app.get('/', hidden, (_request, reply) => sendIndex(reply));
  for (const page of PAGE_ROUTES) {
    app.get(page, hidden, (_request, reply) => sendIndex(reply));
    app.get(`${page}/*`, hidden, (_request, reply) => sendIndex(reply));
  }
}
