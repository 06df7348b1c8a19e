/**
 * Evaluation: precision, recall, F1 at a threshold and PR-AUC (average precision), overall and
 * per organization, for the model and for the rules-only baseline (any exactly shared seed
 * attribute = owned). Positives the filter never proposed count as missed by both.
 */

/** Scores against labels. */
export interface Metrics {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Average precision: the area under the precision-recall curve, step-wise. */
  readonly pr_auc: number;
  readonly positives: number;
  readonly predicted_owned: number;
  readonly true_positives: number;
}

/**
 * Metrics of scores (higher = more likely owned) against 0/1 labels; `threshold` decides owned.
 * `missed` positives have no score at all (never candidates): they lower recall and PR-AUC.
 */
export function metrics(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number,
  missed = 0,
): Metrics {
  const n = scores.length;
  let positives = missed;
  let tp = 0;
  let predicted = 0;
  for (let i = 0; i < n; i++) {
    positives += labels[i]!;
    if (scores[i]! >= threshold) {
      predicted++;
      tp += labels[i]!;
    }
  }
  const precision = predicted === 0 ? 1 : tp / predicted;
  const recall = positives === 0 ? 1 : tp / positives;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return {
    precision,
    recall,
    f1,
    pr_auc: averagePrecision(scores, labels, positives),
    positives,
    predicted_owned: predicted,
    true_positives: tp,
  };
}

/** Average precision with tied scores taken as one step (so a 0/1 baseline is not flattered). */
export function averagePrecision(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  positives: number,
): number {
  if (positives === 0) return 1;
  const order = Array.from({ length: scores.length }, (_, i) => i).sort(
    (a, b) => scores[b]! - scores[a]! || a - b,
  );
  let ap = 0;
  let tp = 0;
  let seen = 0;
  let i = 0;
  while (i < order.length) {
    const score = scores[order[i]!]!;
    let stepTp = 0;
    let stepN = 0;
    while (i < order.length && scores[order[i]!]! === score) {
      stepTp += labels[order[i]!]!;
      stepN++;
      i++;
    }
    tp += stepTp;
    seen += stepN;
    ap += (stepTp / positives) * (tp / seen);
  }
  return ap;
}

/** One labelled, scored pair. */
export interface EvalPair {
  readonly org: string;
  readonly label: 0 | 1;
  readonly model: number;
  readonly baseline: number;
}

/** Model and baseline side by side. */
export interface Comparison {
  readonly model: Metrics;
  readonly baseline: Metrics;
}

/** The evaluation report. */
export interface EvalReport {
  readonly threshold: number;
  readonly overall: Comparison;
  readonly per_org: readonly ({ readonly org: string } & Comparison)[];
}

/** Compares model and baseline overall and per organization. `missed` counts positives per org. */
export function compare(
  pairs: readonly EvalPair[],
  missed: ReadonlyMap<string, number>,
  threshold: number,
): EvalReport {
  const side = (list: readonly EvalPair[], miss: number): Comparison => ({
    model: metrics(
      list.map((p) => p.model),
      list.map((p) => p.label),
      threshold,
      miss,
    ),
    baseline: metrics(
      list.map((p) => p.baseline),
      list.map((p) => p.label),
      0.5,
      miss,
    ),
  });
  let totalMissed = 0;
  for (const m of missed.values()) totalMissed += m;
  const byOrg = new Map<string, EvalPair[]>();
  for (const p of pairs) {
    const list = byOrg.get(p.org);
    if (list === undefined) byOrg.set(p.org, [p]);
    else list.push(p);
  }
  for (const org of missed.keys()) if (!byOrg.has(org)) byOrg.set(org, []);
  const perOrg = [...byOrg.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([org, list]) => ({ org, ...side(list, missed.get(org) ?? 0) }));
  return { threshold, overall: side(pairs, totalMissed), per_org: perOrg };
}
