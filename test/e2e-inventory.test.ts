/**
 * End to end in Chromium: the Assets page on a real server whose inventory comes from a real
 * scan (the server's workers probe loopback listeners this test opens). Services listed and
 * searched, the assets view, an asset page with its services and observations, a service page.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { RunningServer } from '#src/http/server.js';
import { fixturePath, getJson, sendJson, startTestServer, until } from './helpers/http.js';
import { launchBrowser, openPage, screenshot } from './helpers/browser.js';
import { bannerListener } from './helpers/listeners.js';

const listener = () => bannerListener('220 inventory test ready\r\n');

describe('Assets page in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  const listeners: { server: Server; port: number }[] = [];

  before(async () => {
    [server, browser] = await Promise.all([
      startTestServer(fixturePath('input-0.json'), { scanMaxRate: '20000' }),
      launchBrowser(),
    ]);
    for (let i = 0; i < 2; i++) listeners.push(await listener());
    const org = await sendJson('POST', `${server.url}/api/v1/organizations`, {
      name: 'Loopback Corp',
      seeds: { domains: [], cidrs: ['127.0.0.0/8'], asns: [], names: [] },
    });
    assert.equal(org.status, 201, JSON.stringify(org.body));
    const scan = await sendJson('POST', `${server.url}/api/v1/scans`, {
      org: 'Loopback Corp',
      targets: ['127.0.0.1'],
      ports: listeners.map((l) => l.port).join(','),
      rate: 5000,
    });
    assert.equal(scan.status, 202, JSON.stringify(scan.body));
    const id = (scan.body as { id: string }).id;
    await until(
      async () =>
        ((await getJson(`${server.url}/api/v1/scans/${id}`)).body as { state: string }).state !==
        'running',
      30_000,
      'scan finished',
    );
  });
  after(async () => {
    for (const l of listeners) l.server.close();
    await browser.close();
    await server.close();
  });

  it('lists the scanned services, opens an asset with its services and observations', async () => {
    const { page, problems, close } = await openPage(browser);
    try {
      await page.goto(`${server.url}/inventory`);
      const table = page.getByRole('table', { name: 'Services' });
      for (const l of listeners) {
        await table.getByRole('rowheader', { name: `127.0.0.1:${l.port}/tcp` }).waitFor();
      }
      await screenshot(page, 'assets-light');

      // Search narrows the list; the URL keeps it.
      await page.getByRole('searchbox', { name: 'Search' }).fill('no-such-product-anywhere');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.getByText('No services match this search.').waitFor();
      assert.equal(new URL(page.url()).searchParams.get('q'), 'no-such-product-anywhere');
      await page.getByRole('searchbox', { name: 'Search' }).fill('');
      await page.getByRole('button', { name: 'Search', exact: true }).click();

      await page.getByRole('radio', { name: 'Assets' }).check();
      await page.getByLabel('Kind').selectOption('ip');
      const assets = page.getByRole('table', { name: 'Assets' });
      await assets.getByRole('link', { name: '127.0.0.1' }).click();
      await page.getByRole('heading', { level: 1, name: 'Ip 127.0.0.1' }).waitFor();
      const services = page.getByRole('table', { name: 'Services of this asset' });
      for (const l of listeners) {
        await services.getByRole('rowheader', { name: `127.0.0.1:${l.port}/tcp` }).waitFor();
      }
      // The page shows exactly the observations the API has for this asset.
      const assetId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
      const detail = (await getJson(`${server.url}/api/v1/assets/${encodeURIComponent(assetId)}`))
        .body as { observations: unknown[] };
      if (detail.observations.length === 0) await page.getByText('Not observed yet.').waitFor();
      else
        assert.equal(
          await page
            .getByRole('list', { name: 'Observations over time' })
            .getByRole('listitem')
            .count(),
          detail.observations.length,
        );
      await screenshot(page, 'asset-light');

      await services.getByRole('link', { name: `127.0.0.1:${listeners[0]!.port}/tcp` }).click();
      await page
        .getByRole('heading', { level: 1, name: `127.0.0.1:${listeners[0]!.port}/tcp` })
        .waitFor();
      await page
        .getByRole('list', { name: 'Observations over time' })
        .getByRole('listitem')
        .first()
        .waitFor();
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  it('shows an unknown asset as an error with the server message', async () => {
    const { page, close } = await openPage(browser, { colorScheme: 'dark' });
    try {
      await page.goto(`${server.url}/inventory/assets/nope`);
      const alert = page.getByRole('alert');
      await alert.waitFor();
      assert.match(await alert.innerText(), /no asset "nope"/);
    } finally {
      await close();
    }
  });
});
