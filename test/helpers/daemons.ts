/**
 * Real daemons from Debian packages, each a private instance the test owns: its own config in a
 * temp dir, listening only on 127.0.0.1 on a free port (never a standard port: the machine's
 * shared services may hold those), run in the foreground as a child process so the test can
 * stop it (an outage the scanner must notice) and start it again on the same port.
 *
 * Readiness is never a sleep: a daemon counts as up once its port accepts and answers its
 * protocol's greeting. Every instance is killed and its temp dir removed when the process
 * exits, also after a failed test that never reached its cleanup.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import {
  THROWAWAY_POSTGRES_SETTINGS,
  accepts,
  freePort,
  postgresBinDir,
  redisServerArgs,
  userIds,
  waitFor,
} from './private-engines.js';

const run = promisify(execFile);

/** The daemons this helper can run. */
export const DAEMON_KINDS = [
  'vsftpd',
  'telnetd',
  'rsyncd',
  'sshd',
  'nginx',
  'apache2',
  'redis',
  'redis-auth',
  'postgres',
  'mariadb',
  'memcached',
] as const;

/** One of DAEMON_KINDS. */
export type DaemonKind = (typeof DAEMON_KINDS)[number];

/** What a scanner should report for a daemon, in nmap's vocabulary. */
export interface ExpectedService {
  /** nmap-style service name: ftp, telnet, rsync, ssh, http, redis, postgresql, mysql, memcached. */
  readonly service: string;
  /** The product, when the daemon's greeting tells it (e.g. vsftpd, OpenSSH, nginx). */
  readonly product?: string;
}

/** A running (or stopped) private daemon. */
export interface Daemon {
  /** Which daemon this is. */
  readonly kind: DaemonKind;
  /** Its TCP port on 127.0.0.1; the same across stop() and start(). */
  readonly port: number;
  /** The process id of the current run; undefined while stopped. */
  readonly pid: number | undefined;
  /** What a scanner should name it. */
  readonly expected: ExpectedService;
  /** Its temp dir: config, data and logs; removed by close(). */
  readonly dir: string;
  /** The password clients need (redis-auth only). */
  readonly password: string | undefined;
  /** Stops the daemon; resolves once the port refuses connections. Does nothing when stopped. */
  stop(): Promise<void>;
  /** Starts it again on the same port; resolves once it answers its greeting. */
  start(): Promise<void>;
  /** Stops it and removes its temp dir. Never throws; the daemon cannot be started again. */
  close(): Promise<void>;
  /** Its stdout, stderr and log files so far, for failure messages. */
  log(): string;
}

/** Choices for startDaemon. */
export interface DaemonOptions {
  /** The port to listen on; a free one by default. */
  readonly port?: number;
  /** redis-auth's requirepass; random by default. */
  readonly password?: string;
}

// ---------------------------------------------------------------------------------------------
// Probes: the greeting each protocol sends (or answers) once the daemon is ready

/**
 * Connects to 127.0.0.1:port, writes `hello` (if any) and feeds everything received to
 * `verdict` until it returns true (ready) or false (answering, but not ready), or the
 * connection fails, closes or stays silent for 2 s (not ready).
 */
function probe(
  port: number,
  hello: Buffer | string | undefined,
  verdict: (received: Buffer) => boolean | undefined,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000);
    socket.once('connect', () => {
      if (hello !== undefined) socket.write(hello);
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const answer = verdict(received);
      if (answer !== undefined) done(answer);
    });
    socket.once('error', () => {
      done(false);
    });
    socket.once('timeout', () => {
      done(false);
    });
    socket.once('close', () => {
      done(false);
    });
  });
}

/** A verdict on a text greeting: undecided until a whole line has arrived. */
const line =
  (ready: (text: string) => boolean) =>
  (received: Buffer): boolean | undefined => {
    const text = received.toString('latin1');
    return text.includes('\n') ? ready(text) : undefined;
  };

/** PostgreSQL's StartupMessage (protocol 3.0) for user postgres, database postgres. */
function postgresStartup(): Buffer {
  const body = Buffer.from('user\0postgres\0database\0postgres\0\0', 'latin1');
  const message = Buffer.alloc(8 + body.length);
  message.writeInt32BE(message.length, 0);
  message.writeInt32BE(196608, 4);
  body.copy(message, 8);
  return message;
}

