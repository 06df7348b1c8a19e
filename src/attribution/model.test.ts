import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FEATURE_COUNT, featurize } from '#src/attribution/features.model.js';
import { averagePrecision, compare, metrics } from '#src/attribution/eval.model.js';
import { checkArtefact, scoreInto, train } from '#src/attribution/model.js';
import { prng } from '#src/attribution/evalset.model.js';

/** A separable-ish toy set: owned pairs have a SAN, others only an MX shared by many. */
function toy(n: number): { x: Float64Array; y: Uint8Array } {
  const rand = prng(7);
  const pairs = Array.from({ length: n }, (_, i) => {
    const owned = i % 3 === 0;
    return {
      evidence: owned
        ? [{ type: 'san' as const, similarity: 1, shared: 1, seen_at: 1, source: 'ct' }]
        : [
            {
              type: 'mx' as const,
              similarity: 1,
              shared: 1 + Math.floor(rand() * 5),
              seen_at: 1,
              source: 'dns',
            },
          ],
    };
  });
  return {
    x: featurize(pairs, 1),
    y: Uint8Array.from(pairs.map((_, i) => (i % 3 === 0 ? 1 : 0))),
  };
}

describe('features, model and metrics', () => {
  it('computes a fixed-width row per pair: strength, categories, fuzziness, rarity', () => {
    const x = featurize(
      [
        {
          evidence: [
            { type: 'registrant_org', similarity: 0.5, shared: 2, seen_at: 0, source: 'whois' },
            { type: 'cert_org', similarity: 0.5, shared: 1, seen_at: 0, source: 'ct' },
          ],
        },
      ],
      0,
    );
    assert.equal(x.length, FEATURE_COUNT);
    assert.equal(x[6], 0.25); // ev_registrant_org: similarity / shared
    assert.equal(x[5], 0.5); // ev_cert_org
    assert.equal(x[13], 0); // no exact evidence: no category counts
    assert.equal(x[14], 0.5); // two of four sources
    assert.equal(x[15], 0.5); // best name similarity
    assert.equal(x[16], 1); // fuzzy only
  });

  it('trains to the same weights every time and separates the toy set', () => {
    const { x, y } = toy(300);
    const a = train(x, y);
    const b = train(x, y);
    assert.deepEqual(a, b);
    const p = scoreInto(a.weights, a.bias, x, y.length, new Float64Array(y.length));
    for (let i = 0; i < y.length; i++) assert.equal(p[i]! >= 0.5, y[i] === 1, `row ${String(i)}`);
    assert.equal(typeof checkArtefact(JSON.parse(JSON.stringify(a))), 'object');
    const problem = checkArtefact({ ...a, weights: [1] });
    assert.ok(typeof problem === 'string' && problem.includes('weights'));
  });

  it('computes precision, recall, F1 and PR-AUC as by hand', () => {
    // scores: 0.9 (pos), 0.8 (neg), 0.7 (pos), 0.2 (pos); threshold 0.5; one positive missed.
    const m = metrics([0.9, 0.8, 0.7, 0.2], [1, 0, 1, 1], 0.5, 1);
    assert.equal(m.precision, 2 / 3);
    assert.equal(m.recall, 2 / 4);
    assert.equal(m.f1, (2 * (2 / 3) * 0.5) / (2 / 3 + 0.5));
    // AP = 1/4 * 1 + 1/4 * 2/3 + 1/4 * 3/4
    assert.ok(Math.abs(m.pr_auc - (1 / 4 + (1 / 4) * (2 / 3) + (1 / 4) * (3 / 4))) < 1e-12);
    // Ties count as one step: half the positives at precision 1/2, then the rest at 2/3.
    assert.equal(averagePrecision([1, 1, 0], [1, 0, 1], 2), 1 / 4 + 1 / 3);
    const report = compare(
      [
        { org: 'a', label: 1, model: 0.9, baseline: 1 },
        { org: 'b', label: 0, model: 0.1, baseline: 1 },
      ],
      new Map([['c', 2]]),
      0.5,
    );
    assert.equal(report.overall.model.precision, 1);
    assert.equal(report.overall.baseline.precision, 0.5);
    assert.equal(report.overall.model.recall, 1 / 3);
    assert.deepEqual(
      report.per_org.map((o) => o.org),
      ['a', 'b', 'c'],
    );
  });
});
