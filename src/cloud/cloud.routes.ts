/** HTTP routes of the cloud attack surface: thin handlers over the environment's index. */
import { Type, type Static } from 'typebox';
import type { FastifyReply } from 'fastify';
import type { App } from '#src/http/app.js';
import { AppError } from '#src/http/errors.js';
import { ErrorBody } from '#src/http/http.schema.js';
import { EnvironmentError } from '#src/cloud/environment.loader.js';
import type { EnvironmentService, EnvironmentSnapshot } from '#src/cloud/environment.service.js';
import {
  AttackAnswer,
  AttackQuery,
  EnvironmentInfo,
  PathAnswer,
  PathQuery,
} from '#src/cloud/cloud.schema.js';

/** Result of a reload, as /environment/reload reports it. */
export interface ReloadOutcome {
  readonly version: number;
  readonly vm_count: number;
  /** Processes that swapped in the new environment (1 without a cluster). */
  readonly workers: number;
}

/** Reloads the environment everywhere it is served; rejects with EnvironmentError if invalid. */
export type Reloader = () => Promise<ReloadOutcome>;

/**
 * Records a request the route answered itself (bypassing Fastify's onSend). A promise means
 * the response must wait for it (statistics shared through Redis).
 */
export type RecordRequest = (
  method: string,
  route: string,
  status: number,
  ms: number,
) => Promise<void> | undefined;

/** What the routes need. */
export interface CloudRouteDeps {
  readonly environments: EnvironmentService;
  readonly reload: Reloader;
  readonly record: RecordRequest;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Sends cached, ready-to-send JSON. One part goes through Fastify as a Buffer (no serializer).
 * Two parts (an answer with the asking VM cut out) are written back to back on the raw response,
 * so a megabyte answer is never copied to remove one id; such a reply bypasses onSend, so it is
 * recorded here, just before it is written, exactly as the onSend hook would.
 */
function sendJsonParts(reply: FastifyReply, parts: readonly Buffer[], record: RecordRequest): void {
  if (parts.length === 1) {
    reply.type(JSON_TYPE).send(parts[0]);
    return;
  }
  let length = 0;
  for (const part of parts) length += part.length;
  reply.hijack();
  const write = (): void => {
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': length });
    for (let i = 0; i < parts.length - 1; i++) raw.write(parts[i]);
    raw.end(parts.at(-1));
  };
  const shared = record(reply.request.method, '/api/v1/attack', 200, reply.elapsedTime);
  if (shared === undefined) write();
  else void shared.then(write);
}

function vmNotFound(vmId: string): AppError {
  return new AppError(
    'vm_not_found',
    404,
    `no VM with vm_id ${JSON.stringify(vmId)} in the environment`,
  );
}

/** Describes a snapshot for /api/v1/environment. */
export function describeSnapshot(snapshot: EnvironmentSnapshot): Static<typeof EnvironmentInfo> {
  return {
    version: snapshot.version,
    source: snapshot.source,
    loaded_at: snapshot.loadedAt.toISOString(),
    ...snapshot.index.info,
    cache: snapshot.index.cacheInfo(),
  };
}

/** Registers /api/v1/attack, /attack-path, /environment and /environment/reload. */
export function registerCloudRoutes(app: App, deps: CloudRouteDeps): void {
  const { environments } = deps;

  app.get(
    '/api/v1/attack',
    {
      schema: {
        tags: ['cloud'],
        summary: 'The VMs that can attack vm_id.',
        description:
          'A JSON array of vm_ids, each once, never vm_id itself, sorted ascending by UTF-16 ' +
          'code units. mode=direct (default): one firewall rule allows the hop. ' +
          'mode=transitive: some chain of allowed hops ends at vm_id.',
        querystring: AttackQuery,
        response: { 200: AttackAnswer, 400: ErrorBody, 404: ErrorBody },
      },
    },
    (request, reply) => {
      const { vm_id: vmId, mode = 'direct' } = request.query;
      const parts = environments.current.index.attackersJson(vmId, mode);
      if (parts === undefined) throw vmNotFound(vmId);
      sendJsonParts(reply, parts, deps.record);
    },
  );

  app.get(
    '/api/v1/attack-path',
    {
      schema: {
        tags: ['cloud'],
        summary: 'One shortest chain of hops from one VM to another.',
        description:
          'Each step names the VM reached and the rule (fw_id) allowing the hop into it; the ' +
          'first step is `from` with fw_id null. 404 no_path when `to` cannot be reached.',
        querystring: PathQuery,
        response: { 200: PathAnswer, 400: ErrorBody, 404: ErrorBody },
      },
    },
    (request) => {
      const { from, to } = request.query;
      const index = environments.current.index;
      if (!index.has(from)) throw vmNotFound(from);
      if (!index.has(to)) throw vmNotFound(to);
      const path = index.path(from, to);
      if (!path) {
        throw new AppError(
          'no_path',
          404,
          `no chain of allowed hops leads from ${JSON.stringify(from)} to ${JSON.stringify(to)}`,
        );
      }
      return path;
    },
  );

  app.get(
    '/api/v1/environment',
    {
      schema: {
        tags: ['cloud'],
        summary: 'The environment being served: version, source, size and index figures.',
        response: { 200: EnvironmentInfo },
      },
    },
    () => describeSnapshot(environments.current),
  );

  app.post(
    '/api/v1/environment/reload',
    {
      schema: {
        tags: ['cloud'],
        summary: 'Re-read the environment file and swap it in without downtime.',
        description:
          'A valid file replaces the served environment atomically (requests in flight finish ' +
          'on the old one). An invalid file is rejected with 422 validation_error naming the ' +
          'JSON path of the first bad element, and the old environment keeps serving. ' +
          'SIGHUP does the same.',
        response: {
          200: Type.Object({
            version: Type.Integer(),
            vm_count: Type.Integer(),
            workers: Type.Integer({
              description: 'Processes that swapped in the new environment.',
            }),
          }),
          422: ErrorBody,
        },
      },
    },
    async () => {
      try {
        return await deps.reload();
      } catch (error) {
        if (error instanceof EnvironmentError)
          throw new AppError('validation_error', 422, error.message);
        throw error;
      }
    },
  );
}