// ---------------------------------------------------------------------------------------------
// Recipes: how each daemon is configured and launched

/** How to run one instance of a daemon. */
interface Launch {
  readonly command: string;
  readonly args: readonly string[];
  /** Run as this user (root only: daemons that refuse to run as root). */
  readonly user?: { uid: number; gid: number };
  /** Graceful, quick shutdown (PostgreSQL's SIGTERM waits for clients; SIGINT does not). */
  readonly stopSignal?: NodeJS.Signals;
  /** Seconds to wait for the greeting. */
  readonly readySeconds?: number;
  /** Whether the daemon is up and answering its protocol. */
  ready(port: number): Promise<boolean>;
  /** Runs before every start (e.g. to clear a stale pid file). */
  beforeStart?(): void;
}

/** A daemon kind: its binaries, what it should be named, and how to set up an instance. */
interface Recipe {
  /** Executables it needs: absolute paths, or names looked up on PATH. */
  readonly binaries: readonly string[];
  /** The Debian packages to install when they are missing. */
  readonly packages: readonly string[];
  readonly expected: ExpectedService;
  /** Writes the instance's config into `dir` (and initialises data) once. */
  prepare(dir: string, port: number, password: string): Promise<Launch>;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** Whether an executable exists: an absolute path, or a name on PATH. */
function hasBinary(binary: string): boolean {
  if (binary.startsWith('/')) return existsSync(binary);
  const path = process.env.PATH ?? '';
  return [...path.split(delimiter), '/usr/sbin', '/sbin'].some(
    (dir) => dir !== '' && existsSync(join(dir, binary)),
  );
}

const httpHead = 'HEAD / HTTP/1.0\r\nHost: localhost\r\n\r\n';
const httpReady = line((text) => text.startsWith('HTTP/1.'));

/** redis-server on the port, keeping nothing on disk. */
function redisLaunch(dir: string, port: number, password: string | undefined): Launch {
  const args = redisServerArgs(port, dir);
  if (password !== undefined) args.push('--requirepass', password);
  return {
    command: 'redis-server',
    args,
    // Without the password a protected server answers PING with NOAUTH: that is its greeting.
    ready: (p) =>
      probe(
        p,
        'PING\r\n',
        line((text) => text.startsWith(password === undefined ? '+PONG' : '-NOAUTH')),
      ),
  };
}

const RECIPES: Record<DaemonKind, Recipe> = {
  vsftpd: {
    binaries: ['/usr/sbin/vsftpd'],
    packages: ['vsftpd'],
    expected: { service: 'ftp', product: 'vsftpd' },
    prepare: (dir, port) => {
      // Anonymous read-only access to an empty directory: vsftpd refuses to run with no way in.
      const empty = join(dir, 'empty');
      mkdirSync(empty, { mode: 0o755 });
      const config = join(dir, 'vsftpd.conf');
      writeFileSync(
        config,
        [
          'listen=YES',
          'listen_ipv6=NO',
          'listen_address=127.0.0.1',
          `listen_port=${String(port)}`,
          'background=NO',
          'anonymous_enable=YES',
          'no_anon_password=YES',
          `anon_root=${empty}`,
          'local_enable=NO',
          'write_enable=NO',
          `secure_chroot_dir=${empty}`,
          'xferlog_enable=NO',
          `vsftpd_log_file=${join(dir, 'vsftpd.log')}`,
          ...(isRoot() ? [] : ['run_as_launching_user=YES']),
          '',
        ].join('\n'),
      );
      return Promise.resolve({
        command: '/usr/sbin/vsftpd',
        args: [config],
        ready: (p) =>
          probe(
            p,
            undefined,
            line((text) => text.startsWith('220 ')),
          ),
      });
    },
  },

  telnetd: {
    // Debian's busybox has no telnetd applet; busybox-static's has.
    binaries: ['busybox'],
    packages: ['busybox-static'],
    expected: { service: 'telnet' },
    prepare: (dir, port) => {
      // A stand-in for login(1) that asks for a name and quits: a realistic prompt, no way in.
      // An empty issue file and a "host login: " prompt make the greeting one nmap's probes
      // match outright (BusyBox telnetd) instead of guessing from later probes' answers.
      const login = join(dir, 'login');
      writeFileSync(login, '#!/bin/sh\nprintf "surfacescan login: "\nread -r name\nexit 0\n', {
        mode: 0o755,
      });
      const issue = join(dir, 'issue');
      writeFileSync(issue, '');
      return Promise.resolve({
        command: 'busybox',
        args: ['telnetd', '-F', '-K', '-b', `127.0.0.1:${String(port)}`, '-l', login, '-f', issue],
        // Telnet servers open with option negotiation: IAC (255) first.
        ready: (p) => probe(p, undefined, (received) => received[0] === 0xff),
      });
    },
  },

  rsyncd: {
    binaries: ['rsync'],
    packages: ['rsync'],
    expected: { service: 'rsync' },
    prepare: (dir, port) => {
      const share = join(dir, 'share');
      mkdirSync(share);
      const config = join(dir, 'rsyncd.conf');
      // No pid file: rsync will not start while one is left over from a killed run.
      writeFileSync(
        config,
        [
          'use chroot = no',
          `log file = ${join(dir, 'rsyncd.log')}`,
          '[empty]',
          `  path = ${share}`,
          '  read only = yes',
          '',
        ].join('\n'),
      );
      return Promise.resolve({
        command: 'rsync',
        args: [
          '--daemon',
          '--no-detach',
          `--config=${config}`,
          `--port=${String(port)}`,
          '--address=127.0.0.1',
        ],
        ready: (p) =>
          probe(
            p,
            undefined,
            line((text) => text.startsWith('@RSYNCD: ')),
          ),
      });
    },
  },

  sshd: {
    binaries: ['/usr/sbin/sshd', 'ssh-keygen'],
    packages: ['openssh-server'],
    expected: { service: 'ssh', product: 'OpenSSH' },
    prepare: async (dir, port) => {
      // sshd insists on its privilege separation directory (the package's service creates it).
      if (isRoot()) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
      const key = join(dir, 'host_ed25519');
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      const config = join(dir, 'sshd_config');
      writeFileSync(
        config,
        [
          'ListenAddress 127.0.0.1',
          `Port ${String(port)}`,
          `HostKey ${key}`,
          `PidFile ${join(dir, 'sshd.pid')}`,
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'PermitRootLogin no',
          'AuthorizedKeysFile none',
          'UsePAM no',
          '',
        ].join('\n'),
      );
      return {
        command: '/usr/sbin/sshd',
        args: ['-D', '-e', '-f', config],
        ready: (p) =>
          probe(
            p,
            undefined,
            line((text) => text.startsWith('SSH-2.0-')),
          ),
      };
    },
  },

  nginx: {
    binaries: ['/usr/sbin/nginx'],
    packages: ['nginx'],
    expected: { service: 'http', product: 'nginx' },
    prepare: (dir, port) => {
      const config = join(dir, 'nginx.conf');
      writeFileSync(
        config,
        [
          'daemon off;',
          'worker_processes 1;',
          `pid ${join(dir, 'nginx.pid')};`,
          `error_log ${join(dir, 'error.log')};`,
          'events { worker_connections 64; }',
          'http {',
          '  access_log off;',
          ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
            (kind) => `  ${kind}_temp_path ${join(dir, kind)};`,
          ),
          `  server { listen 127.0.0.1:${String(port)}; location / { return 200 "surfacescan test\\n"; } }`,
          '}',
          '',
        ].join('\n'),
      );
      return Promise.resolve({
        command: '/usr/sbin/nginx',
        // -e: the package's default error log (/var/log/nginx) is not ours to write.
        args: ['-p', dir, '-c', config, '-e', join(dir, 'error.log')],
        ready: (p) => probe(p, httpHead, httpReady),
      });
    },
  },

