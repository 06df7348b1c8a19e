/** HTTP routes of the job platform: enqueue, look up, and the scheduler view. */
import type { App } from '#src/http/app.js';
import { ErrorBody } from '#src/http/http.schema.js';
import type { JobService } from '#src/jobs/jobs.service.js';
import {
  EnqueueAnswer,
  EnqueueBody,
  JobAnswer,
  JobParams,
  SchedulerAnswer,
} from '#src/jobs/jobs.schema.js';

/** Registers /api/v1/jobs, /api/v1/jobs/{id} and /api/v1/scheduler. */
export function registerJobRoutes(app: App, jobs: JobService): void {
  app.post(
    '/api/v1/jobs',
    {
      // 10,000 jobs with payloads of a few KB each.
      bodyLimit: 64 * 1024 * 1024,
      schema: {
        tags: ['jobs'],
        summary: 'Enqueue up to 10,000 jobs.',
        description:
          'Every payload is validated against its job type first: one bad job rejects the ' +
          'request with 400 validation_error naming its index, and nothing is enqueued. A job ' +
          'id that exists already is not added again (dedup). 503 unavailable when the queue ' +
          'store cannot be reached.',
        body: EnqueueBody,
        response: { 202: EnqueueAnswer, 400: ErrorBody, 503: ErrorBody },
      },
    },
    async (request, reply) => {
      const ids = await jobs.enqueue(
        request.body.jobs.map((job) => ({
          type: job.type,
          payload: job.payload,
          id: job.id,
          priority: job.priority,
          delayMs: job.delay_ms,
        })),
      );
      return reply.status(202).send({ ids, queued: ids.length });
    },
  );

  app.get(
    '/api/v1/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary: 'One job: status, attempts, error or result.',
        params: JobParams,
        response: { 200: JobAnswer, 404: ErrorBody, 503: ErrorBody },
      },
    },
    (request) => jobs.get(request.params.id),
  );

  app.get(
    '/api/v1/scheduler',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Queues, workers and recent failures: what is handed out, to whom, how fast.',
        response: { 200: SchedulerAnswer, 503: ErrorBody },
      },
    },
    () => jobs.scheduler(),
  );
}
