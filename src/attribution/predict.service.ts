/**
 * The predict service: scores asset-organization pairs with the model and says why. Features
 * are computed for the whole batch into one typed array on the event loop (cheap), the dot
 * products run in the worker-thread pool when there is one, and the reasons come from each
 * evidence item's share of the score.
 */
import { readFileSync } from 'node:fs';
import { FEATURE_COUNT, featurize } from '#src/attribution/features.model.js';
import {
  CATEGORY_OF,
  EVIDENCE_TYPES,
  type EvidenceType,
  type ReasonCategory,
} from '#src/attribution/filter.model.js';
import {
  checkArtefact,
  scoreInto,
  type ModelArtefact,
  type Thresholds,
} from '#src/attribution/model.js';
import type { Decision } from '#src/attribution/attribution.repository.js';
import type { CpuPool } from '#src/jobs/pool.js';
import { validationError } from '#src/http/errors.js';

/** The model shipped with the package, trained on the generated training set. */
export const BUNDLED_MODEL_PATH = new URL('../../../data/attribution-model.json', import.meta.url);

/** A model file that cannot be used. */
export class ModelFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFileError';
  }
}

/** Reads and checks a model artefact (the bundled one when path is null). */
export function loadModel(path: string | null): ModelArtefact {
  const where = path ?? BUNDLED_MODEL_PATH;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(where, 'utf8'));
  } catch (error) {
    throw new ModelFileError(`cannot read model ${String(where)}: ${(error as Error).message}`);
  }
  const model = checkArtefact(json);
  if (typeof model === 'string') throw new ModelFileError(`model ${String(where)}: ${model}`);
  return model;
}

/** One piece of evidence as the API takes it. */
export interface EvidenceInput {
  readonly type: EvidenceType;
  readonly value?: string | undefined;
  readonly source?: string | undefined;
  readonly similarity?: number | undefined;
  readonly shared?: number | undefined;
  readonly seen_at?: number | undefined;
}

/** One pair to score. */
export interface PairInput {
  readonly asset: string;
  readonly org_id: string;
  readonly evidence: readonly EvidenceInput[];
}

/** Why a pair scored as it did: one evidence item and its share of the score. */
export interface Reason {
  readonly category: ReasonCategory;
  readonly type: EvidenceType;
  readonly value: string;
  readonly source: string;
  /** Weight x strength: the log-odds this evidence added. */
  readonly contribution: number;
}

/** One scored pair. */
export interface Prediction {
  readonly asset: string;
  readonly org_id: string;
  readonly probability: number;
  readonly decision: Decision;
  readonly reasons: Reason[];
}

/** The input of the attribution.score CPU task. */
export interface ScoreTask {
  readonly weights: readonly number[];
  readonly bias: number;
  readonly features: Float64Array;
  readonly rows: number;
}

/** The CPU task: probabilities of a batch. */
export function scoreTask(input: unknown): Float64Array {
  const task = input as ScoreTask;
  return scoreInto(task.weights, task.bias, task.features, task.rows, new Float64Array(task.rows));
}

/** What the service needs. */
export interface PredictDeps {
  readonly model: ModelArtefact;
  /** Runs scoring off the event loop; null scores in-process (tools, tests, tiny batches). */
  readonly pool: CpuPool | null;
  /** Thresholds when a request names none (defaults to the model's). */
  readonly thresholds?: Thresholds | undefined;
  readonly clock?: () => number;
}

/** Batches below this size are scored in-process: a thread hop costs more than the math. */
const IN_PROCESS_BELOW = 64;

const TYPE_INDEX = new Map<string, number>(EVIDENCE_TYPES.map((t, i) => [t, i]));

/** Decides a probability against thresholds. */
export function decide(probability: number, thresholds: Thresholds): Decision {
  return probability >= thresholds.owned
    ? 'owned'
    : probability >= thresholds.candidate
      ? 'candidate'
      : 'not_owned';
}

/** Scores pairs with one model. */
export class PredictService {
  readonly model: ModelArtefact;
  readonly thresholds: Thresholds;
  private readonly pool: CpuPool | null;
  private readonly clock: () => number;

  constructor(deps: PredictDeps) {
    this.model = deps.model;
    this.pool = deps.pool;
    this.thresholds = deps.thresholds ?? deps.model.thresholds;
    this.clock = deps.clock ?? Date.now;
  }

  /** Stops the pool's threads. */
  async close(): Promise<void> {
    await this.pool?.close();
  }

  /** Probabilities of a batch (in the pool when there is one and the batch is not tiny). */
  async probabilities(pairs: readonly PairInput[], asOf?: number): Promise<Float64Array> {
    const rows = pairs.length;
    const features = featurize(pairs, asOf ?? this.clock());
    if (this.pool === null || rows < IN_PROCESS_BELOW) {
      return scoreInto(this.model.weights, this.model.bias, features, rows, new Float64Array(rows));
    }
    const task: ScoreTask = { weights: this.model.weights, bias: this.model.bias, features, rows };
    return this.pool.run<Float64Array>('attribution.score', task);
  }

  /** Scores a batch and explains each pair. Thresholds must satisfy candidate <= owned. */
  async predict(
    pairs: readonly PairInput[],
    options: { thresholds?: Thresholds | undefined; asOf?: number | undefined } = {},
  ): Promise<Prediction[]> {
    const thresholds = options.thresholds ?? this.thresholds;
    if (thresholds.candidate > thresholds.owned)
      throw validationError('thresholds.candidate must not be above thresholds.owned');
    const probabilities = await this.probabilities(pairs, options.asOf);
    const weights = this.model.weights;
    return pairs.map((pair, i) => {
      const probability = probabilities[i]!;
      const reasons: Reason[] = pair.evidence.map((e) => {
        const shared = e.shared === undefined || e.shared < 1 ? 1 : e.shared;
        return {
          category: CATEGORY_OF[e.type],
          type: e.type,
          value: e.value ?? '',
          source: e.source ?? '',
          contribution: round(weights[TYPE_INDEX.get(e.type)!]! * ((e.similarity ?? 1) / shared)),
        };
      });
      reasons.sort((a, b) => b.contribution - a.contribution);
      return {
        asset: pair.asset,
        org_id: pair.org_id,
        probability: round(probability),
        decision: decide(probability, thresholds),
        reasons,
      };
    });
  }
}

const round = (v: number): number => Math.round(v * 1e6) / 1e6;

/** Columns per pair (re-exported for the benchmark's ceiling). */
export const PREDICT_FEATURES = FEATURE_COUNT;