  apache2: {
    binaries: ['/usr/sbin/apache2'],
    packages: ['apache2'],
    expected: { service: 'http', product: 'Apache httpd' },
    prepare: (dir, port) => {
      const modules = '/usr/lib/apache2/modules';
      const www = join(dir, 'www');
      mkdirSync(www);
      writeFileSync(join(www, 'index.html'), '<h1>surfacescan test</h1>\n');
      // Its workers run as www-data and must reach the document root.
      chmodSync(dir, 0o755);
      const config = join(dir, 'httpd.conf');
      writeFileSync(
        config,
        [
          `ServerRoot ${dir}`,
          'ServerName localhost',
          `Listen 127.0.0.1:${String(port)}`,
          `PidFile ${join(dir, 'httpd.pid')}`,
          `ErrorLog ${join(dir, 'error.log')}`,
          `DefaultRuntimeDir ${dir}`,
          `Mutex file:${dir} default`,
          `LoadModule mpm_event_module ${modules}/mod_mpm_event.so`,
          `LoadModule authz_core_module ${modules}/mod_authz_core.so`,
          `LoadModule dir_module ${modules}/mod_dir.so`,
          ...(isRoot() ? ['User www-data', 'Group www-data'] : []),
          'StartServers 1',
          'ServerLimit 1',
          'ThreadsPerChild 4',
          'MinSpareThreads 1',
          'MaxSpareThreads 4',
          'MaxRequestWorkers 4',
          `DocumentRoot ${www}`,
          'DirectoryIndex index.html',
          '',
        ].join('\n'),
      );
      return Promise.resolve({
        command: '/usr/sbin/apache2',
        args: ['-f', config, '-DFOREGROUND'],
        ready: (p) => probe(p, httpHead, httpReady),
      });
    },
  },

