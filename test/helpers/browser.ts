/**
 * Real Chromium for end-to-end tests: Debian's /usr/bin/chromium driven by playwright-core
 * (no browser download). Pages record console errors and uncaught exceptions so a test can
 * assert that none happened; screenshots go to test-artifacts/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { connectDatabase } from '#src/storage/database.js';
import { migrateDatabase } from '#src/storage/migrations.js';
import { REPO_ROOT } from './cli.js';
import { seedIssues } from './seed.js';

/** Where Debian installs Chromium (.ci/run installs it when missing). */
export const CHROMIUM = process.env['SURFACESCAN_TEST_CHROMIUM'] ?? '/usr/bin/chromium';

/** Screenshots and other files a reviewer may look at after a run (gitignored). */
export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

/** Starts headless Chromium; the caller closes it. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** A page plus the problems it reported. */
export interface WatchedPage {
  readonly page: Page;
  /** Console errors and uncaught exceptions, as text. */
  readonly problems: string[];
  /** Closes the page's context. */
  readonly close: () => Promise<void>;
}

/** Options of a new page. */
export interface PageOptions {
  readonly width?: number;
  readonly height?: number;
  readonly colorScheme?: 'light' | 'dark';
}

/** Opens a page in a fresh context (no shared storage) at 1280x800 by default. */
export async function openPage(browser: Browser, options: PageOptions = {}): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    colorScheme: options.colorScheme ?? 'light',
    acceptDownloads: true,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  page.on('console', (message) => {
    // A failed fetch logs a resource error; the tests that provoke one assert on the page.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
      problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => {
    problems.push(`pageerror: ${error.message}`);
  });
  return { page, problems, close: () => context.close() };
}

/** Saves a full-viewport screenshot as test-artifacts/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = join(ARTIFACTS, 'screenshots');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/**
 * Evaluates a JavaScript expression in the page. Test code is compiled without the DOM
 * library, so in-page code is written as text.
 */
export function inPage<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate<T>(expression);
}

/** What seedUiData put in the database, for tests and screenshots to point at. */
export interface SeededUi {
  /** One issue id (absent until issues exist). */
  readonly issueId?: string | undefined;
  /** A VM and one of its transitive-only attackers, when known. */
  readonly cloudTarget?: { vm: string; from: string } | undefined;
}

/**
 * Prepares the database at `url` (migrated) with `issues` issues opened through the real
 * lifecycle (service assets upserted, then reconcileIssues with the bundled policies), spread
 * over providers and over the last 14 days.
 */
export async function seedUiData(url: string, issues: number): Promise<SeededUi> {
  await migrateDatabase(url);
  if (issues === 0) return {};
  const db = await connectDatabase(url);
  try {
    // About two weeks of batches, each observed a day earlier, so the trend chart has a shape.
    await seedIssues(db, {
      count: issues,
      batch: Math.min(2500, Math.max(100, Math.ceil(issues / 14))),
      days: 14,
    });
    const first = await db.kysely.selectFrom('issues').select('id').limit(1).executeTakeFirst();
    return { issueId: first?.id };
  } finally {
    await db.close();
  }
}
