/**
 * Refreshes docs/screenshots/*.png: every page of the web UI at 1280x800, light and dark, on a
 * real server with seeded data (a generated 1,000-VM environment, a loopback scan, issues
 * opened through the real lifecycle). Run with `npm run screenshots` (builds first).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { environmentToJson, generateEnvironment } from '#src/cloud/gendata.model.js';
import { loadConfig } from '#src/config/config.js';
import { startServer } from '#src/http/server.js';
import { launchBrowser, openPage, seedUiData } from '../test/helpers/browser.js';
import { REPO_ROOT } from '../test/helpers/cli.js';

const OUT = join(REPO_ROOT, 'docs', 'screenshots');

async function listener(banner: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end(banner);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'surfacescan-shots-'));
  const envFile = join(dir, 'env.json');
  writeFileSync(
    envFile,
    environmentToJson(generateEnvironment({ vms: 1000, tags: 100, rules: 300, seed: 7 })),
  );
  const databaseUrl = `sqlite:${join(dir, 'ui.db')}`;
  const seeded = await seedUiData(databaseUrl, 2000);
  const server = await startServer(
    loadConfig(
      {
        cloudEnv: envFile,
        port: '0',
        host: '127.0.0.1',
        logLevel: 'silent',
        databaseUrl,
        workerThreads: '1',
        scanMaxRate: '20000',
      },
      {},
    ),
  );
  const listeners = [
    await listener('SSH-2.0-OpenSSH_8.9p1\r\n'),
    await listener('220 ftp ready\r\n'),
  ];
  const browser = await launchBrowser();
  try {
    const post = (path: string, body: unknown): Promise<Response> =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await post('/api/v1/organizations', {
      name: 'Loopback Corp',
      seeds: { domains: [], cidrs: ['127.0.0.0/8'], asns: [], names: [] },
    });
    const scan = (await (
      await post('/api/v1/scans', {
        org: 'Loopback Corp',
        targets: ['127.0.0.1'],
        ports: listeners.map((l) => l.port).join(','),
        rate: 5000,
      })
    ).json()) as { id: string };
    for (let i = 0; i < 200; i++) {
      const view = (await (await fetch(`${server.url}/api/v1/scans/${scan.id}`)).json()) as {
        state: string;
      };
      if (view.state !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const target = seeded.cloudTarget ?? (await pickTarget(server.url));

    mkdirSync(OUT, { recursive: true });
    const pages: [string, string, string | undefined][] = [
      ['overview', '/overview', undefined],
      ['issues', '/issues', undefined],
      ['issues-drawer', `/issues?issue=${encodeURIComponent(seeded.issueId ?? '')}`, undefined],
      ['assets', '/inventory', undefined],
      [
        'cloud',
        `/cloud?vm=${target.vm}&mode=transitive&from=${target.from}`,
        '[data-testid=attack-graph]',
      ],
      ['scheduler', '/scheduler', undefined],
    ];
    for (const scheme of ['light', 'dark'] as const) {
      const { page, close } = await openPage(browser, { colorScheme: scheme });
      try {
        for (const [name, path, scrollTo] of pages) {
          if (name === 'issues-drawer' && seeded.issueId === undefined) continue;
          await page.goto(`${server.url}${path}`);
          await page.waitForLoadState('networkidle');
          await page.waitForTimeout(300);
          if (scrollTo !== undefined) await page.locator(scrollTo).scrollIntoViewIfNeeded();
          await page.screenshot({ path: join(OUT, `${name}-${scheme}.png`) });
          console.log(`docs/screenshots/${name}-${scheme}.png`);
        }
      } finally {
        await close();
      }
    }
  } finally {
    await browser.close();
    for (const l of listeners) l.server.close();
    await server.close();
  }
}

/** A VM with an attacker that reaches it only through another VM. */
async function pickTarget(base: string): Promise<{ vm: string; from: string }> {
  const env = (await (await fetch(`${base}/api/v1/environment`)).json()) as { vm_count: number };
  if (env.vm_count === 0) throw new Error('empty environment');
  const ids = generateEnvironment({ vms: 1000, tags: 100, rules: 300, seed: 7 }).vms.map(
    (vm) => vm.vm_id,
  );
  for (const vm of ids) {
    const get = async (mode: string): Promise<string[]> =>
      (await (await fetch(`${base}/api/v1/attack?vm_id=${vm}&mode=${mode}`)).json()) as string[];
    const direct = await get('direct');
    const transitive = await get('transitive');
    const from = transitive.find((id) => !direct.includes(id));
    if (direct.length > 0 && from !== undefined) return { vm, from };
  }
  throw new Error('no VM with a transitive-only attacker');
}

await main();
