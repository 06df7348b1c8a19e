import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ON_PREM,
  ProviderIndex,
  ProviderRangeError,
  cidrBounds,
  detectProviderRangeFormat,
  parseAsnTable,
  parseProviderRanges,
  rangeToCidrs,
  sourcesFromFile,
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

describe('added range formats', () => {
  // The head of Fastly's public-ip-list (as the @tryghost/fastly-ip copy carries it).
  const fastly = JSON.stringify({
    addresses: ['23.235.32.0/20', '43.249.72.0/22', '151.101.0.0/16'],
    ipv6_addresses: ['2a04:4e40::/32', '2a04:4e42::/32'],
  });
  // The start of crowdsec's copy of Cloudflare's ips-v4 / ips-v6 (Debian crowdsec 1.4.6).
  const cloudflare = [
    '# https://www.cloudflare.com/ips-v4 @ 2022-12-15',
    '173.245.48.0/20',
    '104.16.0.0/13',
    '# https://www.cloudflare.com/ips-v6 @ 2022-12-15',
    '2400:cb00::/32',
    '',
  ].join('\n');

  it('reads Fastly public-ip-list, IPv4 and IPv6, and older IPv4-only copies', () => {
    assert.equal(detectProviderRangeFormat(fastly), 'fastly');
    assert.deepEqual(
      parseProviderRanges('fastly', fastly).map((r) => `${r.provider} ${r.cidr}`),
      [
        'Fastly 23.235.32.0/20',
        'Fastly 43.249.72.0/22',
        'Fastly 151.101.0.0/16',
        'Fastly 2a04:4e40::/32',
        'Fastly 2a04:4e42::/32',
      ],
    );
    assert.equal(parseProviderRanges('fastly', '{"addresses":["151.101.0.0/16"]}').length, 1);
    assert.throws(
      () => parseProviderRanges('fastly', '{"addresses":["151.101.0.0/16","151.101.0.0/99"]}'),
      /Fastly public-ip-list: addresses\[1\]: "151\.101\.0\.0\/99" is not a CIDR block/,
    );
  });

  it('reads a bare CIDR list only with a provider name, skipping comments', () => {
    assert.equal(detectProviderRangeFormat(cloudflare), 'list');
    assert.throws(() => parseProviderRanges('list', cloudflare), /names no provider/);
    assert.deepEqual(parseProviderRanges('list', cloudflare, 'Cloudflare'), [
      { provider: 'Cloudflare', cidr: '173.245.48.0/20' },
      { provider: 'Cloudflare', cidr: '104.16.0.0/13' },
      { provider: 'Cloudflare', cidr: '2400:cb00::/32' },
    ]);
    assert.throws(
      () => parseProviderRanges('list', '10.0.0.0/8\n10.1.0.0/16,x\n', 'X'),
      /CIDR list line 2: expected one CIDR block/,
    );
  });

  it('renames every range when a provider is given, and refuses an empty name', () => {
    const text = JSON.stringify({
      prefixes: [{ ip_prefix: '15.200.0.0/16', region: 'us-gov-west-1', service: 'AMAZON' }],
      ipv6_prefixes: [],
    });
    assert.deepEqual(parseProviderRanges('aws', text, 'AWS GovCloud'), [
      { provider: 'AWS GovCloud', cidr: '15.200.0.0/16' },
    ]);
    assert.throws(() => parseProviderRanges('aws', text, '  '), /provider name is empty/);
  });
});

