/**
 * Labelled sets: organizations, facts and labels (asset, organization, owned) in one document,
 * the input of `attribution train` and `attribution eval`. Training and evaluation run the
 * filter over the facts exactly as production does, then join the labels to its pairs.
 */
import { readFileSync } from 'node:fs';
import { toFact, type Fact, type FactInput } from '#src/attribution/facts.model.js';
import {
  SeedIndex,
  generateCandidates,
  type Candidate,
  type SeededOrganization,
  type StopList,
} from '#src/attribution/filter.model.js';
import { featurize } from '#src/attribution/features.model.js';
import { scoreInto, train, type ModelArtefact, type TrainOptions } from '#src/attribution/model.js';
import { compare, type EvalPair, type EvalReport } from '#src/attribution/eval.model.js';

/** Format tag of a labelled set. */
export const LABELS_FORMAT = 'surfacescan.attribution.labels/1';

/** One label. */
export interface Label {
  /** The asset key as facts name it. */
  readonly asset: string;
  readonly org_id: string;
  readonly owned: boolean;
}

/** A labelled set as stored. */
export interface LabelledSet {
  readonly format: typeof LABELS_FORMAT;
  /** Recency is measured from this time (epoch ms). */
  readonly as_of: number;
  readonly organizations: readonly SeededOrganization[];
  readonly facts: readonly FactInput[];
  readonly labels: readonly Label[];
  /** When true, labels list every owned pair, and any other pair the filter finds is not owned. */
  readonly closed_world?: boolean;
}

/** A labelled set that cannot be used. */
export class LabelledSetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabelledSetError';
  }
}

/** Reads and checks a labelled set file. */
export function readLabelledSet(path: string): LabelledSet {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new LabelledSetError(`cannot read labelled set ${path}: ${(error as Error).message}`);
  }
  const set = json as Partial<LabelledSet> | null;
  if (set?.format !== LABELS_FORMAT)
    throw new LabelledSetError(`${path} is not a labelled set (format ${LABELS_FORMAT})`);
  if (
    !Array.isArray(set.organizations) ||
    !Array.isArray(set.facts) ||
    !Array.isArray(set.labels) ||
    typeof set.as_of !== 'number'
  )
    throw new LabelledSetError(
      `${path}: a labelled set has as_of, organizations, facts and labels`,
    );
  set.labels.forEach((l: Partial<Label>, i) => {
    if (typeof l.asset !== 'string' || typeof l.org_id !== 'string' || typeof l.owned !== 'boolean')
      throw new LabelledSetError(`${path}: labels[${String(i)}] needs asset, org_id and owned`);
  });
  return set as LabelledSet;
}

/** The filter's pairs for a set, each with its label (undefined when unlabelled). */
export interface LabelledPairs {
  readonly candidates: Candidate[];
  readonly labels: (0 | 1 | undefined)[];
  /** Owned labels the filter never proposed, per organization. */
  readonly missed: Map<string, number>;
}

/** Runs the filter over a set and joins its labels. */
export function labelledPairs(set: LabelledSet, stop: StopList): LabelledPairs {
  const facts: Fact[] = [];
  set.facts.forEach((input, i) => {
    const fact = toFact(input, set.as_of, 'import');
    if (typeof fact === 'string') throw new LabelledSetError(`facts[${String(i)}]: ${fact}`);
    facts.push(fact);
  });
  const index = new SeedIndex(set.organizations, stop);
  index.addNetworkFacts(facts);
  const candidates = generateCandidates(index, facts);
  const truth = new Map<string, boolean>();
  for (const l of set.labels) truth.set(`${l.asset}\u0000${l.org_id}`, l.owned);
  const proposed = new Set<string>();
  const labels = candidates.map((c) => {
    const key = `${c.asset}\u0000${c.org_id}`;
    proposed.add(key);
    const owned = truth.get(key);
    if (owned === undefined) return set.closed_world === true ? (0 as const) : undefined;
    return owned ? (1 as const) : (0 as const);
  });
  const missed = new Map<string, number>();
  for (const l of set.labels) {
    if (l.owned && !proposed.has(`${l.asset}\u0000${l.org_id}`))
      missed.set(l.org_id, (missed.get(l.org_id) ?? 0) + 1);
  }
  return { candidates, labels, missed };
}

/** The rules-only baseline: owned when any seed attribute is shared exactly. */
export function baselineScore(candidate: Pick<Candidate, 'evidence'>): number {
  return candidate.evidence.some((e) => e.similarity >= 1) ? 1 : 0;
}

/** Trains a model on the labelled pairs of a set. */
export function trainOnSet(
  set: LabelledSet,
  stop: StopList,
  options: TrainOptions = {},
): ModelArtefact {
  const { candidates, labels } = labelledPairs(set, stop);
  const rows = candidates.filter((_, i) => labels[i] !== undefined);
  const y = Uint8Array.from(labels.filter((l) => l !== undefined));
  return train(featurize(rows, set.as_of), y, options);
}

/** Evaluates a model and the baseline on a set. */
export function evaluateOnSet(set: LabelledSet, stop: StopList, model: ModelArtefact): EvalReport {
  const { candidates, labels, missed } = labelledPairs(set, stop);
  const rows = candidates.filter((_, i) => labels[i] !== undefined);
  const y = labels.filter((l) => l !== undefined);
  const features = featurize(rows, set.as_of);
  const scores = scoreInto(
    model.weights,
    model.bias,
    features,
    rows.length,
    new Float64Array(rows.length),
  );
  const pairs: EvalPair[] = rows.map((c, i) => ({
    org: c.org_id,
    label: y[i]!,
    model: scores[i]!,
    baseline: baselineScore(c),
  }));
  return compare(pairs, missed, model.thresholds.owned);
}
