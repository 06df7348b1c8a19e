/**
 * The one typed, validated configuration object, and the only reader of process.env.
 * Every setting has a flag, a SURFACESCAN_* variable and a default; flags win over variables.
 * All problems are collected and reported together so a user fixes them in one go.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DATABASE_URL, parseDatabaseUrl } from '#src/storage/database-url.js';

/** Log levels pino understands. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The validated settings of a surfacescan process. */
export interface Config {
  /** Interface the HTTP server binds to. */
  readonly host: string;
  /** TCP port of the HTTP server; 0 picks a free one. */
  readonly port: number;
  /** Path of the cloud environment JSON file served by the attack API. */
  readonly cloudEnv: string;
  /** Number of server processes sharing the port (node:cluster); 1 = no cluster. */
  readonly workers: number;
  /** Minimum level of log lines written to stdout. */
  readonly logLevel: LogLevel;
  /** Write one log line per request (costs throughput on the hot path). */
  readonly accessLog: boolean;
  /** Memory bound of the cached attack answers, per mode, in MiB. */
  readonly answerCacheMb: number;
  /** How long a graceful shutdown waits for in-flight requests before it forces exit. */
  readonly shutdownTimeoutMs: number;
  /** Where data lives: sqlite:PATH, sqlite::memory: or postgres://... */
  readonly databaseUrl: string;
  /** Redis for the BullMQ queue and cluster-wide shared state; null = embedded queue. */
  readonly redisUrl: string | null;
  /** Prefix of every Redis key, so deployments can share one Redis. */
  readonly redisPrefix: string;
  /** What `serve` runs: all = API and job workers; api = API only (workers run elsewhere). */
  readonly role: Role;
  /** Job queues this process works on; null = all of them. */
  readonly queues: readonly string[] | null;
  /** Threads of the CPU pool that runs heavy job handlers. */
  readonly workerThreads: number;
  /** A running job's lease: if its worker stops renewing it for this long, it is retried. */
  readonly jobLeaseMs: number;
  /** How often workers report to the scheduler (and renew leases, every lease/3 at most). */
  readonly heartbeatMs: number;
  /** Probes per second a scan may ask for; also the cap of all scans one process runs. */
  readonly scanMaxRate: number;
  /** Probes per second of a scan that names no rate. */
  readonly scanDefaultRate: number;
  /** Most addresses one scan may cover. */
  readonly scanMaxHosts: number;
  /** Attribution model artefact for /api/v1/predict; null = the bundled model. */
  readonly attributionModel: string | null;
  /** Probability at or above which a pair is owned; null = the model's threshold. */
  readonly predictOwnedThreshold: number | null;
  /** Probability at or above which a pair is a candidate; null = the model's threshold. */
  readonly predictCandidateThreshold: number | null;
  /** Extra policy files, loaded after the bundled ones (a policy with a bundled id replaces it). */
  readonly policies: readonly string[];
  /** Extra fingerprint files, loaded after the bundled database (their rules are tried first). */
  readonly fingerprints: readonly string[];
  /** Load the bundled example exposure data into a database without organizations. */
  readonly exampleData: boolean;
}

/** Process roles of `surfacescan serve`. */
export const ROLES = ['all', 'api', 'predict'] as const;
/** One of ROLES. */
export type Role = (typeof ROLES)[number];

/** The bundled example environment, resolved against the installed package. */
export const BUNDLED_CLOUD_ENV = fileURLToPath(
  new URL('../../../examples/cloud-env.json', import.meta.url),
);

type Parser<T> = (raw: string) => T | { problem: string };
// (Array values such as `queues` never have a `problem` key, so the check below is safe.)

interface Setting<K extends keyof Config> {
  readonly key: K;
  readonly flag: string;
  readonly env: string;
  readonly fallback: () => Config[K];
  readonly parse: Parser<Config[K]>;
  /** One-line meaning, used in --help and the README table. */
  readonly doc: string;
}

function integer(min: number, max: number): Parser<number> {
  return (raw) => {
    // Plain decimal digits only: Number() would also take "0x1F41" or "1e3".
    const value = /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(value) || value < min || value > max) {
      return { problem: `must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}` };
    }
    return value;
  };
}

