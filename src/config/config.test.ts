import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { BUNDLED_CLOUD_ENV, ConfigError, SETTINGS, loadConfig } from '#src/config/config.js';

/** Runs loadConfig and returns the ConfigError's problems, failing if it does not throw one. */
function problemsOf(...args: Parameters<typeof loadConfig>): readonly string[] {
  try {
    loadConfig(...args);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${String(error)}`);
    assert.equal(error.name, 'ConfigError');
    assert.equal(error.message, `invalid configuration:\n  - ${error.problems.join('\n  - ')}`);
    return error.problems;
  }
  assert.fail('loadConfig did not throw');
}

const KNOWN_VARIABLES = SETTINGS.map((s) => s.env).join(', ');

describe('loadConfig', () => {
  it('uses the defaults when there are no flags and no variables', () => {
    assert.deepEqual(loadConfig({}, {}), {
      host: '127.0.0.1',
      port: 8001,
      cloudEnv: BUNDLED_CLOUD_ENV,
      workers: 1,
      logLevel: 'info',
      accessLog: false,
      answerCacheMb: 256,
      shutdownTimeoutMs: 10_000,
      databaseUrl: 'sqlite:./data/surfacescan.db',
      redisUrl: null,
      redisPrefix: 'surfacescan',
      role: 'all',
      queues: null,
      workerThreads: availableParallelism(),
      jobLeaseMs: 30_000,
      heartbeatMs: 2_000,
      scanMaxRate: 10_000,
      scanDefaultRate: 1_000,
      scanMaxHosts: 65_536,
      attributionModel: null,
      predictOwnedThreshold: null,
      predictCandidateThreshold: null,
      policies: [],
      fingerprints: [],
      exampleData: false,
    });
  });

  it('defaults cloudEnv to the bundled example, which exists on disk', () => {
    assert.equal(
      BUNDLED_CLOUD_ENV,
      fileURLToPath(new URL('../../../examples/cloud-env.json', import.meta.url)),
    );
    assert.ok(existsSync(BUNDLED_CLOUD_ENV), BUNDLED_CLOUD_ENV);
  });

  it('ignores variables that are not SURFACESCAN_*', () => {
    assert.equal(loadConfig({}, { PORT: '9', HOME: '/root', surfacescan_port: '9' }).port, 8001);
  });

  it('uses a variable when there is no flag', () => {
    const config = loadConfig(
      {},
      {
        SURFACESCAN_HOST: '0.0.0.0',
        SURFACESCAN_PORT: '9000',
        SURFACESCAN_CLOUD_ENV: '/data/env.json',
        SURFACESCAN_WORKERS: '4',
        SURFACESCAN_LOG_LEVEL: 'debug',
        SURFACESCAN_ACCESS_LOG: 'yes',
        SURFACESCAN_ANSWER_CACHE_MB: '0',
        SURFACESCAN_SHUTDOWN_TIMEOUT_MS: '500',
        SURFACESCAN_DATABASE_URL: 'postgres://app:secret@db.internal:5432/asm',
        SURFACESCAN_REDIS_URL: 'redis://cache:6379/2',
        SURFACESCAN_REDIS_PREFIX: 'prod-eu',
        SURFACESCAN_ROLE: 'api',
        SURFACESCAN_QUEUES: 'assets.ingest, diag.cpu',
        SURFACESCAN_WORKER_THREADS: '3',
        SURFACESCAN_JOB_LEASE_MS: '5000',
        SURFACESCAN_HEARTBEAT_MS: '250',
        SURFACESCAN_ATTRIBUTION_MODEL: '/models/m.json',
        SURFACESCAN_PREDICT_OWNED_THRESHOLD: '0.8',
        SURFACESCAN_PREDICT_CANDIDATE_THRESHOLD: '0.3',
        SURFACESCAN_POLICIES: 'a.json, /etc/surfacescan/b.json,',
        SURFACESCAN_FINGERPRINTS: 'fp.json',
      },
    );
    assert.deepEqual(config, {
      host: '0.0.0.0',
      port: 9000,
      cloudEnv: '/data/env.json',
      workers: 4,
      logLevel: 'debug',
      accessLog: true,
      answerCacheMb: 0,
      shutdownTimeoutMs: 500,
      databaseUrl: 'postgres://app:secret@db.internal:5432/asm',
      redisUrl: 'redis://cache:6379/2',
      redisPrefix: 'prod-eu',
      role: 'api',
      queues: ['assets.ingest', 'diag.cpu'],
      workerThreads: 3,
      jobLeaseMs: 5000,
      heartbeatMs: 250,
      scanMaxRate: 10_000,
      scanDefaultRate: 1_000,
      scanMaxHosts: 65_536,
      attributionModel: '/models/m.json',
      predictOwnedThreshold: 0.8,
      predictCandidateThreshold: 0.3,
      policies: ['a.json', '/etc/surfacescan/b.json'],
      fingerprints: ['fp.json'],
      exampleData: false,
    });
  });

  it('lets a flag win over its variable', () => {
    const config = loadConfig(
      { port: '9001', logLevel: 'warn', accessLog: false, cloudEnv: 'flag.json' },
      {
        SURFACESCAN_PORT: '9000',
        SURFACESCAN_LOG_LEVEL: 'debug',
        SURFACESCAN_ACCESS_LOG: 'true',
        SURFACESCAN_CLOUD_ENV: 'env.json',
      },
    );
    assert.equal(config.port, 9001);
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.accessLog, false);
    assert.equal(config.cloudEnv, 'flag.json');
  });

  it('does not validate a variable that a flag overrides', () => {
    assert.equal(loadConfig({ port: '1' }, { SURFACESCAN_PORT: 'abc' }).port, 1);
  });

  it('treats an undefined flag as absent', () => {
    assert.equal(loadConfig({ port: undefined }, { SURFACESCAN_PORT: '7' }).port, 7);
  });

  it('takes a boolean flag as it is (a bare --access-log)', () => {
    assert.equal(loadConfig({ accessLog: true }, {}).accessLog, true);
  });

  it('reads true/false words for booleans, case-insensitively', () => {
    for (const word of ['1', 'true', 'YES', 'On']) {
      assert.equal(loadConfig({ accessLog: word }, {}).accessLog, true, word);
    }
    for (const word of ['0', 'false', 'No', 'OFF']) {
      assert.equal(loadConfig({ accessLog: word }, {}).accessLog, false, word);
    }
  });

  it('accepts the port bounds 0 and 65535', () => {
    assert.equal(loadConfig({ port: '0' }, {}).port, 0);
    assert.equal(loadConfig({ port: '65535' }, {}).port, 65535);
  });

  it('takes workers "auto" as one per core', () => {
    assert.equal(loadConfig({ workers: 'auto' }, {}).workers, availableParallelism());
    assert.equal(loadConfig({}, { SURFACESCAN_WORKERS: 'auto' }).workers, availableParallelism());
  });

  it('returns a frozen object', () => {
    const config = loadConfig({}, {});
    assert.ok(Object.isFrozen(config));
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
    assert.equal(config.port, 8001);
  });

  it('collects every invalid value into one ConfigError, each naming its flag', () => {
    assert.deepEqual(problemsOf({ port: 'abc', workers: '0', logLevel: 'loud' }, {}), [
      '--port must be an integer from 0 to 65535, got "abc"',
      '--workers must be an integer from 1 to 256, got "0"',
      '--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ]);
  });

  it('names the variable when the bad value came from the environment', () => {
    assert.deepEqual(
      problemsOf(
        { port: '70000' },
        { SURFACESCAN_WORKERS: 'many', SURFACESCAN_ACCESS_LOG: 'maybe' },
      ),
      [
        '--port must be an integer from 0 to 65535, got "70000"',
        'SURFACESCAN_WORKERS must be an integer from 1 to 256, got "many"',
        'SURFACESCAN_ACCESS_LOG must be true or false, got "maybe"',
      ],
    );
  });

  it('rejects non-integer, negative, blank and out-of-range numbers', () => {
    assert.deepEqual(
      problemsOf({ port: '80.5', answerCacheMb: '-1', shutdownTimeoutMs: ' ', workers: '257' }, {}),
      [
        '--port must be an integer from 0 to 65535, got "80.5"',
        '--workers must be an integer from 1 to 256, got "257"',
        '--answer-cache-mb must be an integer from 0 to 1048576, got "-1"',
        '--shutdown-timeout-ms must be an integer from 0 to 600000, got " "',
      ],
    );
  });

  it('takes plain decimal integers only, not hex or exponent notation', () => {
    assert.deepEqual(problemsOf({ port: '0x1F41', workers: '1e1' }, {}), [
      '--port must be an integer from 0 to 65535, got "0x1F41"',
      '--workers must be an integer from 1 to 256, got "1e1"',
    ]);
    assert.equal(loadConfig({ port: ' 8002 ' }, {}).port, 8002);
  });

  it('rejects an empty host and an empty cloud environment path', () => {
    assert.deepEqual(problemsOf({ host: '' }, { SURFACESCAN_CLOUD_ENV: '  ' }), [
      '--host must not be empty',
      'SURFACESCAN_CLOUD_ENV must not be empty',
    ]);
  });

  it('rejects a log level in the wrong case', () => {
    assert.deepEqual(problemsOf({ logLevel: 'INFO' }, {}), [
      '--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "INFO"',
    ]);
  });

  it('rejects an unknown SURFACESCAN_* variable, listing the known ones', () => {
    assert.deepEqual(problemsOf({}, { SURFACESCAN_PROT: '1' }), [
      `SURFACESCAN_PROT is not a surfacescan setting (known: ${KNOWN_VARIABLES})`,
    ]);
  });

  it('reports an unknown variable together with invalid values', () => {
    assert.deepEqual(problemsOf({ port: 'abc' }, { SURFACESCAN_PROT: '1' }), [
      '--port must be an integer from 0 to 65535, got "abc"',
      `SURFACESCAN_PROT is not a surfacescan setting (known: ${KNOWN_VARIABLES})`,
    ]);
  });

  it('rejects bad database and Redis URLs, roles, queue names and job timings, hiding passwords', () => {
    assert.deepEqual(
      problemsOf(
        {
          databaseUrl: 'mysql://root:hunter2@db/x',
          redisUrl: 'http://cache:6379',
          role: 'worker',
          queues: 'assets.ingest,Bad Name',
          jobLeaseMs: '10',
          heartbeatMs: '0',
          workerThreads: '0',
          redisPrefix: 'a b',
        },
        {},
      ),
      [
        '--database-url must start with sqlite: or postgres://, got "mysql://root:***@db/x"',
        '--redis-url must be redis://host:port[/db] or rediss://..., got "http://cache:6379"',
        '--redis-prefix must be 1-64 letters, digits, "_", "." or "-", got "a b"',
        '--role must be one of all, api, predict, got "worker"',
        '--queues must be comma-separated queue names, got "Bad Name"',
        '--worker-threads must be an integer from 1 to 256, got "0"',
        '--job-lease-ms must be an integer from 500 to 3600000, got "10"',
        '--heartbeat-ms must be an integer from 100 to 600000, got "0"',
      ],
    );
    assert.deepEqual(problemsOf({ databaseUrl: 'sqlite:' }, {}), [
      '--database-url needs a path after "sqlite:" (or sqlite::memory:)',
    ]);
    assert.deepEqual(problemsOf({ databaseUrl: 'postgres://' }, {}), [
      '--database-url has no host: "postgres://"',
    ]);
  });

  it('accepts the database URL forms, an empty Redis URL as none, and * as every queue', () => {
    assert.equal(loadConfig({ databaseUrl: 'sqlite::memory:' }, {}).databaseUrl, 'sqlite::memory:');
    assert.equal(
      loadConfig({ databaseUrl: 'postgresql://u@127.0.0.1:5432/db' }, {}).databaseUrl,
      'postgresql://u@127.0.0.1:5432/db',
    );
    assert.equal(loadConfig({}, { SURFACESCAN_REDIS_URL: '' }).redisUrl, null);
    assert.equal(loadConfig({ queues: '*' }, {}).queues, null);
  });

  it('documents every setting in the README configuration table', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    for (const setting of SETTINGS) {
      assert.match(
        readme,
        new RegExp(`\\| \`${setting.flag}\`\\s*\\| \`${setting.env}\``),
        setting.flag,
      );
    }
  });

  it('allows SURFACESCAN_TEST_* variables', () => {
    assert.equal(
      loadConfig({}, { SURFACESCAN_TEST_ANYTHING: 'x', SURFACESCAN_TEST_: '' }).port,
      8001,
    );
  });
});
