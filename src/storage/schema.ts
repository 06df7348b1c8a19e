/**
 * Table types of the database, as Kysely sees them. Times are epoch milliseconds (bigint on
 * PostgreSQL, read back as numbers by the pool's type parser). JSON columns are written as JSON
 * text and read with `fromJson` (both engines hand back the text).
 */
import type { ColumnType } from 'kysely';

/** A JSON column: written as text, read as whatever the driver returns. */
export type JsonColumn = ColumnType<unknown, string, string>;
/** A nullable JSON column. */
export type NullableJsonColumn = ColumnType<unknown, string | null, string | null>;

/** Kinds of asset (DESIGN.md section 5). */
export const ASSET_KINDS = ['ip', 'domain', 'certificate', 'service', 'vm'] as const;
/** One of ASSET_KINDS. */
export type AssetKind = (typeof ASSET_KINDS)[number];

/** Where an observation came from. */
export const OBSERVATION_SOURCES = ['scan', 'import', 'rdap', 'ct', 'cloud'] as const;
/** One of OBSERVATION_SOURCES. */
export type ObservationSource = (typeof OBSERVATION_SOURCES)[number];

/** States of a job in the embedded queue. */
export const JOB_STATES = ['waiting', 'active', 'completed', 'failed'] as const;
/** One of JOB_STATES ("delayed" is waiting with run_at in the future). */
export type JobState = (typeof JOB_STATES)[number];

export interface OrganizationsTable {
  id: string;
  name: string;
  /** {domains, cidrs, asns, names} */
  seeds: JsonColumn;
  created_at: number;
}

export interface AssetsTable {
  id: string;
  kind: AssetKind;
  /** Canonical identity within the kind: an IP, a lower-case domain, a SHA-256, ip:port/proto. */
  key: string;
  org_id: string | null;
  provider: string | null;
  first_seen: number;
  last_seen: number;
}

export interface ObservationsTable {
  id: string;
  asset_id: string;
  source: ObservationSource;
  data: JsonColumn;
  observed_at: number;
}

export interface JobsTable {
  id: string;
  queue: string;
  payload: JsonColumn;
  /** 1 runs first. */
  priority: number;
  /** Enqueue order within a priority: enqueue time in microseconds plus a counter. */
  seq: number;
  state: JobState;
  attempts: number;
  max_attempts: number;
  /** Not before this time (backoff and delayed jobs). */
  run_at: number;
  lease_until: number | null;
  worker_id: string | null;
  error: string | null;
  result: NullableJsonColumn;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface WorkersTable {
  id: string;
  host: string;
  pid: number;
  queues: JsonColumn;
  /** Ids of the jobs it is running. */
  current_jobs: JsonColumn;
  /** Jobs finished per second over the last ten seconds, by queue. */
  queue_rates: JsonColumn;
  processed: number;
  failed: number;
  /** Jobs finished per second over the last ten seconds. */
  rate: number;
  started_at: number;
  heartbeat_at: number;
  stopped_at: number | null;
}

export interface CloudEnvironmentsTable {
  version: number;
  /** The document as validated, re-serialised (canonical JSON). */
  document: string;
  sha256: string;
  vm_count: number;
  rule_count: number;
  created_at: number;
}

/** Every table. */
export interface Database {
  organizations: OrganizationsTable;
  assets: AssetsTable;
  observations: ObservationsTable;
  jobs: JobsTable;
  workers: WorkersTable;
  cloud_environments: CloudEnvironmentsTable;
}
