import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ON_PREM,
  ProviderIndex,
  ProviderRangeError,
  cidrBounds,
  detectProviderRangeFormat,
  parseProviderRanges,
  type ProviderRange,
} from '#src/discovery/provider.model.js';
import { BUNDLED_CLOUD_RANGES, loadProviderIndex } from '#src/discovery/provider.data.js';

/** The rule read literally: every range containing the address, most specific first, the later
 * listed winning a tie. Linear, obviously right, the oracle for the index. */
function naiveLookup(ranges: readonly ProviderRange[], ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const address = mapped ? mapped[1]! : ip;
  const v6 = address.includes(':');
  const value = v6 ? v6Value(address) : v4Value(address);
  let best: { provider: string; bits: number } | undefined;
  for (const range of ranges) {
    const bounds = cidrBounds(range.cidr);
    if (bounds.v6 !== v6 || value < bounds.start || value > bounds.end) continue;
    if (!best || bounds.bits >= best.bits) best = { provider: range.provider, bits: bounds.bits };
  }
  return best?.provider ?? ON_PREM;
}

function v4Value(ip: string): bigint {
  return ip.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(octet), 0n);
}

function v6Value(ip: string): bigint {
  const [head = '', tail = ''] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = ip.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = ip.includes('::')
    ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]
    : h;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

const v4 = (n: number): string => [24, 16, 8, 0].map((s) => String((n >>> s) & 255)).join('.');
const v6 = (n: bigint): string => {
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  return groups.join(':');
};

describe('provider range files', () => {
  it('reads AWS ip-ranges.json, IPv4 and IPv6', () => {
    const text = JSON.stringify({
      syncToken: '1795500000',
      createDate: '2026-11-20-21-13-07',
      prefixes: [
        {
          ip_prefix: '3.5.140.0/22',
          region: 'ap-northeast-2',
          service: 'AMAZON',
          network_border_group: 'ap-northeast-2',
        },
      ],
      ipv6_prefixes: [{ ipv6_prefix: '2600:1f14::/35', region: 'us-west-2', service: 'EC2' }],
    });
    assert.deepEqual(parseProviderRanges('aws', text), [
      { provider: 'AWS', cidr: '3.5.140.0/22' },
      { provider: 'AWS', cidr: '2600:1f14::/35' },
    ]);
  });

  it('reads Google cloud.json, Azure service tags, Oracle, the DigitalOcean geofeed and CSV', () => {
    const gcp = JSON.stringify({
      syncToken: '1',
      creationTime: '2026-11-20T00:00:00',
      prefixes: [
        { ipv4Prefix: '34.1.208.0/20', service: 'Google Cloud', scope: 'africa-south1' },
        { ipv6Prefix: '2600:1900:8000::/44', service: 'Google Cloud', scope: 'us-central1' },
      ],
    });
    assert.deepEqual(
      parseProviderRanges('gcp', gcp).map((r) => r.cidr),
      ['34.1.208.0/20', '2600:1900:8000::/44'],
    );
    const azure = JSON.stringify({
      changeNumber: 300,
      cloud: 'Public',
      values: [
        {
          name: 'AzureCloud',
          id: 'AzureCloud',
          properties: { addressPrefixes: ['20.33.0.0/16', '2603:1000::/24'] },
        },
        {
          name: 'AzureCloud.eastus',
          id: 'AzureCloud.eastus',
          properties: { addressPrefixes: ['20.33.0.0/16'] },
        },
      ],
    });
    assert.deepEqual(parseProviderRanges('azure', azure), [
      { provider: 'Azure', cidr: '20.33.0.0/16' },
      { provider: 'Azure', cidr: '2603:1000::/24' },
    ]);
    const oracle = JSON.stringify({
      last_updated_timestamp: '2026-11-20T00:00:00.000000',
      regions: [{ region: 'us-phoenix-1', cidrs: [{ cidr: '129.146.0.0/21', tags: ['OCI'] }] }],
    });
    assert.deepEqual(parseProviderRanges('oracle', oracle), [
      { provider: 'Oracle', cidr: '129.146.0.0/21' },
    ]);
    const geofeed =
      '5.101.96.0/21,NL,NL-NH,Amsterdam,1098\n2a03:b0c0::/48,NL,NL-NH,Amsterdam,1098\n';
    assert.equal(parseProviderRanges('digitalocean', geofeed).length, 2);
    const csv = '# comment\nprovider,cidr\nHetzner,5.9.0.0/16\n\nOVHcloud, 51.68.0.0/16\n';
    assert.deepEqual(parseProviderRanges('csv', csv), [
      { provider: 'Hetzner', cidr: '5.9.0.0/16' },
      { provider: 'OVHcloud', cidr: '51.68.0.0/16' },
    ]);
  });

  it('tells the published formats apart by content', () => {
    assert.equal(
      detectProviderRangeFormat('{"syncToken":"1","prefixes":[],"ipv6_prefixes":[]}'),
      'aws',
    );
    assert.equal(detectProviderRangeFormat('{"prefixes":[{"ipv4Prefix":"34.1.208.0/20"}]}'), 'gcp');
    assert.equal(detectProviderRangeFormat('{"changeNumber":1,"values":[]}'), 'azure');
    assert.equal(detectProviderRangeFormat('{"regions":[]}'), 'oracle');
    assert.equal(
      detectProviderRangeFormat('5.101.96.0/21,NL,NL-NH,Amsterdam,1098\n'),
      'digitalocean',
    );
    assert.equal(detectProviderRangeFormat('# x\nprovider,cidr\nAWS,3.0.0.0/9\n'), 'csv');
    assert.throws(() => detectProviderRangeFormat('{"foo": 1}'), ProviderRangeError);
    assert.throws(() => detectProviderRangeFormat('  '), /empty/);
  });

  it('refuses a whole file for one bad entry, naming it', () => {
    assert.throws(
      () =>
        parseProviderRanges(
          'aws',
          JSON.stringify({ prefixes: [{ ip_prefix: '3.5.140.0/33' }], ipv6_prefixes: [] }),
        ),
      (e: unknown) =>
        e instanceof ProviderRangeError &&
        /prefixes\[0\]\.ip_prefix: "3\.5\.140\.0\/33" is not a CIDR block/.test(e.message),
    );
    assert.throws(() => parseProviderRanges('gcp', '{"prefixes": 3}'), /"prefixes" is not a list/);
    assert.throws(
      () => parseProviderRanges('azure', 'not json'),
      /Azure ServiceTags JSON is not valid JSON/,
    );
    assert.throws(
      () => parseProviderRanges('csv', 'AWS,1.2.3.0/24\nGCP\n'),
      /line 2: expected "provider,cidr"/,
    );
    assert.throws(() => parseProviderRanges('csv', 'AWS,1.2.3/24\n'), /is not a CIDR block/);
  });
});

