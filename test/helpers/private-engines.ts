/**
 * Private PostgreSQL and Redis servers a test owns outright: it may stop and start them at will
 * (an outage), which the shared servers other tests and people use must never see. Both listen
 * on 127.0.0.1 only, on a free port that stays the same across restarts, and leave nothing
 * behind once destroyed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** A TCP port on 127.0.0.1 that nothing listened on a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/** Polls `probe` every intervalMs until it returns true; rejects with `what` after timeoutMs. */
export async function waitFor(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${String(timeoutMs)} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => {
      done(true);
    });
    socket.once('error', () => {
      done(false);
    });
    socket.once('timeout', () => {
      done(false);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/**
 * The bin directory of the newest installed PostgreSQL (Debian layout), or of
 * SURFACESCAN_TEST_PG_BIN; undefined when initdb, pg_ctl or postgres is missing.
 */
export function postgresBinDir(): string | undefined {
  const chosen = process.env.SURFACESCAN_TEST_PG_BIN;
  const candidates =
    chosen !== undefined && chosen !== ''
      ? [chosen]
      : existsSync('/usr/lib/postgresql')
        ? readdirSync('/usr/lib/postgresql')
            .filter((version) => /^\d+$/.test(version))
            .sort((a, b) => Number(b) - Number(a))
            .map((version) => join('/usr/lib/postgresql', version, 'bin'))
        : [];
  return candidates.find((dir) =>
    ['initdb', 'pg_ctl', 'postgres'].every((tool) => existsSync(join(dir, tool))),
  );
}

/** The numeric uid and gid of a system user, via id(1). */
export async function userIds(user: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([
    run('id', ['-u', user]).then((r) => Number(r.stdout.trim())),
    run('id', ['-g', user]).then((r) => Number(r.stdout.trim())),
  ]);
  return { uid, gid };
}

/** Server settings of a throwaway cluster: durability is not worth the disk time on a loaded
 * machine. */
export const THROWAWAY_POSTGRES_SETTINGS = [
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
] as const;

/** A PostgreSQL cluster in a temp dir, run by the test. */
export class PrivatePostgres {
  private running = false;

  private constructor(
    /** The temp dir: data directory, log and unix socket. */
    readonly dir: string,
    readonly port: number,
    /** Runs a PostgreSQL tool, as the postgres user when we are root (postgres refuses root). */
    private readonly asOwner: (tool: string, args: readonly string[]) => Promise<unknown>,
  ) {}

  /**
   * initdb into a fresh temp dir, start on a free port of 127.0.0.1 (unix socket in the temp
   * dir, not /var/run), and create `database`. Cleans up after itself if any step fails.
   */
  static async create(bin: string, database = 'surfacescan'): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'surfacescan-pg-'));
    let asOwner = (tool: string, args: readonly string[]): Promise<unknown> =>
      run(join(bin, tool), args, { timeout: 60_000 });
    try {
      if (process.getuid?.() === 0) {
        const { uid, gid } = await userIds('postgres');
        chownSync(dir, uid, gid);
        asOwner = (tool, args) =>
          run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], { timeout: 60_000 });
      }
      await asOwner('initdb', [
        '--pgdata',
        join(dir, 'data'),
        '--username',
        'postgres',
        '--auth',
        'trust',
        '--encoding',
        'UTF8',
        '--no-sync',
      ]);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    const server = new PrivatePostgres(dir, await freePort(), asOwner);
    try {
      await server.start();
      const admin = new pg.Client({ connectionString: server.url('postgres') });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${database}`);
      } finally {
        await admin.end();
      }
      return server;
    } catch (error) {
      await server.destroy();
      throw error;
    }
  }

  /** The URL of a database on this server (no password: trust authentication). */
  url(database = 'surfacescan'): string {
    return `postgres://postgres@127.0.0.1:${String(this.port)}/${database}`;
  }

  /** Starts the server (again) on its port and waits until it accepts connections. */
  async start(): Promise<void> {
    const options = [
      `-p ${String(this.port)}`,
      '-c listen_addresses=127.0.0.1',
      `-k ${this.dir}`,
      ...THROWAWAY_POSTGRES_SETTINGS.map((setting) => `-c ${setting}`),
    ].join(' ');
    await this.asOwner('pg_ctl', [
      'start',
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      options,
    ]).catch((error: unknown) => {
      throw new Error(`pg_ctl start failed: ${String(error)}\nserver log:\n${this.log()}`);
    });
    this.running = true;
    await waitFor(() => accepts(this.port), 30_000, 'PostgreSQL did not accept connections');
  }

  /** `pg_ctl stop -m fast`: sessions are terminated, the port closes. */
  async stop(): Promise<void> {
    await this.asOwner('pg_ctl', ['stop', '-D', join(this.dir, 'data'), '-m', 'fast', '-w']);
    this.running = false;
    await waitFor(async () => !(await accepts(this.port)), 30_000, 'PostgreSQL kept its port');
  }

  /** The server log so far (for failure messages). */
  log(): string {
    try {
      return readFileSync(join(this.dir, 'server.log'), 'utf8');
    } catch {
      return '(no log)';
    }
  }

  /** Stops the server if it runs and removes every file. Never throws. */
  async destroy(): Promise<void> {
    if (this.running || existsSync(join(this.dir, 'data', 'postmaster.pid'))) {
      await this.asOwner('pg_ctl', ['stop', '-D', join(this.dir, 'data'), '-m', 'immediate'])
        .then(() => {
          this.running = false;
          return undefined;
        })
        .catch(() => undefined);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Redis

/** Whether redis-server can be run. */
export async function redisServerAvailable(): Promise<boolean> {
  try {
    await run('redis-server', ['--version']);
    return true;
  } catch {
    return false;
  }
}

/** redis-server arguments: 127.0.0.1:port, in the foreground, nothing kept on disk, `dir` as
 * its working directory. */
export function redisServerArgs(port: number, dir: string): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--dir',
    dir,
  ];
}