describe('IP-to-ASN tables', () => {
  // Rows of @ip-location-db/asn 2.3.2026061719 asn-ipv4.csv and asn-ipv6.csv, as shipped.
  const table4 = [
    '52.94.23.0,52.95.99.255,16509,"Amazon.com, Inc."',
    '52.95.100.0,52.95.103.255,8987,Amazon Data Services Ireland Ltd',
    '52.95.104.0,52.95.244.255,16509,"Amazon.com, Inc."',
    '52.95.245.0,52.95.245.255,14618,"Amazon.com, Inc."',
    '52.95.246.0,52.95.255.255,16509,"Amazon.com, Inc."',
    '52.96.0.0,52.113.193.255,8075,Microsoft Corporation',
    '52.113.194.0,52.113.197.255,8068,Microsoft Corporation',
  ].join('\n');
  const table6 = [
    '2001:67c:4f0::,2001:67c:4f0:ffff:ffff:ffff:ffff:ffff,48038,Coop Genossenschaft',
    '2001:67c:4f8::,2001:67c:4f8:ffff:ffff:ffff:ffff:ffff,8075,Microsoft Corporation',
  ].join('\n');
  const providers = new Map([
    [16509, 'AWS'],
    [14618, 'AWS'],
    [8987, 'AWS'],
    [8075, 'Azure'],
  ]);

  it('keeps the wanted networks, joins adjacent rows of one provider and names the owners', () => {
    const found = parseAsnTable(table4, providers);
    const index = ProviderIndex.fromRanges(found.ranges);
    for (const ip of ['52.94.23.0', '52.95.100.1', '52.95.245.9', '52.95.255.255'])
      assert.equal(index.lookup(ip), 'AWS', ip);
    assert.equal(index.lookup('52.96.0.1'), 'Azure');
    assert.equal(index.lookup('52.113.194.1'), ON_PREM, 'AS8068 is not asked for');
    assert.equal(index.lookup('52.94.22.255'), ON_PREM);
    // Five AWS rows are one range: 52.94.23.0 - 52.95.255.255.
    assert.deepEqual(
      found.ranges.filter((r) => r.provider === 'AWS').map((r) => r.cidr),
      rangeToCidrs('52.94.23.0', '52.95.255.255'),
    );
    assert.deepEqual(
      [...(found.organizations.get(8987) ?? [])],
      ['Amazon Data Services Ireland Ltd'],
    );
    assert.deepEqual([...(found.organizations.get(16509) ?? [])], ['Amazon.com, Inc.']);
    assert.deepEqual(parseAsnTable(table6, providers).ranges, [
      { provider: 'Azure', cidr: '2001:67c:4f8::/48' },
    ]);
  });

  it('refuses a malformed row, naming its line', () => {
    assert.throws(
      () => parseAsnTable(`${table4}\n52.114.0.0,52.114.0.255,AS8075,Microsoft`, providers),
      /ASN table line 8: "AS8075" is not an AS number/,
    );
    assert.throws(
      () => parseAsnTable('52.114.0.0,52.114.0.x,8075,Microsoft', providers),
      /ASN table line 1: .* is not an address range/,
    );
  });

  it('cuts any range into the fewest aligned blocks that cover exactly it', () => {
    assert.deepEqual(rangeToCidrs('10.0.0.0', '10.0.0.255'), ['10.0.0.0/24']);
    assert.deepEqual(rangeToCidrs('10.0.0.1', '10.0.0.6'), [
      '10.0.0.1/32',
      '10.0.0.2/31',
      '10.0.0.4/31',
      '10.0.0.6/32',
    ]);
    assert.deepEqual(rangeToCidrs('0.0.0.0', '255.255.255.255'), ['0.0.0.0/0']);
    assert.throws(() => rangeToCidrs('10.0.0.2', '10.0.0.1'), /ends before it starts/);
    assert.throws(() => rangeToCidrs('10.0.0.1', '::1'), /mixes IPv4 and IPv6/);
    fc.assert(
      fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), (a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const blocks = rangeToCidrs(v4(low), v4(high)).map((c) => cidrBounds(c));
        // Contiguous from low to high, each aligned (cidrBounds clears host bits: start kept).
        let next = BigInt(low);
        for (const block of blocks) {
          assert.equal(block.start, next);
          next = block.end + 1n;
        }
        assert.equal(next, BigInt(high) + 1n);
        // Fewest: no two neighbours could merge into one aligned block of twice the size.
        for (let i = 1; i < blocks.length; i++) {
          const [x, y] = [blocks[i - 1]!, blocks[i]!];
          const size = x.end - x.start + 1n;
          const mergeable = x.bits === y.bits && x.start % (size * 2n) === 0n;
          assert.ok(!mergeable, `${String(x.start)}/${String(x.bits)} and its neighbour`);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('bundled data file', () => {
  it('records origin, retrieval, date and licence for every provider it covers', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc: unknown = JSON.parse(await readFile(BUNDLED_CLOUD_RANGES, 'utf8'));
    const sources = sourcesFromFile(doc);
    const covered = Object.keys((doc as { ranges: Record<string, unknown> }).ranges).sort();
    assert.deepEqual(sources.map((s) => s.provider).sort(), covered);
    for (const s of sources) {
      assert.match(s.retrieved, /^\d{4}-\d{2}-\d{2}$/, s.provider);
      assert.match(s.dated ?? '', /^\d{4}-\d{2}-\d{2}$/, s.provider);
      assert.ok((s.license ?? '') !== '', s.provider);
      assert.match(s.origin, /(npm|Debian) package \S+/, s.provider);
    }
    const bundled = await loadProviderIndex();
    for (const [ip, provider] of [
      ['151.101.1.195', 'Fastly'],
      ['104.24.0.1', 'Cloudflare'],
      ['52.95.110.1', 'AWS'],
      ['2600:1f18::1', 'AWS'],
      ['20.236.44.162', 'Azure'],
      ['34.117.59.81', 'GCP'],
      ['8.8.8.8', 'Google'],
      ['129.146.1.1', 'Oracle'],
      ['167.99.1.1', 'DigitalOcean'],
      ['198.51.100.7', ON_PREM],
    ] as const)
      assert.equal(bundled.lookup(ip), provider, ip);
  });
});
