/**
 * Writes the attribution evaluation sets (train and test, disjoint organizations) generated
 * from the third-party-web entity list (MIT, a devDependency), and with --model PATH also the
 * model trained on the train set. Deterministic: run it twice, get the same bytes.
 *
 *   npm run build && node dist/bench/attribution-evalset.js [--out DIR] [--model FILE] [--seed N]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateEvalSets, type SourceEntity } from '#src/attribution/evalset.model.js';
import { trainOnSet } from '#src/attribution/labelled.model.js';
import { bundledStopList } from '#src/attribution/bulk-entities.js';

/** The entity list of the installed third-party-web package. */
export function thirdPartyWebEntities(): SourceEntity[] {
  const require = createRequire(import.meta.url);
  const path = require.resolve('third-party-web/dist/entities-nostats.json');
  return JSON.parse(readFileSync(path, 'utf8')) as SourceEntity[];
}

const isMain = process.argv[1]?.endsWith('attribution-evalset.js') === true;
if (isMain) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'bench/out/attribution' },
      model: { type: 'string' },
      seed: { type: 'string', default: '20261124' },
    },
  });
  const seed = Number(values.seed);
  const sets = generateEvalSets(thirdPartyWebEntities(), { seed });
  mkdirSync(values.out, { recursive: true });
  for (const [name, set] of [
    ['train', sets.train],
    ['test', sets.test],
  ] as const) {
    const path = join(values.out, `${name}.json`);
    writeFileSync(path, `${JSON.stringify(set)}\n`);
    console.log(
      `${path}: ${String(set.organizations.length)} organizations, ${String(set.facts.length)} facts, ${String(set.labels.length)} labels`,
    );
  }
  if (values.model !== undefined) {
    const model = trainOnSet(sets.train, bundledStopList());
    writeFileSync(values.model, `${JSON.stringify(model, null, 2)}\n`);
    console.log(`${values.model}: model ${model.version}`);
  }
}
