/**
 * The one mapping of errors to HTTP answers, {"error":{"code","message"}}, for the API app and
 * the predict-only server. A module of its own, free of the app factory and the database
 * drivers, so the predict process does not load either to share it.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '#src/http/errors.js';

/** Maps a status Fastify or a plugin chose to one of our stable codes. */
function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 503:
      return 'unavailable';
    default:
      return status >= 500 ? 'internal_error' : 'validation_error';
  }
}

/**
 * The error handler: an AppError as it is, an error `outage` describes (a backing engine that
 * is away) as 503 unavailable, a status Fastify or a plugin chose as its stable code, anything
 * else as a logged 500 that shows no internals.
 */
export function errorHandler(
  outage: (error: unknown) => string | undefined = () => undefined,
): (error: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  return (error, request, reply) => {
    if (error instanceof AppError) {
      return reply
        .status(error.status)
        .send({ error: { code: error.code, message: error.message } });
    }
    const away = outage(error);
    if (away !== undefined) {
      request.log.warn({ err: away, url: request.url }, 'backing service unavailable');
      return reply.status(503).send({
        error: {
          code: 'unavailable',
          message: `a backing service is unavailable, try again later: ${away}`,
        },
      });
    }
    const status =
      error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error, reqId: request.id, url: request.url }, 'unhandled error');
      return reply.status(500).send({
        error: {
          code: 'internal_error',
          message: 'internal error; the server log has the details',
        },
      });
    }
    return reply
      .status(status)
      .send({ error: { code: codeForStatus(status), message: error.message } });
  };
}

/** The 404 of a path no route serves. */
export function sendNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.status(404).send({
    error: {
      code: 'not_found',
      message: `no such endpoint: ${request.method} ${request.url.split('?')[0] ?? ''}`,
    },
  });
}