describe('provider lookup', () => {
  const ranges: ProviderRange[] = [
    { provider: 'AWS', cidr: '3.0.0.0/9' },
    { provider: 'Cloudflare', cidr: '3.5.0.0/16' },
    { provider: 'AWS', cidr: '3.5.7.0/24' },
    { provider: 'GCP', cidr: '34.64.0.0/10' },
    { provider: 'Azure', cidr: '2603:1000::/24' },
    { provider: 'Oracle', cidr: '2603:1000:4::/48' },
    { provider: 'DigitalOcean', cidr: '0.0.0.0/0' },
  ];
  const index = ProviderIndex.fromRanges(ranges);

  it('answers the most specific announcing block, IPv4 and IPv6', () => {
    assert.equal(index.lookup('3.1.2.3'), 'AWS');
    assert.equal(index.lookup('3.5.1.1'), 'Cloudflare');
    assert.equal(index.lookup('3.5.7.200'), 'AWS');
    assert.equal(index.lookup('3.5.8.0'), 'Cloudflare');
    assert.equal(index.lookup('34.64.0.0'), 'GCP');
    assert.equal(index.lookup('34.127.255.255'), 'GCP');
    assert.equal(index.lookup('34.128.0.0'), 'DigitalOcean');
    assert.equal(index.lookup('2603:1000:4::1'), 'Oracle');
    assert.equal(index.lookup('2603:10ff::1'), 'Azure');
    assert.equal(index.lookup('2001:db8::1'), ON_PREM);
    assert.equal(index.lookup('::ffff:3.5.7.1'), 'AWS', 'IPv4-mapped IPv6 is looked up as IPv4');
  });

  it('answers On Prem outside every block and refuses what is not an address', () => {
    const small = ProviderIndex.fromRanges([{ provider: 'AWS', cidr: '3.0.0.0/9' }]);
    assert.equal(small.lookup('192.0.2.1'), ON_PREM);
    assert.equal(small.lookup('0.0.0.0'), ON_PREM);
    assert.equal(small.lookup('255.255.255.255'), ON_PREM);
    assert.throws(() => small.lookup('example.com'), RangeError);
    assert.throws(() => small.lookup('3.1'), RangeError);
  });

  it('merges overlapping and adjacent blocks of one provider', () => {
    const merged = ProviderIndex.fromRanges([
      { provider: 'AWS', cidr: '10.0.0.0/24' },
      { provider: 'AWS', cidr: '10.0.1.0/24' },
      { provider: 'AWS', cidr: '10.0.0.128/25' },
      { provider: 'AWS', cidr: '10.0.0.0/23' },
    ]);
    assert.equal(merged.segmentCount, 1);
    assert.deepEqual(merged.providers(), ['AWS']);
  });

  it('agrees with a linear scan on random nested ranges and addresses (IPv4)', () => {
    const providers = ['AWS', 'GCP', 'Azure', 'Oracle'];
    const block = fc.record({
      provider: fc.constantFrom(...providers),
      base: fc.nat({ max: 0xffff }),
      bits: fc.integer({ min: 8, max: 32 }),
    });
    fc.assert(
      fc.property(
        fc.array(block, { maxLength: 40 }),
        fc.array(fc.nat({ max: 0xffff }), { minLength: 1, maxLength: 30 }),
        (blocks, probes) => {
          // Addresses concentrated in 10.0.0.0/16 so that blocks nest and collide often.
          const list = blocks.map((b) => ({
            provider: b.provider,
            cidr: `${v4(0x0a000000 + b.base)}/${String(b.bits)}`,
          }));
          const built = ProviderIndex.fromRanges(list);
          for (const p of probes) {
            const ip = v4(0x0a000000 + p);
            assert.equal(built.lookup(ip), naiveLookup(list, ip), ip);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('agrees with a linear scan on random nested ranges and addresses (IPv6)', () => {
    const prefix = 0x2001_0db8n << 96n;
    const block = fc.record({
      provider: fc.constantFrom('AWS', 'GCP', 'Azure'),
      base: fc.bigInt({ min: 0n, max: (1n << 20n) - 1n }),
      bits: fc.integer({ min: 32, max: 128 }),
    });
    // Offsets spread over the top bits of the /32 so that /33../64 prefixes differ.
    const at = (x: bigint): bigint => prefix | (x << 76n) | (x & 0xffffn);
    fc.assert(
      fc.property(
        fc.array(block, { maxLength: 30 }),
        fc.array(fc.bigInt({ min: 0n, max: (1n << 20n) - 1n }), { minLength: 1, maxLength: 20 }),
        (blocks, probes) => {
          const list = blocks.map((b) => ({
            provider: b.provider,
            cidr: `${v6(at(b.base))}/${String(b.bits)}`,
          }));
          const built = ProviderIndex.fromRanges(list);
          for (const p of probes) {
            const ip = v6(at(p));
            assert.equal(built.lookup(ip), naiveLookup(list, ip), ip);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('loads the bundled data and measures lookups per second', async () => {
    const bundled = await loadProviderIndex();
    assert.ok(BUNDLED_CLOUD_RANGES.endsWith('data/cloud-ranges.json'));
    assert.equal(bundled.lookup('104.16.1.1'), 'Cloudflare');
    assert.equal(bundled.lookup('2606:4700::1111'), 'Cloudflare');
    assert.equal(bundled.lookup('127.0.0.1'), ON_PREM);

    // A realistic size: ~60k blocks, about what the AWS, Azure and GCP lists give together.
    const big: ProviderRange[] = [];
    const names = ['AWS', 'Azure', 'GCP', 'Oracle', 'DigitalOcean'];
    for (let i = 0; i < 50_000; i++)
      big.push({
        provider: names[i % 5]!,
        cidr: `${v4(0x14000000 + i * 256)}/${String(22 + (i % 3))}`,
      });
    for (let i = 0; i < 10_000; i++)
      big.push({ provider: names[i % 5]!, cidr: `2600:${(i + 0x100).toString(16)}::/32` });
    let started = performance.now();
    const built = ProviderIndex.fromRanges(big);
    const buildMs = performance.now() - started;
    const probes4 = Array.from({ length: 1000 }, (_, i) =>
      v4(0x14000000 + ((i * 2654435761) >>> 8)),
    );
    const probes6 = Array.from(
      { length: 1000 },
      (_, i) => `2600:${(0x100 + ((i * 7919) % 12000)).toString(16)}::${i.toString(16)}`,
    );
    const rate = (probes: string[]): number => {
      const rounds = 200;
      started = performance.now();
      let hits = 0;
      for (let r = 0; r < rounds; r++)
        for (const ip of probes) if (built.lookup(ip) !== ON_PREM) hits++;
      assert.ok(hits > 0);
      return (rounds * probes.length) / ((performance.now() - started) / 1000);
    };
    const v4Rate = rate(probes4);
    const v6Rate = rate(probes6);
    console.log(
      `provider index: ${String(big.length)} blocks -> ${String(built.segmentCount)} segments in ${buildMs.toFixed(0)} ms; ` +
        `${(v4Rate / 1e6).toFixed(2)} M IPv4 lookups/s, ${(v6Rate / 1e6).toFixed(2)} M IPv6 lookups/s`,
    );
    assert.ok(v4Rate > 50_000 && v6Rate > 20_000);
  });
});
