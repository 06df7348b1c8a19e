/**
 * The proof: on organizations held out from training, the model reaches precision >= 0.95 at
 * recall >= 0.90 and beats the rules-only baseline on both. The sets are generated from the
 * third-party-web entity list at test time (deterministic), the model trained on the train half.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateEvalSets } from '#src/attribution/evalset.model.js';
import { evaluateOnSet, trainOnSet } from '#src/attribution/labelled.model.js';
import { bundledStopList } from '#src/attribution/bulk-entities.js';
import { loadModel } from '#src/attribution/predict.service.js';
import { thirdPartyWebEntities } from '../bench/attribution-evalset.js';

describe('attribution on held-out organizations', () => {
  const sets = generateEvalSets(thirdPartyWebEntities());

  it('keeps train and test organizations disjoint, and generates the same sets every time', () => {
    const train = new Set(sets.train.organizations.map((o) => o.id));
    assert.ok(sets.test.organizations.every((o) => !train.has(o.id)));
    assert.ok(sets.test.organizations.length > 500);
    const again = generateEvalSets(thirdPartyWebEntities());
    assert.equal(JSON.stringify(again.test), JSON.stringify(sets.test));
  });

  it('meets the targets and beats the rules-only baseline on precision and recall', () => {
    const stop = bundledStopList();
    const model = trainOnSet(sets.train, stop);
    const { overall } = evaluateOnSet(sets.test, stop, model);
    assert.ok(overall.model.precision >= 0.95, `precision ${String(overall.model.precision)}`);
    assert.ok(overall.model.recall >= 0.9, `recall ${String(overall.model.recall)}`);
    assert.ok(overall.model.precision > overall.baseline.precision, JSON.stringify(overall));
    assert.ok(overall.model.recall > overall.baseline.recall, JSON.stringify(overall));
    assert.ok(overall.model.pr_auc > overall.baseline.pr_auc, JSON.stringify(overall));
    // The bundled model is this training run, committed.
    assert.equal(loadModel(null).version, model.version);
  });
});
