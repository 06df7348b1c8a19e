/** `surfacescan attribution train|eval`: the model from labelled sets, and how good it is. */
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { UsageError } from '#src/cli/errors.js';
import {
  LabelledSetError,
  evaluateOnSet,
  readLabelledSet,
  trainOnSet,
  type LabelledSet,
} from '#src/attribution/labelled.model.js';
import { bundledStopList } from '#src/attribution/bulk-entities.js';
import { ModelFileError, loadModel } from '#src/attribution/predict.service.js';
import type { Metrics } from '#src/attribution/eval.model.js';

function readSet(path: string): LabelledSet {
  try {
    return readLabelledSet(path);
  } catch (error) {
    if (error instanceof LabelledSetError) throw new UsageError(error.message);
    throw error;
  }
}

function usage<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof LabelledSetError || error instanceof ModelFileError)
      throw new UsageError(error.message);
    throw error;
  }
}

function probability(name: string): (raw: string) => number {
  return (raw) => {
    const value = Number(raw);
    if (raw.trim() === '' || !(value >= 0 && value <= 1))
      throw new UsageError(`${name} must be a number from 0 to 1, got ${JSON.stringify(raw)}`);
    return value;
  };
}

const f3 = (v: number): string => v.toFixed(3);

function rows(label: string, model: Metrics, baseline: Metrics): string[] {
  return [
    `${label}  precision  ${f3(model.precision)}  ${f3(baseline.precision)}`,
    `${label}  recall     ${f3(model.recall)}  ${f3(baseline.recall)}`,
    `${label}  f1         ${f3(model.f1)}  ${f3(baseline.f1)}`,
    `${label}  pr_auc     ${f3(model.pr_auc)}  ${f3(baseline.pr_auc)}`,
  ];
}

/** Builds `surfacescan attribution` with train and eval. */
export function attributionCommand(write: (text: string) => void): Command {
  const command = new Command('attribution').description(
    'Attribution model: train it on a labelled set, evaluate it against the rules-only baseline.',
  );
  command.addCommand(
    new Command('train')
      .description(
        'Train the model on a labelled set (organizations, facts, labels; see docs/attribution.md)\n' +
          'and save it as a versioned JSON artefact.',
      )
      .requiredOption('--labels <file>', 'the labelled set')
      .option('--out <file>', 'where to write the model', 'model.json')
      .option('--lambda <n>', 'L2 penalty on the weights', '1')
      .addOption(
        new Option('--owned-threshold <p>', 'probability at or above which a pair is owned')
          .argParser(probability('--owned-threshold'))
          .default(0.5),
      )
      .addOption(
        new Option('--candidate-threshold <p>', 'probability at or above which it is a candidate')
          .argParser(probability('--candidate-threshold'))
          .default(0.15),
      )
      .action(
        (options: {
          labels: string;
          out: string;
          lambda: string;
          ownedThreshold: number;
          candidateThreshold: number;
        }) => {
          const lambda = Number(options.lambda);
          if (!(lambda >= 0))
            throw new UsageError(`--lambda must be a number >= 0, got ${options.lambda}`);
          if (options.candidateThreshold > options.ownedThreshold)
            throw new UsageError('--candidate-threshold must not be above --owned-threshold');
          const set = readSet(options.labels);
          const model = usage(() =>
            trainOnSet(set, bundledStopList(), {
              lambda,
              thresholds: { owned: options.ownedThreshold, candidate: options.candidateThreshold },
            }),
          );
          try {
            writeFileSync(options.out, `${JSON.stringify(model, null, 2)}\n`);
          } catch (error) {
            throw new UsageError(`cannot write ${options.out}: ${(error as Error).message}`);
          }
          write(
            `model ${model.version}: ${String(model.training.pairs)} labelled pairs ` +
              `(${String(model.training.positives)} owned), ${String(model.training.iterations)} ` +
              `iterations; written to ${options.out}\n`,
          );
        },
      ),
  );
  command.addCommand(
    new Command('eval')
      .description(
        'Precision, recall, F1 and PR-AUC of the model and of the rules-only baseline (any shared\n' +
          'seed attribute = owned), overall and per organization, on a labelled set.',
      )
      .requiredOption('--labels <file>', 'the labelled set (held-out organizations)')
      .option('--model <file>', 'the model artefact (default: the bundled model)')
      .addOption(
        new Option('--threshold <p>', "owned threshold (default: the model's)").argParser(
          probability('--threshold'),
        ),
      )
      .option('--json', 'print the whole report as JSON')
      .action((options: { labels: string; model?: string; threshold?: number; json?: boolean }) => {
        const set = readSet(options.labels);
        const loaded = usage(() => loadModel(options.model ?? null));
        const model =
          options.threshold === undefined
            ? loaded
            : {
                ...loaded,
                thresholds: {
                  owned: options.threshold,
                  candidate: Math.min(loaded.thresholds.candidate, options.threshold),
                },
              };
        const report = usage(() => evaluateOnSet(set, bundledStopList(), model));
        if (options.json === true) {
          write(`${JSON.stringify({ model_version: model.version, ...report }, null, 2)}\n`);
          return;
        }
        const lines = [
          `model ${model.version}, owned threshold ${String(report.threshold)}; ` +
            `${String(report.overall.model.positives)} owned pairs in ${String(report.per_org.length)} organizations`,
          `scope    metric     model  baseline`,
          ...rows('overall', report.overall.model, report.overall.baseline),
          ...report.per_org.flatMap((o) => rows(o.org, o.model, o.baseline)),
        ];
        write(`${lines.join('\n')}\n`);
      }),
  );
  return command;
}
