/** Every job type of this version, in one list: the registry the API and workers share. */
import { JobRegistry, type JobDefinition } from '#src/jobs/registry.js';
import { cpuJob, flakyJob, noopJob } from '#src/jobs/diag.jobs.js';
import { ingestJob } from '#src/assets/assets.jobs.js';
import { scanShardJob } from '#src/discovery/discovery.jobs.js';
import { filterJob } from '#src/attribution/attribution.jobs.js';

/** The job types, as declared by their capabilities. */
export const JOB_TYPES: readonly JobDefinition[] = [
  ingestJob,
  scanShardJob,
  noopJob,
  cpuJob,
  flakyJob,
  filterJob,
];

/** A registry of every job type. */
export function defaultRegistry(): JobRegistry {
  return new JobRegistry(JOB_TYPES);
}
