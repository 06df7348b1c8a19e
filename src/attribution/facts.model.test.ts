import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  canonicalJson,
  contentKey,
  detectFormat,
  parseFacts,
  parseJsonLines,
  parsePem,
  parseWhois,
  toFact,
} from '#src/attribution/facts.model.js';

const fixture = (name: string): Buffer =>
  readFileSync(new URL(`../../../test/fixtures/attribution/${name}`, import.meta.url));
const NOW = 1_760_000_000_000;

describe('fact parsers', () => {
  it('reads JSON Lines of every kind and normalises names and addresses', () => {
    const { facts, problems } = parseJsonLines(fixture('facts.jsonl').toString(), NOW);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      facts.map((f) => [f.kind, f.subject]),
      [
        ['registration', 'example.org'],
        ['dns', 'www.example.org'],
        ['dns', '192.0.2.11'],
        ['certificate', 'shop.example.net'],
        ['prefix', '198.51.100.0/24'],
      ],
    );
    const ptr = facts[2]!;
    assert.equal(ptr.kind === 'dns' && ptr.value.data, 'host-1.example.com');
  });

  it('reports malformed JSON Lines with their line numbers and keeps the good ones', () => {
    const text = [
      '{"kind":"dns","subject":"a.example","value":{"type":"A","data":"192.0.2.1"}}',
      '',
      '{"kind":"dns","subject":"a.example","value":{"type":"A","data":"not-an-ip"}}',
      '{not json',
      '{"kind":"weird","subject":"x"}',
      '{"kind":"prefix","subject":"10.0.0.0/33","value":{"asn":1}}',
    ].join('\n');
    const { facts, problems } = parseJsonLines(text, NOW);
    assert.equal(facts.length, 1);
    assert.deepEqual(
      problems.map((p) => p.line),
      [3, 4, 5, 6],
    );
    assert.match(problems[0]!.message, /A record holds an IPv4/);
    assert.match(problems[1]!.message, /not JSON/);
    assert.match(problems[2]!.message, /kind/);
    assert.match(problems[3]!.message, /CIDR/);
  });

  it('reads a WHOIS record, and names the line of a bad value', () => {
    const good = parseWhois(fixture('whois-example.txt').toString(), NOW);
    assert.deepEqual(good.problems, []);
    const fact = good.facts[0]!;
    assert.equal(fact.subject, 'example-shop.com');
    assert.ok(fact.kind === 'registration');
    assert.equal(fact.value.registrant_org, 'Example Corp, Inc.');
    assert.deepEqual(fact.value.name_servers, ['ns1.example.com', 'ns2.example.com']);
    assert.equal(fact.value.created, Date.parse('2019-03-04T10:00:00Z'));
    const bad = parseWhois('Domain Name: ok.example\nCreation Date: yesterday-ish\n', NOW);
    assert.deepEqual(bad.problems, [{ line: 2, message: '"yesterday-ish" is not a date' }]);
    assert.equal(parseWhois('hello\n', NOW).problems[0]?.line, 1);
  });

  it('reads an RDAP ip network with its registrant from the address range', () => {
    const parsed = parseFacts(fixture('rdap-network.json'), 'auto', NOW);
    assert.equal(parsed.format, 'rdap');
    assert.deepEqual(parsed.problems, []);
    const fact = parsed.facts[0]!;
    assert.equal(fact.subject, '192.0.2.0/24');
    assert.ok(fact.kind === 'registration');
    assert.equal(fact.value.registrant_org, 'Example Corp');
    assert.equal(fact.value.registrant_email, 'noc@example.com');
  });

  it('reads PEM and DER certificates: subject O=, SANs, issuer and fingerprint', () => {
    for (const name of ['example.pem', 'example.der']) {
      const parsed = parseFacts(fixture(name), 'auto', NOW);
      assert.deepEqual(parsed.problems, [], name);
      const fact = parsed.facts[0]!;
      assert.ok(fact.kind === 'certificate');
      assert.match(fact.subject, /^sha256:[0-9a-f]{64}$/);
      assert.equal(fact.value.subject_o, 'Example Corp, Inc.');
      assert.deepEqual(fact.value.sans, ['example.com', 'shop.example.net', 'www.example.com']);
    }
  });

  it('reports a broken PEM block at its BEGIN line', () => {
    const text = `junk\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`;
    const { problems } = parsePem(text, NOW);
    assert.equal(problems[0]?.line, 2);
  });

  it('detects formats from content', () => {
    assert.equal(detectFormat(fixture('facts.jsonl')), 'jsonl');
    assert.equal(detectFormat(fixture('example.der')), 'der');
    assert.equal(detectFormat(fixture('example.pem')), 'pem');
    assert.equal(detectFormat(fixture('whois-example.txt')), 'whois');
    assert.equal(detectFormat(Buffer.from('[{"kind":"dns"}]')), 'json');
  });

  it('gives equal facts equal content keys whatever the key order or time', () => {
    const a = toFact(
      {
        kind: 'certificate',
        subject: 'A.example',
        value: { subject_o: 'X', sans: ['b.example', 'a.example'] },
        seen_at: 1,
      },
      NOW,
      'ct',
    );
    const b = toFact(
      {
        kind: 'certificate',
        value: { sans: ['a.example', 'b.example'], subject_o: 'X' },
        subject: 'a.example',
        seen_at: 2,
      },
      NOW,
      'ct',
    );
    assert.ok(typeof a !== 'string' && typeof b !== 'string');
    assert.equal(contentKey(a), contentKey(b));
    assert.equal(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] }), '{"a":[{"c":2,"d":1}],"b":1}');
  });
});
