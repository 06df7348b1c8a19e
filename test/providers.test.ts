/**
 * Provider ranges end to end: the real CLI (`surfacescan providers refresh|list|lookup`) on a
 * real database, refreshed lists replacing the bundled ones provider by provider, bad files
 * refused with nothing stored, and GET /api/v1/providers on a real server over the same
 * database. Runs on SQLite and, when configured, PostgreSQL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDatabase, type Db } from '#src/storage/database.js';
import { migrate } from '#src/storage/migrations.js';
import { loadProviderIndexFor } from '#src/discovery/provider.data.js';
import { ON_PREM } from '#src/discovery/provider.model.js';
import { assertUsageError, cleanEnv, runCli } from './helpers/cli.js';
import { engines, type ScratchDatabase } from './helpers/databases.js';
import { fixturePath, getJson, startTestServer } from './helpers/http.js';

/** AWS ip-ranges.json as published (a few entries; one prefix listed twice, by service). */
const AWS_RANGES = JSON.stringify({
  syncToken: '1795500000',
  createDate: '2026-11-20-21-13-07',
  prefixes: [
    {
      ip_prefix: '3.5.140.0/22',
      region: 'ap-northeast-2',
      service: 'AMAZON',
      network_border_group: 'ap-northeast-2',
    },
    {
      ip_prefix: '3.5.140.0/22',
      region: 'ap-northeast-2',
      service: 'S3',
      network_border_group: 'ap-northeast-2',
    },
    {
      ip_prefix: '13.34.37.64/27',
      region: 'ap-southeast-4',
      service: 'AMAZON',
      network_border_group: 'ap-southeast-4',
    },
  ],
  ipv6_prefixes: [
    {
      ipv6_prefix: '2600:1f18::/33',
      region: 'us-east-1',
      service: 'EC2',
      network_border_group: 'us-east-1',
    },
  ],
});

/** A later AWS list: 3.5.140.0/22 is gone. */
const AWS_RANGES_LATER = JSON.stringify({
  syncToken: '1795600000',
  createDate: '2026-11-23-09-00-00',
  prefixes: [{ ip_prefix: '13.34.37.64/27', region: 'ap-southeast-4', service: 'AMAZON' }],
  ipv6_prefixes: [],
});

/** Google cloud.json as published. */
const GCP_RANGES = JSON.stringify({
  syncToken: '1795500001',
  creationTime: '2026-11-20T10:00:00.000000',
  prefixes: [
    { ipv4Prefix: '34.1.208.0/20', service: 'Google Cloud', scope: 'africa-south1' },
    { ipv6Prefix: '2600:1900:8000::/44', service: 'Google Cloud', scope: 'africa-south1' },
  ],
});

/** Azure service tags with one bad prefix deep inside. */
const AZURE_BROKEN = JSON.stringify({
  changeNumber: 300,
  cloud: 'Public',
  values: [
    {
      name: 'AzureCloud.eastus',
      id: 'AzureCloud.eastus',
      properties: { region: 'eastus', addressPrefixes: ['20.42.0.0/17', '20.62.128.0/40'] },
    },
  ],
});

/** Cloudflare's ips-v4, as published: one CIDR a line. */
const CLOUDFLARE_V4 = '173.245.48.0/20\n103.21.244.0/22\n104.16.0.0/13\n';

interface ProviderView {
  provider: string;
  ranges: number;
  source: 'bundled' | 'refreshed';
  refreshedAt: string | null;
  dated: string | null;
  origin: string;
}

