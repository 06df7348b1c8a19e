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

/** States of a scan. */
export const SCAN_STATES = ['running', 'completed', 'failed', 'cancelled'] as const;
/** One of SCAN_STATES. */
export type ScanState = (typeof SCAN_STATES)[number];

export interface ScansTable {
  id: string;
  org_id: string;
  /** The expanded, in-scope addresses (JSON array), in the order the permutation indexes. */
  hosts: JsonColumn;
  /** Host names each address was resolved from (JSON object ip -> names); null before 0009. */
  host_names: NullableJsonColumn;
  /** Compact port list, e.g. "1-1024,3306". */
  ports: string;
  /** Rate, concurrency, timeout, retries, parallelism, probe settings (JSON). */
  options: JsonColumn;
  /** Key of the probe-order permutation. */
  seed: number;
  probes_total: number;
  shard_size: number;
  shard_count: number;
  state: ScanState;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

/** States of a scan shard: pending (not yet handed out), queued (a job exists), done. */
export type ShardState = 'pending' | 'queued' | 'done';

export interface ScanShardsTable {
  scan_id: string;
  shard: number;
  state: ShardState;
  probes_done: number;
  open_found: number;
  /** Times a worker started it (more than 1 after a worker died mid-shard). */
  runs: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface ServicesTable {
  /** The service asset's id (assets.kind = 'service', key "ip:port/tcp"). */
  id: string;
  org_id: string | null;
  ip: string;
  port: number;
  protocol: string;
  /** open, or closed once a complete scan covering it no longer finds it. */
  state: 'open' | 'closed';
  service: string | null;
  product: string | null;
  version: string | null;
  /** The latest ServiceFinding (JSON). */
  finding: JsonColumn;
  provider: string;
  /** scan, nmap or masscan: where the latest finding came from. */
  source: string;
  first_seen: number;
  last_seen: number;
  last_scan_id: string | null;
  /** When a complete run last closed it (an older finding does not reopen it); null if never. */
  closed_at: number | null;
}

export interface ImportsTable {
  id: string;
  org_id: string;
  /** nmap-xml or masscan-json. */
  format: string;
  scanner_name: string;
  scanner_version: string | null;
  scanner_args: string | null;
  /** SHA-256 (hex) of the file's bytes: the same file for the same organization is one row. */
  sha256: string;
  /** The scanner's own start and end times, when the file records them. */
  started_at: number | null;
  finished_at: number | null;
  /** The time its findings were recorded at: finished_at, else started_at, else import time. */
  observed_at: number;
  /** TCP ports the file says were scanned (nmap syntax), or null. */
  ports: string | null;
  /** 1 when the scanner recorded a normal end, else 0. */
  complete: number;
  host_count: number;
  /** Open TCP ports in the file. */
  service_count: number;
  /** What the first import of the file did: services new and seen again, closed, issues opened. */
  new_services: number;
  updated_services: number;
  closed_services: number;
  issues_opened: number;
  imported_at: number;
  last_imported_at: number;
}

/** System-owned status of an issue: active while observed, inactive once a complete scan misses it. */
export const ISSUE_STATUSES = ['active', 'inactive'] as const;
/** One of ISSUE_STATUSES. */
export type IssueStatus = (typeof ISSUE_STATUSES)[number];

/** User-owned progress of an issue, in workflow order. */
export const ISSUE_PROGRESS = [
  'new',
  'investigating',
  'in_progress',
  'acceptable_risk',
  'resolved',
] as const;
/** One of ISSUE_PROGRESS. */
export type IssueProgress = (typeof ISSUE_PROGRESS)[number];

export interface IssuesTable {
  id: string;
  org_id: string | null;
  /** The service asset (assets.kind = 'service') the policy fired on. */
  service_id: string;
  policy_id: string;
  title: string;
  /** critical, high, medium or low. */
  priority: string;
  /** critical 4 ... low 1: sorting by severity rather than by name. */
  priority_rank: number;
  status: IssueStatus;
  progress: IssueProgress;
  assignee: string | null;
  ip: string;
  port: number;
  provider: string;
  /** The finding's values that made the policy fire (JSON object). */
  evidence: JsonColumn;
  first_added: number;
  /** Only ever moves forward. */
  last_observed: number;
  status_changed_at: number;
  updated_at: number;
}

export interface IssueHistoryTable {
  id: string;
  issue_id: string;
  at: number;
  /** "system" for the lifecycle, else the user named by the API request. */
  actor: string;
  /** status, progress or assignee. */
  field: string;
  from_value: string | null;
  to_value: string | null;
}

export interface FactsTable {
  /** The content key (kind, subject, source, value): equal facts share one row. */
  id: string;
  kind: string;
  /** The asset the fact is about: a host name, an IP, a CIDR or sha256:HEX. */
  subject: string;
  value: JsonColumn;
  source: string;
  first_seen: number;
  last_seen: number;
}

export interface AttributionsTable {
  asset_id: string;
  org_id: string;
  /** Probability that the organization owns the asset. */
  score: number;
  /** owned | candidate | not_owned */
  decision: string;
  /** The evidence behind the score (JSON array). */
  reasons: JsonColumn;
  model_version: string;
  decided_at: number;
  confirmed_by: string | null;
  confirmed_at: number | null;
  /** An analyst's verdict: owned | not_owned, or null. */
  confirmation: string | null;
}

/** A provider's range from a refreshed list (it replaces that provider's bundled ranges). */
export interface ProviderRangesTable {
  provider: string;
  cidr: string;
  /** The base name of the file the range was read from, and its SHA-256 (hex). */
  source_file: string;
  source_sha256: string;
  refreshed_at: number;
}

/** Every table. */
export interface Database {
  organizations: OrganizationsTable;
  assets: AssetsTable;
  observations: ObservationsTable;
  jobs: JobsTable;
  workers: WorkersTable;
  cloud_environments: CloudEnvironmentsTable;
  scans: ScansTable;
  scan_shards: ScanShardsTable;
  services: ServicesTable;
  imports: ImportsTable;
  issues: IssuesTable;
  issue_history: IssueHistoryTable;
  facts: FactsTable;
  attributions: AttributionsTable;
  provider_ranges: ProviderRangesTable;
}
