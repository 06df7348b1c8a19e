/**
 * End to end in Chromium: the console's shell on a real server. Navigation and focus, the
 * Scheduler's live refresh, an API failure shown as an error panel with a working Retry, the
 * narrow layout, and the server routes the UI must not shadow.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { RunningServer } from '#src/http/server.js';
import { fixturePath, getJson, sendJson, startTestServer } from './helpers/http.js';
import { inPage, launchBrowser, openPage, screenshot } from './helpers/browser.js';

describe('console shell in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([
      startTestServer(fixturePath('input-3.json')),
      launchBrowser(),
    ]);
  });
  after(async () => {
    await browser.close();
    await server.close();
  });

  it('opens on the Overview and moves between pages from the navigation, focus following', async () => {
    const { page, problems, close } = await openPage(browser);
    try {
      await page.goto(server.url);
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      const nav = page.getByRole('navigation', { name: 'Main' });
      assert.equal(
        await nav.getByRole('link', { name: 'Overview' }).getAttribute('aria-current'),
        'page',
      );
      await page.getByTestId('overview-vms').filter({ hasText: '11' }).waitFor();

      // Keyboard: the skip link comes first and leads to the content.
      await page.keyboard.press('Tab');
      assert.equal(await inPage(page, 'document.activeElement?.textContent'), 'Skip to content');

      for (const [name, heading, path] of [
        ['Scheduler', 'Scheduler', '/scheduler'],
        ['Cloud', 'Cloud', '/cloud'],
        ['Issues', 'Issues', '/issues'],
      ] as const) {
        await nav.getByRole('link', { name }).click();
        await page.getByRole('heading', { level: 1, name: heading }).waitFor();
        assert.equal(new URL(page.url()).pathname, path);
        assert.equal(await nav.getByRole('link', { name }).getAttribute('aria-current'), 'page');
        assert.equal(await inPage(page, 'document.activeElement?.id'), 'main');
        assert.equal(await page.title(), `${name} · surfacescan`);
      }
      await page.goBack();
      await page.getByRole('heading', { level: 1, name: 'Cloud' }).waitFor();

      await page.goto(`${server.url}/no-such-page`).catch(() => undefined);
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  it('shows live queues and workers on the Scheduler, refreshing every 2 s', async () => {
    const { page, problems, close } = await openPage(browser);
    try {
      await page.goto(`${server.url}/scheduler`);
      const queues = page.getByRole('table', { name: 'Queues' });
      await queues.waitFor();
      const expected = (
        (await getJson(`${server.url}/api/v1/scheduler`)).body as { queues: { name: string }[] }
      ).queues.map((q) => q.name);
      assert.ok(expected.length > 0);
      for (const name of expected) await queues.getByRole('rowheader', { name }).waitFor();
      await page.getByRole('table', { name: 'Workers' }).getByText('alive').first().waitFor();
      // The view asks again on its own.
      const started = Date.now();
      await page.waitForRequest((request) => request.url().endsWith('/api/v1/scheduler'), {
        timeout: 4000,
      });
      assert.ok(Date.now() - started < 3000);
      // Work handed out now shows up without a reload: 20 jobs run and are counted completed.
      const noop = queues.getByRole('row').filter({
        has: page.getByRole('rowheader', { name: 'diag.noop', exact: true }),
      });
      const completed = noop.getByRole('cell').nth(3);
      const before = Number(await completed.innerText());
      const enqueued = await sendJson('POST', `${server.url}/api/v1/jobs`, {
        jobs: Array.from({ length: 20 }, () => ({ type: 'diag.noop', payload: {} })),
      });
      assert.equal(enqueued.status, 202, JSON.stringify(enqueued.body));
      await completed.filter({ hasText: String(before + 20) }).waitFor();
      await screenshot(page, 'scheduler-light');
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  it('renders an API failure as an error panel with the message, and Retry recovers', async () => {
    const { page, close } = await openPage(browser, { colorScheme: 'dark' });
    try {
      await page.route('**/api/v1/scheduler', (route) =>
        route.fulfill({
          status: 503,
          contentType: 'application/json',
          body: JSON.stringify({
            error: {
              code: 'unavailable',
              message: 'a backing service is unavailable, try again later',
            },
          }),
        }),
      );
      await page.goto(`${server.url}/scheduler`);
      const alert = page.getByRole('alert');
      await alert.waitFor();
      assert.match(await alert.innerText(), /The scheduler view failed to load/);
      assert.match(await alert.innerText(), /a backing service is unavailable, try again later/);
      await screenshot(page, 'error-state-dark');

      await page.unroute('**/api/v1/scheduler');
      await alert.getByRole('button', { name: 'Retry' }).click();
      await page.getByRole('table', { name: 'Queues' }).waitFor();
      assert.equal(await page.getByRole('alert').count(), 0);

      // The server unreachable altogether: still a message, never a blank page.
      await page.route('**/api/v1/environment', (route) => route.abort('connectionrefused'));
      await page.goto(`${server.url}/overview`);
      await page
        .getByRole('alert')
        .filter({ hasText: 'The environment failed to load' })
        .filter({ hasText: 'could not be reached' })
        .waitFor();
    } finally {
      await close();
    }
  });

  it('fits a narrow window without sideways scrolling of the page', async () => {
    const { page, problems, close } = await openPage(browser, { width: 400, height: 800 });
    try {
      for (const path of ['/overview', '/issues', '/inventory', '/scheduler', '/cloud']) {
        await page.goto(`${server.url}${path}`);
        await page.getByRole('heading', { level: 1 }).waitFor();
        await page.waitForLoadState('networkidle');
        const overflow = await inPage<number>(
          page,
          'document.documentElement.scrollWidth - document.documentElement.clientWidth',
        );
        assert.ok(overflow <= 0, `${path} overflows by ${overflow}px`);
        assert.ok(await page.getByRole('link', { name: 'Issues' }).isVisible());
      }
      await screenshot(page, 'cloud-narrow');
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  it('leaves the API, docs, metrics and health routes to the server', async () => {
    const api404 = await fetch(`${server.url}/api/v1/no-such-thing`);
    assert.equal(api404.status, 404);
    assert.deepEqual(await api404.json(), {
      error: { code: 'not_found', message: 'no such endpoint: GET /api/v1/no-such-thing' },
    });
    for (const [path, type] of [
      ['/healthz', /json/],
      ['/readyz', /json/],
      ['/openapi.json', /json/],
      ['/metrics', /text\/plain/],
      ['/docs', /html/],
    ] as const) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 200, path);
      assert.match(String(response.headers.get('content-type')), type, path);
      if (path === '/docs') assert.doesNotMatch(await response.text(), /id="root"/);
      else await response.arrayBuffer();
    }
    const openapi = (await getJson(`${server.url}/openapi.json`)).body as { paths: object };
    assert.ok(!Object.keys(openapi.paths).some((p) => p === '/' || p.startsWith('/issues/')));
  });
});
