/**
 * End to end in Chromium: the Overview's exposure cards on a real server. Three weeks of nmap
 * files imported over HTTP are shown as the services summary counts them (figures, the
 * product, provider and new-exposure charts drawn with those numbers), an empty inventory shows
 * its empty states, and a failing summary endpoint an error panel whose Retry recovers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { RunningServer } from '#src/http/server.js';
import { fixturePath, getJson, startTestServer } from './helpers/http.js';
import { inPage, launchBrowser, openPage, screenshot } from './helpers/browser.js';
import { importHistory, type SummaryView } from './helpers/exposures.js';

/** Whether a chart description says "name: value" (as one item of its list). */
function reads(description: string, name: string, value: string | number): boolean {
  return (
    description.includes(`: ${name}: ${String(value)};`) ||
    description.includes(`; ${name}: ${String(value)};`) ||
    description.includes(`; ${name}: ${String(value)}.`) ||
    description.includes(`: ${name}: ${String(value)}.`)
  );
}

/** The accessible description ECharts writes on a chart's container (its data in words). */
async function chartDescription(page: Page, testId: string): Promise<string> {
  const chart = page.getByTestId(testId);
  await chart.locator('canvas').first().waitFor();
  return (await chart.getAttribute('aria-label')) ?? '';
}

describe('Overview exposure cards in Chromium', () => {
  let server: RunningServer;
  let empty: RunningServer;
  let browser: Browser;
  let summary: SummaryView;

  before(async () => {
    [server, empty, browser] = await Promise.all([
      startTestServer(fixturePath('input-3.json')),
      startTestServer(fixturePath('input-3.json')),
      launchBrowser(),
    ]);
    await importHistory(server.url, Date.now());
    summary = (await getJson(`${server.url}/api/v1/services/summary`)).body as SummaryView;
  });
  after(async () => {
    await browser.close();
    await Promise.all([server.close(), empty.close()]);
  });

  it('shows the imported services by product, by provider and new this week', async () => {
    const { page, problems, close } = await openPage(browser);
    try {
      await page.goto(`${server.url}/overview`);
      const figures: [string, number][] = [
        ['open-services', summary.totals.openServices],
        ['product-count', summary.totals.products],
        ['ip-assets', summary.totals.ipAssets],
        ['exposed-ips', summary.totals.exposedIps],
        ['new-exposures', summary.totals.newThisWeek],
      ];
      // The history's own numbers (test/helpers/exposures.ts), so a wrong API fails here too.
      assert.deepEqual(
        figures.map(([, n]) => n),
        [30, 16, 8, 8, 22],
      );
      for (const [testId, value] of figures) {
        await page
          .getByTestId(testId)
          .filter({ hasText: value.toLocaleString('en-US') })
          .waitFor();
        assert.equal(await page.getByTestId(testId).innerText(), String(value));
      }

      // Each chart drew on its canvas, and its description reads the real data.
      const products = await chartDescription(page, 'chart-products');
      for (const item of summary.byProduct.items) {
        assert.ok(reads(products, item.name, item.count), products);
      }
      const other = summary.byProduct.other;
      assert.ok(other.count > 0);
      assert.ok(reads(products, `Other (${String(other.names)} products)`, other.count), products);
      const providers = await chartDescription(page, 'chart-providers');
      for (const row of summary.byProvider) {
        const words = `${String(row.ipAssets)} IP assets, ${String(row.openServices)} open services`;
        assert.ok(reads(providers, row.provider, words), providers);
      }
      const days = await chartDescription(page, 'chart-new-exposures');
      for (const d of summary.firstSeenByDay) {
        assert.ok(reads(days, d.day, d.count), days);
      }
      await screenshot(page, 'overview-exposures-light');
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  it('fits a narrow window with the charts, without sideways scrolling', async () => {
    const { page, problems, close } = await openPage(browser, { width: 400, height: 800 });
    try {
      await page.goto(`${server.url}/overview`);
      for (const chart of ['chart-products', 'chart-providers', 'chart-new-exposures'])
        await page.getByTestId(chart).locator('canvas').first().waitFor();
      const overflow = await inPage<number>(
        page,
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      assert.ok(overflow <= 0, `the Overview overflows by ${String(overflow)}px`);
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  it('shows empty states while nothing has been scanned or imported', async () => {
    const { page, problems, close } = await openPage(browser, { colorScheme: 'dark' });
    try {
      await page.goto(`${empty.url}/overview`);
      await page.getByText('No open service yet').waitFor();
      await page.getByText('No address is known yet').waitFor();
      await page.getByText('No service was first seen in the last 14 days.').waitFor();
      assert.equal(await page.getByTestId('new-exposures').innerText(), '0');
      assert.equal(await page.getByTestId('chart-products').count(), 0);
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  it('renders a failing summary as an error panel in each card, and Retry recovers', async () => {
    const { page, close } = await openPage(browser);
    try {
      await page.route('**/api/v1/services/summary', (route) =>
        route.fulfill({
          status: 503,
          contentType: 'application/json',
          body: JSON.stringify({
            error: { code: 'unavailable', message: 'the database is unavailable, try again' },
          }),
        }),
      );
      await page.goto(`${server.url}/overview`);
      const alerts = page
        .getByRole('alert')
        .filter({ hasText: 'The services summary failed to load' })
        .filter({ hasText: 'the database is unavailable, try again' });
      await alerts.first().waitFor();
      assert.equal(await alerts.count(), 3);
      // The other cards are unaffected.
      await page.getByTestId('chart-priority').or(page.getByText('No issue yet')).first().waitFor();
      await page.getByTestId('overview-vms').waitFor();
      await screenshot(page, 'overview-exposures-error');

      await page.unroute('**/api/v1/services/summary');
      await alerts.first().getByRole('button', { name: 'Retry' }).click();
      await page
        .getByTestId('open-services')
        .filter({ hasText: String(summary.totals.openServices) })
        .waitFor();
      await page.getByTestId('chart-products').locator('canvas').first().waitFor();
      assert.equal(await alerts.count(), 0);
    } finally {
      await close();
    }
  });
});