const parseBoolean: Parser<boolean> = (raw) => {
  const value = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  return { problem: `must be true or false, got ${JSON.stringify(raw)}` };
};

const probability: Parser<number | null> = (raw) => {
  if (raw.trim() === '' || raw.trim() === 'model') return null;
  const value = Number(raw);
  return /^\s*[\d.]+\s*$/.test(raw) && value >= 0 && value <= 1
    ? value
    : { problem: `must be a probability from 0 to 1 (or "model"), got ${JSON.stringify(raw)}` };
};

/** Comma-separated file paths; empty means none. */
const fileList: Parser<readonly string[]> = (raw) =>
  raw
    .split(',')
    .map((path) => path.trim())
    .filter((path) => path !== '');

const nonEmpty: Parser<string> = (raw) =>
  raw.trim() === '' ? { problem: 'must not be empty' } : raw;

/** Every setting, in the order the README documents them. */
export const SETTINGS = [
  {
    key: 'host',
    flag: '--host',
    env: 'SURFACESCAN_HOST',
    fallback: () => '127.0.0.1',
    parse: nonEmpty,
    doc: 'Interface the HTTP server binds to (0.0.0.0 to listen on all).',
  } satisfies Setting<'host'>,
  {
    key: 'port',
    flag: '--port',
    env: 'SURFACESCAN_PORT',
    fallback: () => 8001,
    parse: integer(0, 65535),
    doc: 'TCP port of the HTTP server (0 picks a free port).',
  } satisfies Setting<'port'>,
  {
    key: 'cloudEnv',
    flag: '--cloud-env',
    env: 'SURFACESCAN_CLOUD_ENV',
    fallback: () => BUNDLED_CLOUD_ENV,
    parse: nonEmpty,
    doc: 'Cloud environment JSON file served by the attack API (default: the bundled example).',
  } satisfies Setting<'cloudEnv'>,
  {
    key: 'workers',
    flag: '--workers',
    env: 'SURFACESCAN_WORKERS',
    fallback: () => 1,
    parse: (raw) => (raw.trim() === 'auto' ? availableParallelism() : integer(1, 256)(raw)),
    doc: 'Server processes sharing the port (node:cluster); "auto" = one per core.',
  } satisfies Setting<'workers'>,
  {
    key: 'logLevel',
    flag: '--log-level',
    env: 'SURFACESCAN_LOG_LEVEL',
    fallback: (): LogLevel => 'info',
    parse: (raw) =>
      (LOG_LEVELS as readonly string[]).includes(raw)
        ? (raw as LogLevel)
        : { problem: `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw)}` },
    doc: `Minimum log level (${LOG_LEVELS.join(', ')}).`,
  } satisfies Setting<'logLevel'>,
  {
    key: 'accessLog',
    flag: '--access-log',
    env: 'SURFACESCAN_ACCESS_LOG',
    fallback: () => false,
    parse: parseBoolean,
    doc: 'Log one line per request (off by default: it costs throughput).',
  } satisfies Setting<'accessLog'>,
  {
    key: 'answerCacheMb',
    flag: '--answer-cache-mb',
    env: 'SURFACESCAN_ANSWER_CACHE_MB',
    fallback: () => 256,
    parse: integer(0, 1_048_576),
    doc: 'Memory bound of cached attack answers per mode, in MiB.',
  } satisfies Setting<'answerCacheMb'>,
  {
    key: 'shutdownTimeoutMs',
    flag: '--shutdown-timeout-ms',
    env: 'SURFACESCAN_SHUTDOWN_TIMEOUT_MS',
    fallback: () => 10_000,
    parse: integer(0, 600_000),
    doc: 'Graceful shutdown: how long in-flight requests may take before exit is forced.',
  } satisfies Setting<'shutdownTimeoutMs'>,
  {
    key: 'databaseUrl',
    flag: '--database-url',
    env: 'SURFACESCAN_DATABASE_URL',
    fallback: () => DEFAULT_DATABASE_URL,
    parse: (raw) => {
      const target = parseDatabaseUrl(raw);
      return 'problem' in target ? target : raw.trim();
    },
    doc: 'Database: sqlite:PATH (default sqlite:./data/surfacescan.db), sqlite::memory: or postgres://user@host:5432/db.',
  } satisfies Setting<'databaseUrl'>,
  {
    key: 'redisUrl',
    flag: '--redis-url',
    env: 'SURFACESCAN_REDIS_URL',
    fallback: () => null,
    parse: (raw) => {
      const value = raw.trim();
      if (value === '') return null;
      return /^rediss?:\/\/[^/]/.test(value)
        ? value
        : {
            problem: `must be redis://host:port[/db] or rediss://..., got ${JSON.stringify(value)}`,
          };
    },
    doc: 'Redis for the BullMQ job queue and shared request statistics (default: none, embedded queue).',
  } satisfies Setting<'redisUrl'>,
  {
    key: 'redisPrefix',
    flag: '--redis-prefix',
    env: 'SURFACESCAN_REDIS_PREFIX',
    fallback: () => 'surfacescan',
    parse: (raw) =>
      /^[A-Za-z0-9_.-]{1,64}$/.test(raw.trim())
        ? raw.trim()
        : { problem: `must be 1-64 letters, digits, "_", "." or "-", got ${JSON.stringify(raw)}` },
    doc: 'Prefix of every Redis key, so several deployments can share one Redis.',
  } satisfies Setting<'redisPrefix'>,
  {
    key: 'role',
    flag: '--role',
    env: 'SURFACESCAN_ROLE',
    fallback: (): Role => 'all',
    parse: (raw) =>
      (ROLES as readonly string[]).includes(raw.trim())
        ? (raw.trim() as Role)
        : { problem: `must be one of ${ROLES.join(', ')}, got ${JSON.stringify(raw)}` },
    doc: 'serve: "all" runs the API and job workers in one process; "api" only the API; "predict" only /api/v1/predict (and health).',
  } satisfies Setting<'role'>,
  {
    key: 'queues',
    flag: '--queues',
    env: 'SURFACESCAN_QUEUES',
    fallback: () => null,
    parse: (raw) => {
      const names = raw
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== '');
      if (names.length === 0 || names.includes('*')) return null;
      const bad = names.find((name) => !/^[a-z][a-z0-9_.-]*$/.test(name));
      return bad === undefined
        ? names
        : { problem: `must be comma-separated queue names, got ${JSON.stringify(bad)}` };
    },
    doc: 'Job queues this process works on, comma-separated (default: all).',
  } satisfies Setting<'queues'>,
  {
    key: 'workerThreads',
    flag: '--worker-threads',
    env: 'SURFACESCAN_WORKER_THREADS',
    fallback: () => availableParallelism(),
    parse: integer(1, 256),
    doc: 'Threads of the pool that runs CPU-heavy job handlers (default: one per core).',
  } satisfies Setting<'workerThreads'>,
  {
    key: 'jobLeaseMs',
    flag: '--job-lease-ms',
    env: 'SURFACESCAN_JOB_LEASE_MS',
    fallback: () => 30_000,
    parse: integer(500, 3_600_000),
    doc: "A running job's lease: a job whose worker stops renewing it for this long is retried.",
  } satisfies Setting<'jobLeaseMs'>,
  {
    key: 'heartbeatMs',
    flag: '--heartbeat-ms',
    env: 'SURFACESCAN_HEARTBEAT_MS',
    fallback: () => 2_000,
    parse: integer(100, 600_000),
    doc: 'How often a worker reports to the scheduler; 3 missed heartbeats and it is shown as gone.',
  } satisfies Setting<'heartbeatMs'>,
  {
    key: 'scanMaxRate',
    flag: '--scan-max-rate',
    env: 'SURFACESCAN_SCAN_MAX_RATE',
    fallback: () => 10_000,
    parse: integer(1, 1_000_000),
    doc: 'Cap on probes (TCP connects) per second: what one scan may ask for, and all scans of one process together.',
  } satisfies Setting<'scanMaxRate'>,
  {
    key: 'scanDefaultRate',
    flag: '--scan-default-rate',
    env: 'SURFACESCAN_SCAN_DEFAULT_RATE',
    fallback: () => 1_000,
    parse: integer(1, 1_000_000),
    doc: 'Probes per second of a scan that names no rate (never above the cap).',
  } satisfies Setting<'scanDefaultRate'>,
  {
    key: 'scanMaxHosts',
    flag: '--scan-max-hosts',
    env: 'SURFACESCAN_SCAN_MAX_HOSTS',
    fallback: () => 65_536,
    parse: integer(1, 16_777_216),
    doc: 'Most addresses one scan may cover (a /16 by default).',
  } satisfies Setting<'scanMaxHosts'>,
  {
    key: 'attributionModel',
    flag: '--attribution-model',
    env: 'SURFACESCAN_ATTRIBUTION_MODEL',
    fallback: () => null,
    parse: (raw) => (raw.trim() === '' ? null : raw.trim()),
    doc: 'Attribution model artefact (JSON) that /api/v1/predict scores with (default: the bundled model).',
  } satisfies Setting<'attributionModel'>,
  {
    key: 'predictOwnedThreshold',
    flag: '--predict-owned-threshold',
    env: 'SURFACESCAN_PREDICT_OWNED_THRESHOLD',
    fallback: () => null,
    parse: probability,
    doc: "Probability at or above which /api/v1/predict says owned (default: the model's).",
  } satisfies Setting<'predictOwnedThreshold'>,
  {
    key: 'predictCandidateThreshold',
    flag: '--predict-candidate-threshold',
    env: 'SURFACESCAN_PREDICT_CANDIDATE_THRESHOLD',
    fallback: () => null,
    parse: probability,
    doc: "Probability at or above which /api/v1/predict says candidate (default: the model's).",
  } satisfies Setting<'predictCandidateThreshold'>,
  {
    key: 'policies',
    flag: '--policies',
    env: 'SURFACESCAN_POLICIES',
    fallback: () => [],
    parse: fileList,
    doc: 'Extra policy files (JSON), comma-separated: added to the bundled policies, a same id replaces the bundled one.',
  } satisfies Setting<'policies'>,
  {
    key: 'fingerprints',
    flag: '--fingerprints',
    env: 'SURFACESCAN_FINGERPRINTS',
    fallback: () => [],
    parse: fileList,
    doc: 'Extra fingerprint files (JSON), comma-separated: their probes are added and their rules tried before the bundled ones.',
  } satisfies Setting<'fingerprints'>,
  {
    key: 'exampleData',
    flag: '--example-data',
    env: 'SURFACESCAN_EXAMPLE_DATA',
    fallback: () => false,
    parse: parseBoolean,
    doc: 'Load the bundled example exposure data (Example Corp, documentation addresses) into a database that has no organization yet; `npm start` turns it on.',
  } satisfies Setting<'exampleData'>,
] as const;

