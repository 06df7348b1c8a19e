/**
 * End to end in Chromium: the Cloud page against a real server serving a generated
 * 1,000-VM environment. Who can attack a VM (direct and transitive), the attack path highlighted
 * in the graph, the URL as state, an upload stored through the API, and an unknown VM.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { environmentToJson, generateEnvironment } from '#src/cloud/gendata.model.js';
import type { RunningServer } from '#src/http/server.js';
import { fixturePath, getJson, startTestServer } from './helpers/http.js';
import { launchBrowser, openPage, screenshot } from './helpers/browser.js';

/** A target with an attacker that reaches it only through another VM, and that path. */
interface Scenario {
  target: string;
  direct: string[];
  transitive: string[];
  from: string;
  path: { vm_id: string; fw_id: string | null }[];
}

async function findScenario(base: string, vmIds: readonly string[]): Promise<Scenario> {
  for (const target of vmIds.slice(0, 200)) {
    const q = encodeURIComponent(target);
    const direct = (await getJson(`${base}/api/v1/attack?vm_id=${q}&mode=direct`)).body as string[];
    const transitive = (await getJson(`${base}/api/v1/attack?vm_id=${q}&mode=transitive`))
      .body as string[];
    const from = transitive.find((vm) => !direct.includes(vm));
    if (direct.length === 0 || from === undefined) continue;
    const path = (
      await getJson(`${base}/api/v1/attack-path?from=${encodeURIComponent(from)}&to=${q}`)
    ).body as Scenario['path'];
    return { target, direct, transitive, from, path };
  }
  throw new Error('the generated environment has no VM with a transitive-only attacker');
}