for (const engine of engines()) {
  describe(`providers on ${engine.name}`, () => {
    let scratch: ScratchDatabase;
    let env: NodeJS.ProcessEnv;
    let dir: string;
    const file = (name: string, text: string): string => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    const lookup = async (ip: string): Promise<string> => {
      const result = await runCli(['providers', 'lookup', ip], env);
      assert.equal(result.code, 0, result.stderr);
      return result.stdout.trim();
    };
    /** Every stored row, to prove a refused refresh changed nothing. */
    const storedRows = async (): Promise<string[]> => {
      const db = await connectDatabase(scratch.url);
      try {
        await migrate(db);
        const rows = await db.kysely
          .selectFrom('provider_ranges')
          .selectAll()
          .orderBy('provider')
          .orderBy('cidr')
          .execute();
        return rows.map(
          (r) =>
            `${r.provider} ${r.cidr} ${r.source_file} ${r.source_sha256} ${String(r.refreshed_at)}`,
        );
      } finally {
        await db.close();
      }
    };

    before(async () => {
      scratch = await engine.create();
      env = cleanEnv({ SURFACESCAN_DATABASE_URL: scratch.url });
      dir = mkdtempSync(join(tmpdir(), 'surfacescan-providers-'));
    });
    after(async () => {
      await scratch.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('answers from the bundled ranges before any refresh', async () => {
      assert.equal(await lookup('52.95.110.1'), 'AWS');
      assert.equal(await lookup('151.101.1.195'), 'Fastly');
      assert.equal(await lookup('127.0.0.1'), ON_PREM);
      const list = await runCli(['providers', 'list'], env);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^PROVIDER\s+RANGES\s+SOURCE$/m);
      assert.match(list.stdout, /^Fastly\s+19\s+bundled, data of 2026-09-01$/m);
      assert.match(list.stdout, /^AWS\s+\d{4,}\s+bundled, data of \d{4}-\d{2}-\d{2}$/m);
      assert.doesNotMatch(list.stdout, /refreshed/);
    });

    it('stores a published AWS list that replaces every bundled AWS range', async () => {
      const path = file('ip-ranges.json', AWS_RANGES);
      const result = await runCli(['providers', 'refresh', path], env);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'AWS: 3 ranges from ip-ranges.json\n');
      assert.equal(await lookup('3.5.141.7'), 'AWS');
      assert.equal(await lookup('2600:1f18::1'), 'AWS');
      // Bundled AWS space the published list does not name is no longer AWS.
      assert.equal(await lookup('52.95.110.1'), ON_PREM);
      assert.equal(await lookup('151.101.1.195'), 'Fastly', 'other providers keep theirs');

      const sha = createHash('sha256').update(AWS_RANGES).digest('hex');
      const rows = await storedRows();
      assert.equal(rows.length, 3);
      for (const row of rows)
        assert.match(row, new RegExp(`^AWS \\S+ ip-ranges\\.json ${sha} \\d+$`));

      const list = await runCli(['providers', 'list'], env);
      assert.match(
        list.stdout,
        /^AWS\s+3\s+refreshed \d{4}-\d{2}-\d{2}T[\d:.]+Z from ip-ranges\.json$/m,
      );
    });

    it('replaces earlier refreshed ranges and takes several providers in one run', async () => {
      const aws = file('ip-ranges-later.json', AWS_RANGES_LATER);
      const gcp = file('cloud.json', GCP_RANGES);
      const result = await runCli(['providers', 'refresh', aws, gcp], env);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stdout,
        'AWS: 1 ranges from ip-ranges-later.json\nGCP: 2 ranges from cloud.json\n',
      );
      assert.equal(await lookup('3.5.141.7'), ON_PREM, 'the earlier AWS list is gone');
      assert.equal(await lookup('13.34.37.70'), 'AWS');
      assert.equal(await lookup('34.1.208.9'), 'GCP');
      assert.deepEqual(
        (await storedRows()).map((r) => r.split(' ').slice(0, 3).join(' ')),
        [
          'AWS 13.34.37.64/27 ip-ranges-later.json',
          'GCP 2600:1900:8000::/44 cloud.json',
          'GCP 34.1.208.0/20 cloud.json',
        ],
      );
    });

    it('refuses the whole refresh for one bad file, naming it and the problem', async () => {
      const before = await storedRows();
      const good = file('good-ip-ranges.json', AWS_RANGES);
      const broken = file('ServiceTags_Public_20261123.json', AZURE_BROKEN);
      assertUsageError(
        await runCli(['providers', 'refresh', good, broken], env),
        'ServiceTags_Public_20261123.json',
        'values[0].properties.addressPrefixes[1]',
        '"20.62.128.0/40" is not a CIDR block',
        'Nothing was stored.',
      );
      assertUsageError(
        await runCli(['providers', 'refresh', file('cut.json', AWS_RANGES.slice(0, 90))], env),
        'cut.json',
        'not valid JSON',
      );
      assertUsageError(
        await runCli(['providers', 'refresh', join(dir, 'missing.json')], env),
        'cannot read',
        'missing.json',
      );
      assertUsageError(
        await runCli(
          ['providers', 'refresh', file('empty.json', '{"prefixes":[],"ipv6_prefixes":[]}')],
          env,
        ),
        'empty.json',
        'lists no ranges',
      );
      assert.deepEqual(await storedRows(), before);
      assert.equal(await lookup('3.5.141.7'), ON_PREM);
    });

    it('reads a bare CIDR list only with --provider', async () => {
      const path = file('ips-v4', CLOUDFLARE_V4);
      assertUsageError(
        await runCli(['providers', 'refresh', path], env),
        'ips-v4',
        'names no provider',
        '--provider',
      );
      const result = await runCli(['providers', 'refresh', path, '--provider', 'Cloudflare'], env);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'Cloudflare: 3 ranges from ips-v4\n');
      assert.equal(await lookup('104.16.1.1'), 'Cloudflare');
      // The bundled Cloudflare IPv6 blocks were replaced too: a refresh is the whole list.
      assert.equal(await lookup('2606:4700::1111'), ON_PREM);
    });

    it('refuses what is not an address or a format', async () => {
      assertUsageError(
        await runCli(['providers', 'lookup', '300.1.2.3'], env),
        'not an IP address',
      );
      assertUsageError(
        await runCli(['providers', 'refresh', join(dir, 'ips-v4'), '--format', 'yaml'], env),
        'yaml',
      );
    });

    it('builds the index for a database from bundled and refreshed ranges', async () => {
      const db: Db = await connectDatabase(scratch.url);
      try {
        await migrate(db);
        const index = await loadProviderIndexFor(db);
        assert.equal(index.lookup('13.34.37.70'), 'AWS');
        assert.equal(index.lookup('52.95.110.1'), ON_PREM);
        assert.equal(index.lookup('34.1.208.9'), 'GCP');
        assert.equal(index.lookup('151.101.1.195'), 'Fastly');
        assert.equal(index.lookup('20.236.44.162'), 'Azure');
      } finally {
        await db.close();
      }
    });

    it('lists bundled and refreshed providers over HTTP', async () => {
      const server = await startTestServer(fixturePath('input-0.json'), {
        databaseUrl: scratch.url,
      });
      try {
        const answer = await getJson(`${server.url}/api/v1/providers`);
        assert.equal(answer.status, 200);
        const list = answer.body as ProviderView[];
        const byName = new Map(list.map((p) => [p.provider, p]));
        assert.deepEqual(
          list.map((p) => p.provider),
          [...list.map((p) => p.provider)].sort((a, b) => a.localeCompare(b)),
        );
        const aws = byName.get('AWS');
        assert.equal(aws?.source, 'refreshed');
        assert.equal(aws.ranges, 1);
        assert.equal(aws.origin, 'ip-ranges-later.json');
        assert.ok(aws.refreshedAt !== null && !Number.isNaN(Date.parse(aws.refreshedAt)));
        assert.equal(byName.get('Cloudflare')?.source, 'refreshed');
        const fastly = byName.get('Fastly');
        assert.deepEqual(fastly && { ...fastly, origin: fastly.origin.slice(0, 38) }, {
          provider: 'Fastly',
          ranges: 19,
          source: 'bundled',
          refreshedAt: null,
          dated: '2026-09-01',
          origin: 'npm package @tryghost/fastly-ip@0.1.10',
        });
        assert.equal(byName.get('Azure')?.source, 'bundled');
      } finally {
        await server.close();
      }
    });
  });
}