  redis: {
    binaries: ['redis-server'],
    packages: ['redis-server'],
    expected: { service: 'redis', product: 'Redis' },
    prepare: (dir, port) => Promise.resolve(redisLaunch(dir, port, undefined)),
  },

  'redis-auth': {
    binaries: ['redis-server'],
    packages: ['redis-server'],
    expected: { service: 'redis', product: 'Redis' },
    prepare: (dir, port, password) => Promise.resolve(redisLaunch(dir, port, password)),
  },

  postgres: {
    // postgresBinDir() finds the newest installed major version (or SURFACESCAN_TEST_PG_BIN).
    binaries: ['initdb', 'postgres'].map((tool) =>
      join(postgresBinDir() ?? '/usr/lib/postgresql/(none)/bin', tool),
    ),
    packages: ['postgresql'],
    expected: { service: 'postgresql', product: 'PostgreSQL' },
    prepare: async (dir, port) => {
      const bin = postgresBinDir();
      if (bin === undefined) throw new Error('no PostgreSQL bin directory');
      // PostgreSQL refuses to run as root: the postgres user owns the instance.
      const user = isRoot() ? await userIds('postgres') : undefined;
      if (user !== undefined) chownSync(dir, user.uid, user.gid);
      const data = join(dir, 'data');
      await run(
        join(bin, 'initdb'),
        ['--pgdata', data, '--username', 'postgres', '--auth', 'trust', '--no-sync'],
        { cwd: dir, timeout: 120_000, ...user },
      );
      return {
        command: join(bin, 'postgres'),
        args: [
          '-D',
          data,
          '-p',
          String(port),
          '-k',
          dir,
          '-c',
          'listen_addresses=127.0.0.1',
          ...THROWAWAY_POSTGRES_SETTINGS.flatMap((setting) => ['-c', setting]),
        ],
        ...(user === undefined ? {} : { user }),
        // Fast shutdown: SIGTERM ("smart") would wait for connected clients to leave.
        stopSignal: 'SIGINT',
        readySeconds: 60,
        // The server asks for authentication ('R') once it takes sessions; while starting up
        // or shutting down it answers with an error ('E').
        ready: (p) => probe(p, postgresStartup(), (received) => received[0] === 0x52),
      };
    },
  },

  mariadb: {
    binaries: ['/usr/sbin/mariadbd', 'mariadb-install-db'],
    packages: ['mariadb-server'],
    expected: { service: 'mysql', product: 'MariaDB' },
    prepare: async (dir, port) => {
      const data = join(dir, 'data');
      // Small InnoDB files: the default sizes cost 100 MB of disk and seconds per instance.
      const sizes = [
        '--innodb-log-file-size=4M',
        '--innodb-buffer-pool-size=16M',
        '--innodb-data-file-path=ibdata1:4M:autoextend',
      ];
      const user = isRoot() ? ['--user=root'] : [];
      await run(
        'mariadb-install-db',
        [
          '--no-defaults',
          `--datadir=${data}`,
          ...user,
          '--auth-root-authentication-method=normal',
          '--skip-test-db',
          '--skip-name-resolve',
          ...sizes,
        ],
        { cwd: dir, timeout: 120_000 },
      );
      return {
        command: '/usr/sbin/mariadbd',
        args: [
          '--no-defaults',
          `--datadir=${data}`,
          ...user,
          `--port=${String(port)}`,
          '--bind-address=127.0.0.1',
          `--socket=${join(dir, 'mysqld.sock')}`,
          `--pid-file=${join(dir, 'mysqld.pid')}`,
          `--log-error=${join(dir, 'error.log')}`,
          '--skip-log-bin',
          '--skip-name-resolve',
          ...sizes,
        ],
        readySeconds: 60,
        // The handshake packet: 3-byte length, sequence 0, protocol version 10.
        ready: (p) =>
          probe(p, undefined, (received) =>
            received.length < 5 ? undefined : received[4] === 0x0a,
          ),
      };
    },
  },

