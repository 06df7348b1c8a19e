import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { toFact, type Fact, type FactInput } from '#src/attribution/facts.model.js';
import {
  SeedIndex,
  emptyStats,
  generateCandidates,
  normaliseName,
  type SeededOrganization,
} from '#src/attribution/filter.model.js';
import { bundledStopList } from '#src/attribution/bulk-entities.js';

const ORGS: SeededOrganization[] = [
  {
    id: 'acme',
    name: 'Acme Corp',
    seeds: { domains: ['acme.com'], cidrs: ['198.51.100.0/24'], asns: [64500], names: [] },
  },
  {
    id: 'globex',
    name: 'Globex S.A.',
    seeds: { domains: ['globex.fr'], cidrs: [], asns: [], names: ['Globex Group'] },
  },
  {
    id: 'cdn',
    name: 'Cloudflare',
    seeds: { domains: ['cloudflare.com'], cidrs: [], asns: [13335], names: [] },
  },
];

function fact(input: FactInput): Fact {
  const parsed = toFact(input, 1_000, 'test');
  if (typeof parsed === 'string') assert.fail(parsed);
  return parsed;
}

function facts(inputs: FactInput[]): Fact[] {
  return inputs.map(fact);
}

describe('the candidate filter', () => {
  it('normalises case, punctuation and legal suffixes of names', () => {
    assert.equal(normaliseName('ACME CORP.'), 'acme');
    assert.equal(normaliseName('Acme, Inc.'), 'acme');
    assert.equal(normaliseName('Globex S.A.'), 'globex');
    assert.equal(normaliseName('Müller GmbH & Co. KG'), 'muller gmbh and');
    assert.equal(normaliseName('Example Holdings Ltd'), 'example holdings');
    assert.equal(normaliseName('LLC'), 'llc');
  });

  it('joins every kind of fact to the seeds it shares', () => {
    const index = new SeedIndex(ORGS, bundledStopList());
    index.addNetworkFacts(
      facts([{ kind: 'prefix', subject: '203.0.113.0/24', value: { asn: 64500 } }]),
    );
    const stats = emptyStats();
    const pairs = generateCandidates(
      index,
      facts([
        {
          kind: 'registration',
          subject: 'acme-shop.net',
          value: {
            registrant_org: 'ACME Corp, Inc.',
            registrant_email: 'hostmaster@acme.com',
            name_servers: ['ns1.acme.com'],
          },
        },
        {
          kind: 'certificate',
          subject: 'acme-shop.net',
          value: { sans: ['acme-shop.net', 'www.acme.com'] },
        },
        { kind: 'dns', subject: 'www.acme-shop.net', value: { type: 'A', data: '203.0.113.9' } },
        { kind: 'dns', subject: '198.51.100.7', value: { type: 'PTR', data: 'h7.acme.com' } },
        {
          kind: 'certificate',
          subject: 'globex-eu.com',
          value: { sans: ['globex-eu.com'], subject_o: 'Globex Europe SAS' },
        },
      ]),
      stats,
    );
    const bySubject = new Map(pairs.map((p) => [`${p.asset}>${p.org_id}`, p]));
    const shop = bySubject.get('acme-shop.net>acme')!;
    assert.deepEqual(shop.evidence.map((e) => e.type).sort(), [
      'name_server',
      'registrant_email',
      'registrant_org',
      'san',
    ]);
    assert.deepEqual(
      bySubject.get('www.acme-shop.net>acme')!.evidence.map((e) => e.type),
      ['asn'],
    );
    assert.deepEqual(
      bySubject
        .get('198.51.100.7>acme')!
        .evidence.map((e) => e.type)
        .sort(),
      ['ip_cidr', 'ptr'],
    );
    const globex = bySubject.get('globex-eu.com>globex')!;
    assert.equal(globex.evidence[0]!.type, 'cert_org');
    assert.equal(globex.evidence[0]!.similarity, 0.5);
    assert.equal(stats.pairs, 4);
    assert.equal(stats.by_evidence.asn, 1);
  });

  it('turns no bulk entity into evidence: privacy services, shared name servers, cloud ASNs', () => {
    const index = new SeedIndex(ORGS, bundledStopList());
    index.addNetworkFacts(
      facts([{ kind: 'prefix', subject: '104.16.0.0/13', value: { asn: 13335 } }]),
    );
    const stats = emptyStats();
    const pairs = generateCandidates(
      index,
      facts([
        {
          kind: 'registration',
          subject: 'someone.example',
          value: {
            registrant_org: 'Domains By Proxy, LLC',
            name_servers: ['ada.ns.cloudflare.com'],
          },
        },
        { kind: 'dns', subject: 'someone.example', value: { type: 'A', data: '104.16.1.1' } },
        { kind: 'dns', subject: 'www.cloudflare.com', value: { type: 'A', data: '104.16.1.2' } },
      ]),
      stats,
    );
    // Cloudflare's own host is still its own; the customer's domain is nobody's.
    assert.deepEqual(
      pairs.map((p) => [p.asset, p.org_id, p.evidence.map((e) => e.type).join()]),
      [['www.cloudflare.com', 'cdn', 'domain']],
    );
    assert.ok(stats.stopped.names >= 1 && stats.stopped.domains >= 1);
    assert.equal(index.stopped.asns, 1);
  });

  it('counts how many organizations share an attribute', () => {
    const twins: SeededOrganization[] = [
      { id: 'a', name: 'Delta', seeds: { domains: ['delta.com'], cidrs: [], asns: [], names: [] } },
      {
        id: 'b',
        name: 'Delta Inc',
        seeds: { domains: ['deltafaucet.com'], cidrs: [], asns: [], names: [] },
      },
    ];
    const pairs = generateCandidates(
      new SeedIndex(twins, bundledStopList()),
      facts([{ kind: 'registration', subject: 'd.example', value: { registrant_org: 'DELTA' } }]),
    );
    assert.equal(pairs.length, 2);
    assert.ok(pairs.every((p) => p.evidence[0]!.shared === 2));
  });
});

describe('IP lookups against a naive reference', () => {
  it('finds exactly the seed CIDRs that contain an address, overlaps included', () => {
    const v4 = fc
      .tuple(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
      )
      .map((o) => o.join('.'));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(v4, fc.integer({ min: 0, max: 32 })), { minLength: 1, maxLength: 20 }),
        fc.array(v4, { minLength: 1, maxLength: 20 }),
        (cidrs, ips) => {
          const orgs: SeededOrganization[] = cidrs.map(([ip, bits], i) => ({
            id: `o${String(i)}`,
            name: `Org ${String(i)}`,
            seeds: { domains: [], cidrs: [`${ip}/${String(bits)}`], asns: [], names: [] },
          }));
          const index = new SeedIndex(orgs, { names: [], domains: [], asns: [] });
          const pairs = generateCandidates(
            index,
            ips.map((ip) =>
              fact({ kind: 'dns', subject: ip, value: { type: 'PTR', data: 'x.example' } }),
            ),
          );
          const found = new Set(pairs.map((p) => `${p.asset}>${p.org_id}`));
          const expected = new Set<string>();
          for (const ip of ips) {
            const addr = ipaddr.IPv4.parse(ip);
            cidrs.forEach(([net, bits], i) => {
              if (addr.match(ipaddr.IPv4.parse(net), bits)) expected.add(`${ip}>o${String(i)}`);
            });
          }
          assert.deepEqual([...found].sort(), [...expected].sort());
        },
      ),
      { numRuns: 200 },
    );
  });
});