/** Raised when settings are invalid; the message lists every problem, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Flag values as the CLI received them (strings, not yet validated), by setting key. */
export type RawFlags = Partial<Record<keyof Config, string | boolean | undefined>>;

const KNOWN_PREFIXES = ['SURFACESCAN_TEST_'];

/**
 * Builds the frozen config from flags, then SURFACESCAN_* variables, then defaults.
 * `env` defaults to process.env; this module is the only place that reads it.
 */
export function loadConfig(flags: RawFlags = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const setting of SETTINGS as readonly Setting<keyof Config>[]) {
    const flagValue = flags[setting.key];
    const envValue = env[setting.env];
    let raw: string | undefined;
    let origin: string;
    if (flagValue !== undefined) {
      raw = typeof flagValue === 'boolean' ? String(flagValue) : flagValue;
      origin = setting.flag;
    } else {
      raw = envValue;
      origin = setting.env;
    }
    if (raw === undefined) {
      values[setting.key] = setting.fallback();
      continue;
    }
    const parsed = setting.parse(raw);
    if (parsed !== null && typeof parsed === 'object' && 'problem' in parsed)
      problems.push(`${origin} ${parsed.problem}`);
    else values[setting.key] = parsed;
  }
  const known = new Set<string>(SETTINGS.map((s) => s.env));
  for (const name of Object.keys(env)) {
    if (!name.startsWith('SURFACESCAN_') || known.has(name)) continue;
    if (KNOWN_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    problems.push(`${name} is not a surfacescan setting (known: ${[...known].join(', ')})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(values as unknown as Config);
}
