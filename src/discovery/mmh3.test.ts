import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { base64Lines, faviconHash, murmurHash3x86 } from '#src/discovery/mmh3.js';

/** A deliberately plain reference: BigInt arithmetic, one byte at a time, straight from the spec. */
function reference(data: Uint8Array, seed: number): number {
  const mask = 0xffffffffn;
  const mul = (a: bigint, b: bigint): bigint => (a * b) & mask;
  const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (32n - r))) & mask;
  const mixK = (k: bigint): bigint => mul(rotl(mul(k, 0xcc9e2d51n), 15n), 0x1b873593n);
  let h = BigInt(seed >>> 0);
  const whole = Math.floor(data.length / 4) * 4;
  for (let i = 0; i < whole; i += 4) {
    let k = 0n;
    for (let j = 3; j >= 0; j--) k = (k << 8n) | BigInt(data[i + j]!);
    h ^= mixK(k);
    h = (mul(rotl(h, 13n), 5n) + 0xe6546b64n) & mask;
  }
  let k = 0n;
  for (let j = data.length - 1; j >= whole; j--) k = (k << 8n) | BigInt(data[j]!);
  if (data.length > whole) h ^= mixK(k);
  h ^= BigInt(data.length);
  h ^= h >> 16n;
  h = mul(h, 0x85ebca6bn);
  h ^= h >> 13n;
  h = mul(h, 0xc2b2ae35n);
  h ^= h >> 16n;
  return Number(h);
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const text = (value: string): Uint8Array => Buffer.from(value, 'utf8');

describe('MurmurHash3 x86 32-bit', () => {
  it('gives the published test vectors', () => {
    const vectors: [Uint8Array, number, number][] = [
      [bytes(), 0, 0],
      [bytes(), 1, 0x514e28b7],
      [bytes(), 0xffffffff, 0x81f16f39],
      [bytes(0xff, 0xff, 0xff, 0xff), 0, 0x76293b50],
      [bytes(0x21, 0x43, 0x65, 0x87), 0, 0xf55b516b],
      [bytes(0x21, 0x43, 0x65, 0x87), 0x5082edee, 0x2362f9de],
      [bytes(0x21, 0x43, 0x65), 0, 0x7e4a8634],
      [bytes(0x21, 0x43), 0, 0xa0f7b07a],
      [bytes(0x21), 0, 0x72661cf4],
      [bytes(0, 0, 0, 0), 0, 0x2362f9de],
      [bytes(0, 0, 0), 0, 0x85f0b427],
      [bytes(0, 0), 0, 0x30f4c306],
      [bytes(0), 0, 0x514e28b7],
      [text('aaaa'), 0x9747b28c, 0x5a97808a],
      [text('aaa'), 0x9747b28c, 0x283e0130],
      [text('aa'), 0x9747b28c, 0x5d211726],
      [text('a'), 0x9747b28c, 0x7fa09ea6],
      [text('abcd'), 0x9747b28c, 0xf0478627],
      [text('abc'), 0x9747b28c, 0xc84a62dd],
      [text('Hello, world!'), 0x9747b28c, 0x24884cba],
      [text('The quick brown fox jumps over the lazy dog'), 0x9747b28c, 0x2fa826cd],
    ];
    for (const [data, seed, expected] of vectors) {
      assert.equal(
        murmurHash3x86(data, seed),
        expected,
        `${Buffer.from(data).toString('hex')}/${seed}`,
      );
    }
  });

  it('is signed like Python mmh3.hash when used for favicons', () => {
    // mmh3.hash("foo") == -156908512 in the Python package's documentation.
    assert.equal(murmurHash3x86(text('foo')) | 0, -156908512);
  });

  it('agrees with a plain BigInt reference on arbitrary bytes and seeds', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 0xffffffff }), (data, seed) => {
        assert.equal(murmurHash3x86(data, seed), reference(data, seed));
      }),
      { numRuns: 500 },
    );
  });
});

describe('favicon hash', () => {
  it('wraps base64 at 76 characters with a newline after every line, as base64.encodebytes', () => {
    assert.equal(base64Lines(bytes()), '');
    assert.equal(base64Lines(text('a')), 'YQ==\n');
    const line = base64Lines(new Uint8Array(57));
    assert.equal(line, `${'A'.repeat(76)}\n`);
    assert.equal(base64Lines(new Uint8Array(58)), `${'A'.repeat(76)}\nAA==\n`);
  });

  it('hashes the wrapped base64 text, not the raw bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 400 }), (data) => {
        const wrapped = Buffer.from(base64Lines(data), 'latin1');
        assert.equal(faviconHash(data), reference(wrapped, 0) | 0);
      }),
      { numRuns: 200 },
    );
  });
});
