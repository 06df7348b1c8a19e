import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jsonErrorOffset } from '#src/cloud/json-position.js';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('jsonErrorOffset', () => {
  it('points at the first bad character', () => {
    assert.equal(jsonErrorOffset('{"vms": [}'), 9);
    assert.equal(jsonErrorOffset('{"a":1,}'), 7);
    assert.equal(jsonErrorOffset('[1 2]'), 3);
    assert.equal(jsonErrorOffset('{"a": "unterminated'), 19);
    assert.equal(jsonErrorOffset(''), 0);
  });

  it('agrees with JSON.parse on valid documents and on documents with one character changed', () => {
    fc.assert(
      fc.property(
        fc.json(),
        fc.nat(),
        fc.constantFrom('', '}', ']', ',', '"', ':', 'x', '\\', ' '),
        (text, at, ch) => {
          assert.equal(jsonErrorOffset(text), -1);
          const i = at % (text.length + 1);
          const mutated = text.slice(0, i) + ch + text.slice(i + 1);
          assert.equal(jsonErrorOffset(mutated) === -1, parses(mutated), mutated);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