  memcached: {
    binaries: ['memcached'],
    packages: ['memcached'],
    expected: { service: 'memcached', product: 'Memcached' },
    prepare: (_dir, port) =>
      Promise.resolve({
        command: 'memcached',
        args: [
          '-l',
          '127.0.0.1',
          '-p',
          String(port),
          '-U',
          '0',
          '-m',
          '16',
          // As root it must be told whom to run as.
          ...(isRoot() ? ['-u', 'memcache'] : []),
        ],
        ready: (p) =>
          probe(
            p,
            'version\r\n',
            line((text) => text.startsWith('VERSION ')),
          ),
      }),
  },
};

// ---------------------------------------------------------------------------------------------
// Instances

/** Every instance not yet closed, for the exit hook. */
const live = new Set<Instance>();
let hooked = false;

/** Kills every live instance's process group and removes its temp dir, synchronously. */
function killAllNow(): void {
  for (const instance of live) instance.killNow();
}

/**
 * On exit (also after a failed test or an uncaught error) nothing may be left running: the
 * exit hook kills what close() did not; SIGINT and SIGTERM clean up and then die as usual.
 */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAllNow();
      process.kill(process.pid, signal);
    });
  }
}

class Instance implements Daemon {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private closed = false;
  readonly expected: ExpectedService;

  constructor(
    readonly kind: DaemonKind,
    readonly port: number,
    readonly dir: string,
    private readonly launch: Launch,
    readonly password: string | undefined,
  ) {
    this.expected = RECIPES[kind].expected;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.closed) throw new Error(`${this.kind} was closed`);
    if (this.child !== undefined) return;
    this.launch.beforeStart?.();
    const out = openSync(join(this.dir, 'output.log'), 'a');
    let child: ChildProcess;
    try {
      // Its own process group, so that workers it forks die with it (see killNow).
      child = spawn(this.launch.command, this.launch.args, {
        cwd: this.dir,
        stdio: ['ignore', out, out],
        detached: true,
        ...this.launch.user,
      });
    } finally {
      closeSync(out);
    }
    // A daemon a test forgot to close must not keep the test process alive; the exit hook
    // kills it.
    child.unref();
    this.child = child;
    let failure: string | undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once('error', (error) => {
        failure = error.message;
        resolve();
      });
      child.once('exit', (code, signal) => {
        failure = `exited with ${signal ?? `code ${String(code)}`}`;
        resolve();
      });
    }).then(() => {
      if (this.child === child) this.child = undefined;
      return undefined;
    });

    try {
      await waitFor(
        async () => {
          if (failure !== undefined) throw new Error(`${this.kind} ${failure} at start-up`);
          return this.launch.ready(this.port);
        },
        (this.launch.readySeconds ?? 30) * 1000,
        `${this.kind} did not answer its greeting on 127.0.0.1:${String(this.port)}`,
        100,
      );
    } catch (error) {
      // A daemon that came up but stayed silent is stopped; one that died is gone already.
      if (failure === undefined) await this.stop().catch(() => undefined);
      throw new Error(`${(error as Error).message}; its output:\n${this.log()}`, {
        cause: error,
      });
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child?.pid !== undefined) {
      const pid = child.pid;
      signalGroup(pid, this.launch.stopSignal ?? 'SIGTERM', false);
      const late = setTimeout(() => {
        signalGroup(pid, 'SIGKILL', true);
      }, 20_000);
      await this.exited;
      clearTimeout(late);
      // Whatever it forked and left behind (workers, sessions) goes with it.
      signalGroup(pid, 'SIGKILL', true);
    }
    this.child = undefined;
    await waitFor(
      async () => !(await accepts(this.port)),
      20_000,
      `${this.kind} stopped, but 127.0.0.1:${String(this.port)} still accepted connections`,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.stop().catch(() => undefined);
    this.closed = true;
    this.killNow();
  }

  /** SIGKILL to the whole process group and the temp dir removed; for exit hooks. */
  killNow(): void {
    const pid = this.child?.pid;
    if (pid !== undefined) signalGroup(pid, 'SIGKILL', true);
    this.child = undefined;
    this.closed = true;
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }

  log(): string {
    return ['output.log', 'error.log', 'vsftpd.log', 'rsyncd.log']
      .map((file) => join(this.dir, file))
      .filter((file) => existsSync(file))
      .map((file) => `--- ${file}\n${readFileSync(file, 'utf8').slice(-4000)}`)
      .join('\n');
  }
}

