/** Shapes of the API answers the UI reads (see docs/openapi.json). */

/** GET /api/v1/scheduler */
export interface SchedulerView {
  backend: 'embedded' | 'bullmq';
  generated_at: string;
  queues: {
    name: string;
    description: string;
    waiting: number;
    delayed: number;
    active: number;
    completed: number;
    failed: number;
    rate: number;
  }[];
  workers: {
    id: string;
    host: string;
    pid: number;
    queues: string[];
    status: 'alive' | 'gone' | 'stopped';
    current_jobs: string[];
    heartbeat_age_ms: number;
    jobs_per_second: number;
    processed: number;
    failed: number;
    started_at: string;
  }[];
  recent_failures: {
    id: string;
    type: string;
    error: string;
    attempts: number;
    failed_at: string;
  }[];
}

/** GET /api/v1/environment */
export interface EnvironmentInfo {
  version: number;
  source: string;
  loaded_at: string;
  vm_count: number;
  rule_count: number;
  tag_count: number;
  attacker_set_count: number;
  build_ms: number;
}

/** One item of GET /api/v1/environments */
export interface StoredEnvironment {
  version: number;
  sha256: string;
  vm_count: number;
  rule_count: number;
  created_at: string;
}

/** One step of GET /api/v1/attack-path */
export interface PathStep {
  vm_id: string;
  fw_id: string | null;
}

/** Priority of an issue. */
export type Priority = 'critical' | 'high' | 'medium' | 'low';
/** System-owned status of an issue. */
export type Status = 'active' | 'inactive';
/** User-owned progress of an issue. */
export type Progress = 'new' | 'investigating' | 'in_progress' | 'acceptable_risk' | 'resolved';

/** One issue as GET /api/v1/issues lists it. */
export interface Issue {
  id: string;
  title: string;
  policyId: string;
  priority: Priority;
  status: Status;
  progress: Progress;
  assignee: string | null;
  ip: string;
  port: number;
  serviceId: string;
  orgId: string;
  provider: string;
  firstAdded: string;
  lastObserved: string;
}

/** GET /api/v1/issues/:id */
export interface IssueDetail extends Issue {
  evidence: Record<string, unknown>;
  remediation: string;
  policyName: string;
  history: { at: string; actor: string; field: string; from: unknown; to: unknown }[];
}

/** A page of GET /api/v1/issues */
export interface IssuePage {
  items: Issue[];
  nextCursor: string | null;
  total: number;
}

/** GET /api/v1/issues/summary */
export interface IssueSummary {
  byPriority: Record<string, number>;
  byStatus: Record<string, number>;
  byProgress: Record<string, number>;
  byProvider: Record<string, number>;
  openedByDay: { day: string; count: number }[];
}

/** The largest groups of GET /api/v1/services/summary, the rest folded into `other`. */
export interface ServiceBreakdown {
  items: { name: string; count: number }[];
  other: { count: number; names: number };
}

/** GET /api/v1/services/summary */
export interface ServicesSummary {
  orgId: string | null;
  totals: {
    openServices: number;
    closedServices: number;
    ipAssets: number;
    exposedIps: number;
    products: number;
    newThisWeek: number;
  };
  byProduct: ServiceBreakdown;
  byService: ServiceBreakdown;
  byProvider: { provider: string; ipAssets: number; exposedIps: number; openServices: number }[];
  firstSeenByDay: { day: string; count: number }[];
}

/** A TLS certificate as a scan records it. */
export interface TlsCertificate {
  subject: string;
  subjectOrg?: string;
  issuer: string;
  issuerOrg?: string;
  sans: string[];
  validFrom: string;
  validTo: string;
  selfSigned: boolean;
  keyType?: string;
  keyBits?: number;
  sha256: string;
  serial: string;
}

/** What a probe learned about a service (banner, TLS, HTTP). */
export interface ServiceFinding {
  banner?: string;
  cpe?: string[];
  tls?: { protocol?: string; cipher?: string; chain: TlsCertificate[] };
  http?: { status: number; server?: string; poweredBy?: string; title?: string; location?: string };
}

/** One item of GET /api/v1/services */
export interface Service {
  id: string;
  orgId: string | null;
  ip: string;
  port: number;
  protocol: string;
  state: string;
  service: string | null;
  product: string | null;
  version: string | null;
  provider: string;
  source: string;
  firstSeen: string;
  lastSeen: string;
  finding: ServiceFinding | null;
}

/** One item of GET /api/v1/assets */
export interface Asset {
  id: string;
  kind: string;
  key: string;
  orgId: string | null;
  provider: string | null;
  firstSeen: string;
  lastSeen: string;
}

/** An observation of an asset or service. */
export interface Observation {
  source: string;
  observedAt: string;
  data: unknown;
}

/** A cursor-paged list answer. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  total: number;
}
