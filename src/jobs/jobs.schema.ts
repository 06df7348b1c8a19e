/** TypeBox schemas of the jobs and scheduler API; the handler types derive from them. */
import { Type } from 'typebox';

/** One job to enqueue. */
export const JobRequest = Type.Object(
  {
    type: Type.String({ minLength: 1, description: 'A registered job type, e.g. assets.ingest.' }),
    payload: Type.Unknown({ description: "Validated against the job type's payload schema." }),
    id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'Your id for the job: a job id that exists already is not added again.',
      }),
    ),
    priority: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1000, description: '1 runs first; default per type.' }),
    ),
    delay_ms: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 7 * 24 * 3600 * 1000, description: 'Run not before.' }),
    ),
  },
  { additionalProperties: false },
);

/** POST /api/v1/jobs */
export const EnqueueBody = Type.Object(
  { jobs: Type.Array(JobRequest, { minItems: 1, maxItems: 10_000 }) },
  { additionalProperties: false },
);

/** The ids of the enqueued jobs, in request order. */
export const EnqueueAnswer = Type.Object({
  ids: Type.Array(Type.String()),
  queued: Type.Integer({
    description: 'Jobs in the request (duplicates of existing ids included).',
  }),
});

/** GET /api/v1/jobs/{id} */
export const JobParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

/** A job and where it is in its life. */
export const JobAnswer = Type.Object({
  id: Type.String(),
  type: Type.String(),
  status: Type.Union([
    Type.Literal('waiting'),
    Type.Literal('delayed'),
    Type.Literal('active'),
    Type.Literal('completed'),
    Type.Literal('failed'),
  ]),
  payload: Type.Unknown(),
  priority: Type.Integer(),
  attempts: Type.Integer({ description: 'Runs started so far.' }),
  max_attempts: Type.Integer(),
  error: Type.Union([Type.String(), Type.Null()], { description: 'Why the last run failed.' }),
  result: Type.Unknown({ description: 'What the handler returned (null until completed).' }),
  created_at: Type.String({ format: 'date-time' }),
  started_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

/** GET /api/v1/scheduler */
export const SchedulerAnswer = Type.Object({
  backend: Type.Union([Type.Literal('embedded'), Type.Literal('bullmq')]),
  generated_at: Type.String({ format: 'date-time' }),
  queues: Type.Array(
    Type.Object({
      name: Type.String(),
      description: Type.String(),
      waiting: Type.Integer({ description: 'Ready to run.' }),
      delayed: Type.Integer({ description: 'Waiting for a backoff or a delay to pass.' }),
      active: Type.Integer(),
      completed: Type.Integer({ description: 'Kept for a while (dedup and history).' }),
      failed: Type.Integer({ description: 'Failed for good, with their errors kept.' }),
      rate: Type.Number({ description: 'Jobs finished per second over the last 10 s.' }),
    }),
  ),
  workers: Type.Array(
    Type.Object({
      id: Type.String(),
      host: Type.String(),
      pid: Type.Integer(),
      queues: Type.Array(Type.String()),
      status: Type.Union([Type.Literal('alive'), Type.Literal('gone'), Type.Literal('stopped')], {
        description: 'gone: missed 3 heartbeats (killed or cut off); stopped: shut down cleanly.',
      }),
      current_jobs: Type.Array(Type.String()),
      heartbeat_age_ms: Type.Integer(),
      jobs_per_second: Type.Number(),
      processed: Type.Integer(),
      failed: Type.Integer(),
      started_at: Type.String({ format: 'date-time' }),
    }),
  ),
  recent_failures: Type.Array(
    Type.Object({
      id: Type.String(),
      type: Type.String(),
      error: Type.String(),
      attempts: Type.Integer(),
      failed_at: Type.String({ format: 'date-time' }),
    }),
  ),
});
