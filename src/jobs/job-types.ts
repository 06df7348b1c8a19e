/** Every job type of this version, in one list: the registry the API and workers share. */
import { JobRegistry, type JobDefinition } from '#src/jobs/registry.js';
import { cpuJob, flakyJob, noopJob } from '#src/jobs/diag.jobs.js';
import { ingestJob } from '#src/assets/assets.jobs.js';

/** The job types, as declared by their capabilities. */
export const JOB_TYPES: readonly JobDefinition[] = [ingestJob, noopJob, cpuJob, flakyJob];

/** A registry of every job type. */
export function defaultRegistry(): JobRegistry {
  return new JobRegistry(JOB_TYPES);
}
