/**
 * Exposure discovery against real software: private daemons from Debian packages on 127.0.0.1
 * (test/helpers/daemons.ts), scanned by a real server's own workers. Every daemon's port is
 * found and named, the right issues open, the issues of a stopped daemon go Inactive when a
 * complete rescan no longer sees it, and they reopen (same issue, Active again, with history)
 * when it comes back. In CI every daemon must be installed; elsewhere missing ones are skipped.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '#src/http/server.js';
import { engines, type ScratchDatabase } from './helpers/databases.js';
import {
  closeAll,
  DAEMON_KINDS,
  type Daemon,
  type DaemonKind,
  missingBinaries,
  startDaemons,
} from './helpers/daemons.js';
import { fixturePath, getJson, sendJson, startTestServer, until } from './helpers/http.js';

/** The issues (policy ids) each daemon must raise, and only these. */
const EXPECTED_ISSUES: Record<DaemonKind, readonly string[]> = {
  vsftpd: ['ftp-server'],
  telnetd: ['telnet-server'],
  rsyncd: ['rsync-server'],
  sshd: ['ssh-server'],
  // Debian 12's nginx is 1.22.1, older than the policy's 1.24.0; its apache2 (2.4.6x) is not.
  nginx: ['nginx-outdated'],
  apache2: [],
  // The critical unauthenticated policy replaces the generic one (its `unless`).
  redis: ['redis-unauthenticated'],
  'redis-auth': ['redis-server'],
  postgres: ['postgresql-server'],
  mariadb: ['mysql-server'],
  memcached: ['memcached-server'],
};

/** The daemons stopped and brought back in the lifecycle test. */
const STOPPED: readonly DaemonKind[] = ['telnetd', 'redis'];

interface ServiceView {
  port: number;
  state: string;
  service?: string;
  product?: string;
  version?: string;
}

interface IssueView {
  id: string;
  policyId: string;
  status: string;
  port: number;
  title: string;
}

const sqlite = engines()[0]!;

describe('exposure discovery against real daemons', () => {
  const kinds = DAEMON_KINDS.filter(
    (kind) => process.env.CI === 'true' || missingBinaries(kind).length === 0,
  );
  let daemons: Daemon[] = [];
  let scratch: ScratchDatabase;
  let server: RunningServer;
  const byKind = (kind: DaemonKind): Daemon => daemons.find((d) => d.kind === kind)!;

  before(async () => {
    daemons = await startDaemons(kinds);
    scratch = await sqlite.create();
    server = await startTestServer(fixturePath('input-0.json'), {
      databaseUrl: scratch.url,
      scanMaxRate: '20000',
    });
    const org = await sendJson('POST', `${server.url}/api/v1/organizations`, {
      name: 'Daemons',
      seeds: { domains: [], cidrs: ['127.0.0.1/32'], asns: [], names: [] },
    });
    assert.equal(org.status, 201, JSON.stringify(org.body));
  });

  after(async () => {
    await server.close();
    await scratch.drop();
    await Promise.all(daemons.map((d) => d.close()));
    await closeAll();
  });

  /** A complete scan of the daemons' ports, run by the server's workers. */
  const scan = async (): Promise<void> => {
    const started = await sendJson('POST', `${server.url}/api/v1/scans`, {
      org: 'Daemons',
      targets: ['127.0.0.1'],
      ports: daemons.map((d) => d.port).join(','),
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const id = (started.body as { id: string }).id;
    let state = 'running';
    await until(
      async () => {
        state = ((await getJson(`${server.url}/api/v1/scans/${id}`)).body as { state: string })
          .state;
        return state !== 'running';
      },
      120_000,
      'the scan finished',
    );
    assert.equal(state, 'completed');
  };
  const services = async (): Promise<Map<number, ServiceView>> => {
    const page = (await getJson(`${server.url}/api/v1/services?limit=500`)).body as {
      items: ServiceView[];
    };
    return new Map(page.items.map((s) => [s.port, s]));
  };
  const issues = async (): Promise<IssueView[]> =>
    ((await getJson(`${server.url}/api/v1/issues?limit=500`)).body as { items: IssueView[] }).items;
  const issuesOn = (all: readonly IssueView[], port: number): IssueView[] =>
    all.filter((i) => i.port === port).sort((a, b) => a.policyId.localeCompare(b.policyId));

  it('finds every daemon, names each service and opens the issues each one deserves', async () => {
    await scan();
    const found = await services();
    const all = await issues();
    for (const daemon of daemons) {
      const service = found.get(daemon.port);
      assert.ok(service !== undefined, `${daemon.kind}: port ${String(daemon.port)} not found`);
      assert.equal(service.state, 'open', daemon.kind);
      assert.equal(service.service, daemon.expected.service, `${daemon.kind}: service name`);
      if (daemon.expected.product !== undefined) {
        const said = `${service.product ?? ''} ${service.version ?? ''}`.toLowerCase();
        assert.ok(
          said.includes(daemon.expected.product.toLowerCase()),
          `${daemon.kind}: expected ${daemon.expected.product}, got "${said}"`,
        );
      }
      const raised = issuesOn(all, daemon.port);
      assert.deepEqual(
        raised.map((i) => i.policyId),
        EXPECTED_ISSUES[daemon.kind],
        `${daemon.kind}: issues`,
      );
      for (const issue of raised) {
        assert.equal(issue.status, 'active');
        assert.match(issue.title, new RegExp(`127\\.0\\.0\\.1:${String(daemon.port)}`));
      }
    }
  });

  it('a stopped daemon: its issues go inactive after a complete rescan, and reopen when it returns', async (t) => {
    const stopped = STOPPED.filter((kind) => kinds.includes(kind));
    if (stopped.length === 0) {
      t.skip('telnetd and redis are not installed');
      return;
    }
    const before = await issues();
    await Promise.all(stopped.map((kind) => byKind(kind).stop()));
    await scan();
    const found = await services();
    const during = await issues();
    for (const daemon of daemons) {
      const gone = stopped.includes(daemon.kind);
      assert.equal(found.get(daemon.port)?.state, gone ? 'closed' : 'open', daemon.kind);
      for (const issue of issuesOn(during, daemon.port)) {
        assert.equal(
          issue.status,
          gone ? 'inactive' : 'active',
          `${daemon.kind} ${issue.policyId}`,
        );
      }
    }

    await Promise.all(stopped.map((kind) => byKind(kind).start()));
    await scan();
    const back = await services();
    const after = await issues();
    // The same issues (ids), active again; nothing new opened.
    assert.deepEqual(after.map((i) => i.id).sort(), before.map((i) => i.id).sort());
    for (const kind of stopped) {
      const daemon = byKind(kind);
      assert.equal(back.get(daemon.port)?.state, 'open', kind);
      for (const issue of issuesOn(after, daemon.port)) {
        assert.equal(issue.status, 'active', `${kind} ${issue.policyId}`);
        const detail = (await getJson(`${server.url}/api/v1/issues/${issue.id}`)).body as {
          history: { actor: string; field: string; from: string | null; to: string | null }[];
        };
        const statusChanges = detail.history
          .filter((h) => h.field === 'status')
          .map((h) => [h.actor, h.from, h.to]);
        assert.deepEqual(statusChanges.slice(-2), [
          ['system', 'active', 'inactive'],
          ['system', 'inactive', 'active'],
        ]);
      }
    }
  });
});
