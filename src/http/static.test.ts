import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { pino } from 'pino';
import type { App } from '#src/http/app.js';
import { registerWebUi } from '#src/http/static.js';

async function appServing(root: string): Promise<App> {
  const app: App = Fastify({
    loggerInstance: pino({ level: 'silent' }),
  }).withTypeProvider<TypeBoxTypeProvider>();
  await registerWebUi(app, { root });
  await app.ready();
  return app;
}

describe('web UI static serving', () => {
  it('answers 503 with a plain explanation when the UI is not built, and serves it once built', async () => {
    const root = mkdtempSync(join(tmpdir(), 'surfacescan-web-'));
    const app = await appServing(root);
    try {
      const missing = await app.inject('/');
      assert.equal(missing.statusCode, 503);
      assert.match(String(missing.headers['content-type']), /^text\/plain/);
      assert.match(missing.body, /web UI is not built/);
      assert.match(missing.body, /npm run build/);

      // Built while the server runs: picked up without a restart.
      mkdirSync(join(root, 'assets'));
      writeFileSync(join(root, 'index.html'), '<!doctype html><title>ui</title>');
      const page = await app.inject('/');
      assert.equal(page.statusCode, 200);
      assert.equal(page.body, '<!doctype html><title>ui</title>');
    } finally {
      await app.close();
    }
  });

  it('serves index.html for page routes and hashed assets with long-lived caching', async () => {
    const root = mkdtempSync(join(tmpdir(), 'surfacescan-web-'));
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(root, 'assets', 'index-Ab12Cd.js'), 'console.log(1)');
    const app = await appServing(root);
    try {
      for (const url of ['/', '/issues?priority=high&issue=3', '/cloud?vm=vm-1', '/scheduler']) {
        const response = await app.inject(url);
        assert.equal(response.statusCode, 200, url);
        assert.match(String(response.headers['content-type']), /^text\/html/, url);
        assert.equal(response.headers['cache-control'], 'no-cache', url);
        assert.match(response.body, /id="root"/, url);
      }
      const asset = await app.inject('/assets/index-Ab12Cd.js');
      assert.equal(asset.statusCode, 200);
      assert.equal(asset.body, 'console.log(1)');
      assert.match(String(asset.headers['cache-control']), /max-age=31536000/);
      assert.match(String(asset.headers['cache-control']), /immutable/);
      assert.equal((await app.inject('/assets/missing.js')).statusCode, 404);
      assert.equal((await app.inject('/nowhere')).statusCode, 404);
    } finally {
      await app.close();
    }
  });
});
