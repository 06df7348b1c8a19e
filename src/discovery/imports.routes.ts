/**
 * Imports API: POST an nmap XML or masscan JSON file as the raw body, list and get imports.
 */
import { Type } from 'typebox';
import type { AssetRepository } from '#src/assets/assets.repository.js';
import type { App } from '#src/http/app.js';
import { AppError } from '#src/http/errors.js';
import { ErrorBody } from '#src/http/http.schema.js';
import type { Db } from '#src/storage/database.js';
import { MAX_IMPORT_BYTES } from '#src/discovery/import-result.model.js';
import { ImportService, type ImportRecord } from '#src/discovery/import.service.js';
import {
  ImportAnswer,
  ImportListQuery,
  ImportOutcomeAnswer,
  ImportQuery,
} from '#src/discovery/imports.schema.js';
import type { ScanService } from '#src/discovery/scan.service.js';
import { orgIdOf } from '#src/assets/org-ref.js';

/** What the routes need. */
export interface ImportRouteDeps {
  readonly db: Db;
  readonly assets: AssetRepository;
  readonly scans: ScanService;
  readonly clock: () => number;
}

/** Body types a scan file may arrive with; each is taken as raw bytes. */
const FILE_TYPES = [
  'application/xml',
  'text/xml',
  'application/json',
  'text/plain',
  'application/octet-stream',
];

const iso = (ms: number): string => new Date(ms).toISOString();

function importAnswer(r: ImportRecord) {
  return {
    ...r,
    startedAt: r.startedAt === null ? null : iso(r.startedAt),
    finishedAt: r.finishedAt === null ? null : iso(r.finishedAt),
    observedAt: iso(r.observedAt),
    importedAt: iso(r.importedAt),
    lastImportedAt: iso(r.lastImportedAt),
  };
}

/** Registers POST /api/v1/imports, GET /api/v1/imports and GET /api/v1/imports/:id. */
export async function registerImportRoutes(app: App, deps: ImportRouteDeps): Promise<void> {
  const imports = new ImportService(deps.db, deps.assets, deps.scans, deps.clock);

  // The file is the body, whatever type the client gives it: the parsers live in this scope
  // only (elsewhere application/json is still parsed as JSON).
  await app.register((scope: App, _options, done) => {
    scope.removeContentTypeParser(['application/json', 'text/plain']);
    scope.addContentTypeParser(FILE_TYPES, { parseAs: 'buffer' }, (_request, body, next) => {
      next(null, body);
    });
    scope.post(
      '/api/v1/imports',
      {
        bodyLimit: MAX_IMPORT_BYTES,
        schema: {
          tags: ['discovery'],
          summary: 'Import an nmap XML (-oX) or masscan JSON (-oJ) file for an organization.',
          description:
            'The body is the file itself (application/xml, text/xml, application/json, ' +
            'text/plain or application/octet-stream; at most 256 MiB, 413 beyond). All or ' +
            'nothing: a malformed or truncated file is 400 import_format naming the line and ' +
            'column, a host outside the organization scope 403 out_of_scope, and nothing is ' +
            'stored. Findings are recorded at the time the scanner wrote in the file. A complete ' +
            'nmap scan closes the services it covered and no longer found. The same file ' +
            'imported again reuses its import and moves only last-seen times.',
          querystring: ImportQuery,
          consumes: FILE_TYPES,
          body: Type.Unknown({ description: 'The nmap XML or masscan JSON file, as it is.' }),
          response: {
            201: ImportOutcomeAnswer,
            400: ErrorBody,
            403: ErrorBody,
            404: ErrorBody,
            413: ErrorBody,
          },
        },
      },
      async (request, reply) => {
        const body: unknown = request.body;
        const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
        const outcome = await imports.importFile({
          org: request.query.org,
          bytes,
          format: request.query.format,
        });
        return reply.status(201).send({ ...importAnswer(outcome), reimport: outcome.reimport });
      },
    );
    done();
  });

  app.get(
    '/api/v1/imports',
    {
      schema: {
        tags: ['discovery'],
        summary: 'Imports, most recently imported first.',
        description: 'Counts are those of the first import of each file.',
        querystring: ImportListQuery,
        response: { 200: Type.Array(ImportAnswer), 404: ErrorBody },
      },
    },
    async (request) => {
      const orgId = await orgIdOf(deps.assets, request.query.org);
      return (await imports.list(request.query.limit ?? 100, orgId)).map(importAnswer);
    },
  );

  app.get(
    '/api/v1/imports/:id',
    {
      schema: {
        tags: ['discovery'],
        summary: 'One import.',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 200: ImportAnswer, 404: ErrorBody },
      },
    },
    async (request) => {
      const found = await imports.get(request.params.id);
      if (found === undefined) {
        throw new AppError('not_found', 404, `no import ${JSON.stringify(request.params.id)}`);
      }
      return importAnswer(found);
    },
  );
}
