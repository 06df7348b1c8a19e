/**
 * Attribution over HTTP on a real listening server: facts in (all or nothing), a run through
 * the job workers, stored decisions, confirmations as labels, and /api/v1/predict, also from a
 * separate `serve --role predict` process.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '#src/http/server.js';
import { fixturePath, getJson, sendJson, startTestServer, until } from './helpers/http.js';
import { cleanEnv, exitWithin, startServe } from './helpers/cli.js';

const T = Date.UTC(2026, 9, 1);

const FACTS = [
  {
    kind: 'registration',
    subject: 'acme-shop.net',
    value: {
      registrant_org: 'ACME Corp, Inc.',
      registrant_email: 'hostmaster@acme.com',
      name_servers: ['ns1.acme.com'],
    },
    source: 'whois',
    seen_at: T,
  },
  {
    kind: 'certificate',
    subject: 'acme-shop.net',
    value: { sans: ['acme-shop.net', 'www.acme.com'], subject_o: 'Acme Corp' },
    source: 'ct',
    seen_at: T,
  },
  {
    kind: 'registration',
    subject: 'someone-else.org',
    value: { registrant_org: 'Acme Support Services', name_servers: ['ns1.domaincontrol.com'] },
    source: 'whois',
    seen_at: T,
  },
  {
    kind: 'dns',
    subject: 'unrelated.org',
    value: { type: 'A', data: '192.0.2.1' },
    source: 'passive-dns',
    seen_at: T,
  },
];

interface AttributionView {
  asset_id: string;
  asset_key: string;
  org_id: string;
  decision: string;
  score: number;
  reasons: { type: string }[];
  confirmation: string | null;
}

function pair(i: number): unknown {
  return {
    asset: `host${String(i)}.example`,
    org_id: 'org-1',
    evidence: [
      { type: 'registrant_email', value: 'example.com', source: 'whois', seen_at: T },
      { type: 'san', value: 'example.com', source: 'ct', seen_at: T },
    ],
  };
}

describe('attribution API on a real server', () => {
  let server: RunningServer;
  let orgId: string;
  before(async () => {
    server = await startTestServer(fixturePath('input-0.json'));
    orgId = (
      await server.platform.assets.createOrganization(
        'Acme Corp',
        { domains: ['acme.com'], cidrs: [], asns: [], names: [] },
        T,
      )
    ).id;
  });
  after(async () => {
    await server.close();
  });

  it('rejects a fact batch with a bad line, naming it, and stores nothing', async () => {
    const body = `${JSON.stringify(FACTS[0])}\n{"kind":"dns","subject":"x.org","value":{"type":"A","data":"nope"}}\n`;
    const response = await fetch(`${server.url}/api/v1/facts`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body,
    });
    assert.equal(response.status, 400);
    const answer = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(answer.error.code, 'validation_error');
    assert.match(answer.error.message, /line 2: value\.data/);
    const skipped = await fetch(`${server.url}/api/v1/facts?skip_bad=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body,
    });
    assert.equal(skipped.status, 200);
    const report = (await skipped.json()) as { added: number; skipped: { line: number }[] };
    assert.equal(report.added, 1);
    assert.deepEqual(
      report.skipped.map((p) => p.line),
      [2],
    );
  });

  it('imports a JSON array, runs attribution as jobs and stores decisions with reasons', async () => {
    const imported = await sendJson('POST', `${server.url}/api/v1/facts`, FACTS);
    assert.equal(imported.status, 200);
    assert.deepEqual(imported.body, { received: 4, added: 3, updated: 1, skipped: [] });
    const run = await sendJson('POST', `${server.url}/api/v1/attribution/runs`, {
      batch_size: 100,
    });
    assert.equal(run.status, 202);
    const ids = (run.body as { job_ids: string[] }).job_ids;
    assert.equal(ids.length, 1);
    await until(async () => {
      const job = await getJson(`${server.url}/api/v1/jobs/${ids[0]!}`);
      return (job.body as { status: string }).status === 'completed';
    });
    const list = await getJson(`${server.url}/api/v1/attribution/attributions?org_id=${orgId}`);
    const attributions = (list.body as { attributions: AttributionView[] }).attributions;
    assert.deepEqual(
      attributions.map((a) => a.asset_key),
      ['acme-shop.net', 'someone-else.org'],
    );
    assert.equal(attributions[0]!.decision, 'owned');
    // A partial name match alone, from one source, is not ownership.
    assert.notEqual(attributions[1]!.decision, 'owned');
    assert.ok(attributions[0]!.reasons.some((r) => r.type === 'registrant_email'));
  });

  it('lets an analyst confirm or reject, and serves confirmations as training labels', async () => {
    const list = await getJson(`${server.url}/api/v1/attribution/attributions?org_id=${orgId}`);
    const [shop, other] = (list.body as { attributions: AttributionView[] }).attributions;
    const confirm = await sendJson('POST', `${server.url}/api/v1/attribution/confirmations`, {
      asset_id: shop!.asset_id,
      org_id: orgId,
      confirmation: 'owned',
      by: 'analyst@acme.com',
    });
    assert.equal(confirm.status, 200);
    assert.equal((confirm.body as AttributionView).confirmation, 'owned');
    await sendJson('POST', `${server.url}/api/v1/attribution/confirmations`, {
      asset_id: other!.asset_id,
      org_id: orgId,
      confirmation: 'not_owned',
      by: 'analyst@acme.com',
    });
    const missing = await sendJson('POST', `${server.url}/api/v1/attribution/confirmations`, {
      asset_id: 'nope',
      org_id: orgId,
      confirmation: 'owned',
      by: 'x',
    });
    assert.equal(missing.status, 404);
    const labels = await getJson(`${server.url}/api/v1/attribution/labels`);
    const set = labels.body as { labels: unknown[]; facts: { subject: string }[] };
    assert.deepEqual(set.labels, [
      { asset: 'acme-shop.net', org_id: orgId, owned: true },
      { asset: 'someone-else.org', org_id: orgId, owned: false },
    ]);
    assert.ok(set.facts.some((f) => f.subject === 'acme-shop.net'));
  });

  it('predicts a batch: probability, decision by thresholds, strongest reasons first', async () => {
    const pairs = Array.from({ length: 500 }, (_, i) => pair(i));
    pairs.push({
      asset: 'weak.example',
      org_id: 'org-1',
      evidence: [{ type: 'mx', value: 'example.com', shared: 3 }],
    });
    const answer = await sendJson('POST', `${server.url}/api/v1/predict`, { pairs });
    assert.equal(answer.status, 200);
    const body = answer.body as {
      model_version: string;
      results: {
        asset: string;
        probability: number;
        decision: string;
        reasons: { category: string }[];
      }[];
    };
    assert.match(body.model_version, /^lr-[0-9a-f]{12}$/);
    assert.equal(body.results.length, 501);
    assert.equal(body.results[0]!.asset, 'host0.example');
    assert.equal(body.results[0]!.decision, 'owned');
    assert.deepEqual(body.results[0]!.reasons.map((r) => r.category).sort(), [
      'certificate',
      'whois',
    ]);
    assert.equal(body.results[500]!.decision, 'not_owned');
    const strict = await sendJson('POST', `${server.url}/api/v1/predict`, {
      pairs: [pair(1)],
      thresholds: { owned: 1, candidate: 0.01 },
    });
    assert.equal((strict.body as typeof body).results[0]!.decision, 'candidate');
  });

  it('rejects a bad pair naming its index, and batches over 10,000', async () => {
    const pairs = [
      pair(0),
      pair(1),
      pair(2),
      { asset: 'x', org_id: 'o', evidence: [{ type: 'vibes' }] },
    ];
    const bad = await sendJson('POST', `${server.url}/api/v1/predict`, { pairs });
    assert.equal(bad.status, 400);
    assert.match(
      (bad.body as { error: { message: string } }).error.message,
      /pairs\.3\.evidence\.0\.type/,
    );
    const tooMany = await sendJson('POST', `${server.url}/api/v1/predict`, {
      pairs: Array.from({ length: 10_001 }, (_, i) => pair(i)),
    });
    assert.equal(tooMany.status, 400);
    const crossed = await sendJson('POST', `${server.url}/api/v1/predict`, {
      pairs: [pair(0)],
      thresholds: { owned: 0.2, candidate: 0.5 },
    });
    assert.equal(crossed.status, 400);
  });
});

describe('serve --role predict', () => {
  it('serves health and predict only, with no database', async () => {
    const serve = startServe(
      ['--role', 'predict', '--port', '0', '--worker-threads', '1'],
      cleanEnv({ SURFACESCAN_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }),
    );
    try {
      const record = await serve.waitForLog((r) => r.msg === 'surfacescan predict listening');
      const url = record.url as string;
      assert.equal((await getJson(`${url}/healthz`)).status, 200);
      const answer = await sendJson('POST', `${url}/api/v1/predict`, {
        pairs: Array.from({ length: 200 }, (_, i) => pair(i)),
      });
      assert.equal(answer.status, 200);
      assert.equal((answer.body as { results: unknown[] }).results.length, 200);
      const bad = await sendJson('POST', `${url}/api/v1/predict`, { pairs: [{ asset: 'x' }] });
      assert.equal(bad.status, 400);
      assert.match((bad.body as { error: { message: string } }).error.message, /pairs\.0/);
      assert.equal((await getJson(`${url}/api/v1/stats`)).status, 404);
      serve.child.kill('SIGTERM');
      assert.equal((await exitWithin(serve)).code, 0);
    } finally {
      serve.kill();
    }
  });
});