/** Sends PING over a raw socket; true when the answer is +PONG. */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    socket.setTimeout(1000);
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => {
      socket.write('PING\r\n');
    });
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      answer += chunk;
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
    socket.once('error', () => {
      done(false);
    });
    socket.once('timeout', () => {
      done(false);
    });
  });
}

/** A redis-server child process that keeps nothing on disk. */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(readonly port: number) {}

  /** Starts redis-server on a free port of 127.0.0.1. */
  static async create(): Promise<PrivateRedis> {
    const server = new PrivateRedis(await freePort());
    await server.start();
    return server;
  }

  /** redis://127.0.0.1:port */
  get url(): string {
    return `redis://127.0.0.1:${String(this.port)}`;
  }

  /** Starts a fresh, empty server on the same port and waits until it answers PING. */
  async start(): Promise<void> {
    if (this.child !== undefined) throw new Error('redis-server is running already');
    // Its cwd is wherever the test runs: make sure it never writes a dump there.
    const child = spawn('redis-server', redisServerArgs(this.port, tmpdir()), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const collect = (chunk: Buffer): void => {
      this.output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let exited = false;
    child.once('error', (error) => {
      this.output += `\n${error.message}`;
      exited = true;
      if (this.child === child) this.child = undefined;
    });
    child.once('exit', () => {
      exited = true;
      if (this.child === child) this.child = undefined;
    });
    await waitFor(
      async () => {
        if (exited) throw new Error(`redis-server exited at start-up:\n${this.output}`);
        return pong(this.port);
      },
      30_000,
      'redis-server did not answer PING',
    );
  }

  /** SIGTERM (it keeps nothing: --save ""); resolves once the process has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const late = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(late);
  }

  /** Stops the server if it runs. Never throws. */
  async destroy(): Promise<void> {
    await this.stop().catch(() => undefined);
  }
}
