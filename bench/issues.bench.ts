/**
 * npm run bench:issues: the issue list API on SQLite with 100,000 issues. Seeds a fresh
 * database through the real lifecycle (reconcileIssues, timed), starts the real server on it,
 * and measures the latency of list requests over HTTP on loopback: the first page, filtered,
 * text search, each sort, a deep cursor page, and one full CSV export. Output is Markdown.
 *
 * Environment variables:
 * - BENCH_ISSUES: how many issues (default 100000);
 * - BENCH_REPEAT: requests per scenario (default 30); the table shows median and p95;
 * - BENCH_KEEP_DB: keep the seeded SQLite file at this path (to study query plans).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '#src/config/config.js';
import { startServer } from '#src/http/server.js';
import { connectDatabase } from '#src/storage/database.js';
import { migrate } from '#src/storage/migrations.js';
import { seedIssues } from '../test/helpers/seed.js';
import { int, machine, median, ms, quantile, table, wholeNumber } from './common.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const ISSUES = wholeNumber('BENCH_ISSUES', 100_000, 1000);
const REPEAT = wholeNumber('BENCH_REPEAT', 30, 1);
const BATCH = 10_000;

async function seed(url: string): Promise<{ seconds: number }> {
  const db = await connectDatabase(url);
  try {
    await migrate(db);
    const spent = await seedIssues(db, { count: ISSUES, batch: BATCH, days: 30 });
    // Some user activity, so the assignee and progress sorts have something to order.
    await db.kysely
      .updateTable('issues')
      .set({ assignee: 'alice', progress: 'investigating' })
      .where('ip', 'like', '10.0.1%')
      .execute();
    return { seconds: spent / 1000 };
  } finally {
    await db.close();
  }
}

async function time(url: string): Promise<{ ms: number; body: string }> {
  const began = performance.now();
  const response = await fetch(url);
  const body = await response.text();
  const took = performance.now() - began;
  if (response.status !== 200) throw new Error(`${url}: ${String(response.status)} ${body}`);
  return { ms: took, body };
}

async function measure(url: string): Promise<{ median: number; p95: number; total: number }> {
  const samples: number[] = [];
  let total = 0;
  for (let i = 0; i < REPEAT + 2; i++) {
    const { ms: took, body } = await time(url);
    total = (JSON.parse(body) as { total: number }).total;
    if (i >= 2) samples.push(took); // two warm-up requests
  }
  samples.sort((a, b) => a - b);
  return { median: median(samples), p95: quantile(samples, 0.95), total };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'surfacescan-bench-issues-'));
  const keep = process.env.BENCH_KEEP_DB;
  const url = `sqlite:${keep ?? join(dir, 'bench.db')}`;
  try {
    const seeded = await seed(url);
    const server = await startServer(
      loadConfig(
        {
          cloudEnv: join(ROOT, 'test/fixtures/cloud/input-0.json'),
          port: '0',
          host: '127.0.0.1',
          logLevel: 'silent',
          databaseUrl: url,
          workerThreads: '1',
        },
        {},
      ),
    );
    try {
      const api = `${server.url}/api/v1/issues`;
      // A cursor 20 pages deep into the default order.
      let cursor = '';
      for (let i = 0; i < 20; i++) {
        const page = JSON.parse((await time(`${api}?limit=50${cursor}`)).body) as {
          nextCursor: string;
        };
        cursor = `&cursor=${encodeURIComponent(page.nextCursor)}`;
      }
      const scenarios: [string, string][] = [
        ['first page (priority desc)', api],
        ['page 21 by cursor', `${api}?limit=50${cursor}`],
        ['status=active&priority=critical,high', `${api}?status=active&priority=critical,high`],
        ['provider=AWS&progress=new, sort=name', `${api}?provider=AWS&progress=new&sort=name`],
        ['q=10.0.1 (text search)', `${api}?q=10.0.1`],
        ['q=redis (policy name)', `${api}?q=redis`],
        ['sort=name', `${api}?sort=name`],
        ['sort=last_observed', `${api}?sort=last_observed`],
        ['sort=first_added asc', `${api}?sort=first_added&order=asc`],
        ['sort=assignee desc', `${api}?sort=assignee&order=desc`],
        ['sort=provider', `${api}?sort=provider`],
        ['limit=500', `${api}?limit=500`],
        ['summary', `${api}/summary`],
      ];
      const rows: string[][] = [];
      for (const [label, target] of scenarios) {
        if (label === 'summary') {
          const samples: number[] = [];
          for (let i = 0; i < REPEAT; i++) samples.push((await time(target)).ms);
          samples.sort((a, b) => a - b);
          rows.push([label, '-', ms(median(samples)), ms(quantile(samples, 0.95))]);
          continue;
        }
        const m = await measure(target);
        rows.push([label, int(m.total), ms(m.median), ms(m.p95)]);
      }
      const exported = await time(`${api}/export?format=csv`);
      rows.push([
        'export csv (all rows, once)',
        int(exported.body.split('\r\n').length - 2),
        ms(exported.ms),
        '-',
      ]);
      console.log(`## Issue list on SQLite, ${int(ISSUES)} issues\n`);
      console.log(
        `${machine()}; ${String(REPEAT)} requests per scenario, over HTTP on loopback.\n`,
      );
      console.log(
        `Seeding: reconcileIssues opened ${int(ISSUES)} issues in batches of ${int(BATCH)} in ` +
          `${seeded.seconds.toFixed(1)} s (${int(ISSUES / seeded.seconds)} issues/s).\n`,
      );
      console.log(table(['request', 'matching', 'median ms', 'p95 ms'], rows));
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