/** Sends a signal to a process group (or only its leader); a group already gone is fine. */
function signalGroup(pid: number, signal: NodeJS.Signals, group: boolean): void {
  try {
    process.kill(group ? -pid : pid, signal);
  } catch {
    // ESRCH: nothing left to signal.
  }
}

// ---------------------------------------------------------------------------------------------
// Public API

/** The binaries `kind` needs that are not installed (empty when it can run). */
export function missingBinaries(kind: DaemonKind): string[] {
  return RECIPES[kind].binaries.filter((binary) => !hasBinary(binary));
}

/** The Debian packages that provide `kind`. */
export function daemonPackages(kind: DaemonKind): readonly string[] {
  return RECIPES[kind].packages;
}

/** What a scanner should name `kind` (without starting it). */
export function expectedService(kind: DaemonKind): ExpectedService {
  return RECIPES[kind].expected;
}

/**
 * Starts a private instance of `kind` on 127.0.0.1 and resolves once it answers its greeting.
 * Throws when a binary is missing (see startDaemonOrSkip) or the daemon fails to come up; its
 * temp dir is removed either way.
 */
export async function startDaemon(kind: DaemonKind, options: DaemonOptions = {}): Promise<Daemon> {
  const missing = missingBinaries(kind);
  if (missing.length > 0) {
    throw new Error(
      `${kind} needs ${missing.join(', ')} (apt-get install ${daemonPackages(kind).join(' ')})`,
    );
  }
  hookExit();
  const port = options.port ?? (await freePort());
  const password =
    kind === 'redis-auth' ? (options.password ?? randomBytes(12).toString('hex')) : undefined;
  const dir = mkdtempSync(join(tmpdir(), `surfacescan-${kind}-`));
  let instance: Instance | undefined;
  try {
    const launch = await RECIPES[kind].prepare(dir, port, password ?? '');
    instance = new Instance(kind, port, dir, launch, password);
    live.add(instance);
    await instance.start();
    return instance;
  } catch (error) {
    if (instance === undefined) rmSync(dir, { recursive: true, force: true });
    else instance.killNow();
    throw error;
  }
}

/** Starts several daemons in parallel; if one fails, the others are closed and it rethrows. */
export async function startDaemons(kinds: readonly DaemonKind[]): Promise<Daemon[]> {
  const results = await Promise.allSettled(kinds.map((kind) => startDaemon(kind)));
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(started.map((daemon) => daemon.close()));
    throw failed.reason;
  }
  return started;
}

/** Closes every daemon this process started and has not closed yet. */
export async function closeAll(): Promise<void> {
  await Promise.all([...live].map((instance) => instance.close()));
}

/**
 * startDaemon, except that a missing binary skips the test with a message saying what to
 * install; under CI=true a missing binary is a failure, as .ci/run installs them all.
 */
export async function startDaemonOrSkip(
  t: TestContext,
  kind: DaemonKind,
  options: DaemonOptions = {},
): Promise<Daemon | undefined> {
  const missing = missingBinaries(kind);
  if (missing.length > 0 && process.env.CI !== 'true') {
    t.skip(
      `${kind}: ${missing.join(', ')} not installed (apt-get install ${daemonPackages(kind).join(' ')})`,
    );
    return undefined;
  }
  return startDaemon(kind, options);
}
