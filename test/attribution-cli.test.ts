/** The attribution commands as a user runs them: facts import, train, eval. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { generateEvalSets } from '#src/attribution/evalset.model.js';
import { thirdPartyWebEntities } from '../bench/attribution-evalset.js';
import { assertUsageError, cleanEnv, runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'surfacescan-attr-'));
const env = cleanEnv({ SURFACESCAN_DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}` });

describe('surfacescan facts import', () => {
  it('imports every format, and a second import only moves last-seen', async () => {
    for (const name of [
      'facts.jsonl',
      'whois-example.txt',
      'rdap-network.json',
      'example.pem',
      'example.der',
    ]) {
      const result = await runCli(['facts', 'import', `test/fixtures/attribution/${name}`], env);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, / new, /);
    }
    const again = await runCli(['facts', 'import', 'test/fixtures/attribution/facts.jsonl'], env);
    assert.match(again.stdout, /5 facts, 0 new, 5 seen again, 0 skipped/);
  });

  it('refuses a file with a malformed record, naming its line, unless --skip-bad', async () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(
      file,
      '{"kind":"dns","subject":"ok.example","value":{"type":"NS","data":"ns1.ok.example"}}\n{"kind":"dns"}\n',
    );
    const refused = await runCli(['facts', 'import', file], env);
    assertUsageError(refused, 'line 2', 'Nothing was imported', '--skip-bad');
    const skipped = await runCli(['facts', 'import', file, '--skip-bad'], env);
    assert.equal(skipped.code, 0);
    assert.match(skipped.stdout, /1 facts, 1 new, 0 seen again, 1 skipped/);
    assert.match(skipped.stderr, /bad\.jsonl:2: skipped/);
    assertUsageError(
      await runCli(['facts', 'import', join(dir, 'missing.txt')], env),
      'cannot read',
    );
  });
});

describe('surfacescan attribution train and eval', () => {
  it('trains a versioned model and evaluates it against the baseline', async () => {
    const sets = generateEvalSets(thirdPartyWebEntities());
    writeFileSync(join(dir, 'train.json'), JSON.stringify(sets.train));
    writeFileSync(join(dir, 'test.json'), JSON.stringify(sets.test));
    const model = join(dir, 'model.json');
    const trained = await runCli(
      ['attribution', 'train', '--labels', join(dir, 'train.json'), '--out', model],
      env,
    );
    assert.equal(trained.code, 0, trained.stderr);
    const version = (JSON.parse(readFileSync(model, 'utf8')) as { version: string }).version;
    assert.match(trained.stdout, new RegExp(`model ${version}: \\d+ labelled pairs`));
    const evaluated = await runCli(
      ['attribution', 'eval', '--labels', join(dir, 'test.json'), '--model', model],
      env,
    );
    assert.equal(evaluated.code, 0, evaluated.stderr);
    assert.match(evaluated.stdout, /overall {2}precision {2}\d\.\d{3} {2}\d\.\d{3}/);
    assert.match(evaluated.stdout, /org-\d{4} {2}pr_auc/);
  });

  it('exits 2 with one paragraph for a file that is not a labelled set or a bad model', async () => {
    const notSet = join(dir, 'not-a-set.json');
    writeFileSync(notSet, '{"hello":1}');
    assertUsageError(
      await runCli(['attribution', 'train', '--labels', notSet], env),
      'not a labelled set',
    );
    assertUsageError(
      await runCli(
        ['attribution', 'eval', '--labels', join(dir, 'test.json'), '--model', notSet],
        env,
      ),
      'format must be',
    );
    assertUsageError(
      await runCli(['attribution', 'eval', '--labels', notSet, '--threshold', '2'], env),
      'from 0 to 1',
    );
  });
});