describe('Cloud page in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let scenario: Scenario;

  before(async () => {
    const env = generateEnvironment({ vms: 1000, tags: 100, rules: 300, seed: 7 });
    const file = join(mkdtempSync(join(tmpdir(), 'surfacescan-e2e-')), 'env.json');
    writeFileSync(file, environmentToJson(env));
    [server, browser] = await Promise.all([startTestServer(file), launchBrowser()]);
    scenario = await findScenario(
      server.url,
      env.vms.map((vm) => vm.vm_id),
    );
  });
  after(async () => {
    await browser.close();
    await server.close();
  });

  it('lists direct and transitive attackers and highlights the path from a chosen attacker', async () => {
    const { page, problems, close } = await openPage(browser);
    try {
      await page.goto(`${server.url}/cloud`);
      await page.getByTestId('vm-count').filter({ hasText: '1,000' }).waitFor();
      await page.getByLabel('Target VM id').fill(scenario.target);
      await page.getByRole('button', { name: 'Find attackers' }).click();
      const count = page.getByTestId('attacker-count');
      await count
        .filter({ hasText: `${scenario.direct.length.toLocaleString('en-US')} direct attacker` })
        .waitFor();
      const list = page.getByRole('list', { name: `direct attackers of ${scenario.target}` });
      assert.deepEqual(await list.getByRole('listitem').allTextContents(), scenario.direct);

      await page.getByLabel('Transitive (any chain)').check();
      await count
        .filter({
          hasText: `${scenario.transitive.length.toLocaleString('en-US')} transitive attacker`,
        })
        .waitFor();
      await page.getByRole('button', { name: scenario.from, exact: true }).click();

      const steps = page.getByTestId('path-steps').getByRole('listitem');
      await steps.first().waitFor();
      const shown = await steps.allTextContents();
      assert.equal(shown.length, scenario.path.length);
      scenario.path.forEach((step, i) => {
        assert.ok(shown[i]!.startsWith(step.vm_id), `step ${i}: ${shown[i]!}`);
        if (step.fw_id !== null) assert.ok(shown[i]!.includes(`via rule ${step.fw_id}`));
      });
      // Highlighted: every VM of the path and every hop between them.
      const graph = page.getByTestId('attack-graph');
      await graph
        .and(page.locator(`[data-path-elements="${scenario.path.length * 2 - 1}"]`))
        .waitFor();
      assert.equal(
        Number(await graph.getAttribute('data-nodes')),
        scenario.transitive.length + 1,
        'one node per attacker plus the target',
      );
      await screenshot(page, 'cloud-light');

      // The URL holds the query: a reload (or a shared link) shows the same answer and path.
      const url = new URL(page.url());
      assert.equal(url.searchParams.get('vm'), scenario.target);
      assert.equal(url.searchParams.get('mode'), 'transitive');
      assert.equal(url.searchParams.get('from'), scenario.from);
      await page.reload();
      await page
        .getByTestId('path-steps')
        .getByRole('listitem')
        .nth(scenario.path.length - 1)
        .waitFor();
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  it('shows an unknown VM as an error with the server message, not a blank panel', async () => {
    const { page, close } = await openPage(browser, { colorScheme: 'dark' });
    try {
      await page.goto(`${server.url}/cloud?vm=vm-does-not-exist`);
      const alert = page.getByRole('alert').filter({ hasText: 'Attackers of vm-does-not-exist' });
      await alert.waitFor();
      assert.match(await alert.innerText(), /no VM with vm_id "vm-does-not-exist"/);
      assert.ok(await alert.getByRole('button', { name: 'Retry' }).isVisible());
    } finally {
      await close();
    }
  });

  it('uploads an environment file, stores it as a version and lists it', async () => {
    const { page, problems, close } = await openPage(browser, { colorScheme: 'dark' });
    try {
      await page.goto(`${server.url}/cloud`);
      await page.getByText('No environment is stored yet').waitFor();
      await page
        .getByLabel('Upload an environment (JSON)')
        .setInputFiles(fixturePath('input-2.json'));
      await page
        .getByTestId('upload-result')
        .filter({ hasText: 'Stored input-2.json as version 1 (5 VMs, 16 rules).' })
        .waitFor();
      const rows = page
        .getByRole('table', { name: 'Stored environment versions' })
        .getByRole('row');
      await rows.nth(1).waitFor();
      assert.match(await rows.nth(1).innerText(), /^1\s+5\s+16/);
      const stored = (await getJson(`${server.url}/api/v1/environments`)).body as {
        version: number;
      }[];
      assert.deepEqual(
        stored.map((s) => s.version),
        [1],
      );
      await screenshot(page, 'cloud-dark');

      // A file that is not an environment is refused with the server's reason; nothing is stored.
      const bad = join(mkdtempSync(join(tmpdir(), 'surfacescan-e2e-')), 'bad.json');
      writeFileSync(bad, JSON.stringify({ vms: [{ vm_id: 7 }], fw_rules: [] }));
      await page.getByLabel('Upload an environment (JSON)').setInputFiles(bad);
      const alert = page.getByRole('alert').filter({ hasText: 'The upload was rejected' });
      await alert.waitFor();
      assert.match(await alert.innerText(), /vms\[0\]/);
      assert.equal(
        ((await getJson(`${server.url}/api/v1/environments`)).body as unknown[]).length,
        1,
      );
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });
});

describe('Cloud graph past 1,000 attackers in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let target: string;
  let transitive: string[];

  before(async () => {
    const env = generateEnvironment({ vms: 3000, tags: 100, rules: 300, seed: 11 });
    const file = join(mkdtempSync(join(tmpdir(), 'surfacescan-e2e-')), 'env.json');
    writeFileSync(file, environmentToJson(env));
    [server, browser] = await Promise.all([startTestServer(file), launchBrowser()]);
    target = env.vms[0]!.vm_id;
    transitive = (
      await getJson(
        `${server.url}/api/v1/attack?vm_id=${encodeURIComponent(target)}&mode=transitive`,
      )
    ).body as string[];
  });
  after(async () => {
    await browser.close();
    await server.close();
  });

  it('groups the attackers off the path so the graph stays drawable', async () => {
    assert.ok(transitive.length > 1000, `${transitive.length} attackers`);
    const { page, problems, close } = await openPage(browser);
    try {
      const from = transitive[0]!;
      await page.goto(`${server.url}/cloud?vm=${target}&mode=transitive&from=${from}`);
      await page.getByText(/attackers are grouped/).waitFor();
      const graph = page.getByTestId('attack-graph');
      await graph.waitFor();
      const nodes = Number(await graph.getAttribute('data-nodes'));
      assert.ok(nodes < 20, `${nodes} nodes drawn for ${transitive.length} attackers`);
      // The path is still drawn hop by hop.
      const steps = await page.getByTestId('path-steps').getByRole('listitem').count();
      assert.equal(Number(await graph.getAttribute('data-path-elements')), steps * 2 - 1);
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });
});
