/**
 * The attribution model: L2-regularised logistic regression, trained by Newton's method
 * (iteratively reweighted least squares). Why not a library: ml.js's logistic regression trains
 * by fixed-step gradient descent (results depend on step and epoch count, and it has no L2
 * penalty), and pulls in ml-matrix; with ~20 features Newton converges exactly in a dozen steps,
 * the result is deterministic, and scoring is a dot product we run over typed arrays. The model
 * is saved as a versioned JSON artefact.
 */
import { createHash } from 'node:crypto';
import { FEATURES, FEATURE_COUNT } from '#src/attribution/features.model.js';

/** Artefact format tag. */
export const MODEL_FORMAT = 'surfacescan.attribution.model/1';

/** Decision thresholds on the probability. */
export interface Thresholds {
  /** At or above: owned. */
  readonly owned: number;
  /** At or above (and below owned): candidate, for an analyst; below: not owned. */
  readonly candidate: number;
}

/** A trained model as saved. */
export interface ModelArtefact {
  readonly format: typeof MODEL_FORMAT;
  /** lr-<first 12 hex of the SHA-256 of features and weights>: same training, same version. */
  readonly version: string;
  readonly features: readonly string[];
  readonly weights: readonly number[];
  readonly bias: number;
  readonly thresholds: Thresholds;
  readonly training: {
    readonly pairs: number;
    readonly positives: number;
    readonly lambda: number;
    readonly iterations: number;
  };
}

/** Training options. */
export interface TrainOptions {
  /** L2 penalty on the weights (not the bias). */
  readonly lambda?: number;
  readonly maxIterations?: number;
  readonly thresholds?: Thresholds;
}

/** Default thresholds. */
export const DEFAULT_THRESHOLDS: Thresholds = { owned: 0.5, candidate: 0.15 };

/** Solves A x = b for a symmetric positive definite A (n x n, row-major) by Cholesky. */
function solveSpd(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * n + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) l[i * n + i] = Math.sqrt(Math.max(sum, 1e-12));
      else l[i * n + j] = sum / l[j * n + j]!;
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= l[i * n + k]! * y[k]!;
    y[i] = sum / l[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let k = i + 1; k < n; k++) sum -= l[k * n + i]! * x[k]!;
    x[i] = sum / l[i * n + i]!;
  }
  return x;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Trains on `rows` pairs of features (row-major) with 0/1 labels. Deterministic. */
export function train(
  features: Float64Array,
  labels: Uint8Array,
  options: TrainOptions = {},
): ModelArtefact {
  const lambda = options.lambda ?? 1;
  const maxIterations = options.maxIterations ?? 50;
  const rows = labels.length;
  const d = FEATURE_COUNT;
  const n = d + 1; // weights, then bias
  const w = new Float64Array(n);
  const x = (r: number, j: number): number => (j === d ? 1 : features[r * d + j]!);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const gradient = new Float64Array(n);
    const hessian = new Float64Array(n * n);
    for (let r = 0; r < rows; r++) {
      let z = w[d]!;
      for (let j = 0; j < d; j++) z += w[j]! * features[r * d + j]!;
      const p = sigmoid(z);
      const err = p - labels[r]!;
      const s = Math.max(p * (1 - p), 1e-9);
      for (let i = 0; i < n; i++) {
        const xi = x(r, i);
        if (xi === 0) continue;
        gradient[i]! += err * xi;
        for (let j = 0; j <= i; j++) hessian[i * n + j]! += s * xi * x(r, j);
      }
    }
    for (let i = 0; i < n; i++)
      for (let j = 0; j < i; j++) hessian[j * n + i] = hessian[i * n + j]!;
    for (let i = 0; i < d; i++) {
      gradient[i]! += lambda * w[i]!;
      hessian[i * n + i]! += lambda;
    }
    hessian[d * n + d]! += 1e-6;
    const step = solveSpd(hessian, gradient, n);
    let change = 0;
    for (let i = 0; i < n; i++) {
      w[i]! -= step[i]!;
      change = Math.max(change, Math.abs(step[i]!));
    }
    if (change < 1e-8) {
      iterations++;
      break;
    }
  }
  const weights = Array.from(w.subarray(0, d), (v) => Number(v.toPrecision(12)));
  const bias = Number(w[d]!.toPrecision(12));
  let positives = 0;
  for (const label of labels) positives += label;
  return {
    format: MODEL_FORMAT,
    version: modelVersion(FEATURES, weights, bias),
    features: FEATURES,
    weights,
    bias,
    thresholds: options.thresholds ?? DEFAULT_THRESHOLDS,
    training: { pairs: rows, positives, lambda, iterations },
  };
}

/** The content-derived version of a model. */
export function modelVersion(
  features: readonly string[],
  weights: readonly number[],
  bias: number,
): string {
  const digest = createHash('sha256')
    .update(JSON.stringify({ features, weights, bias }))
    .digest('hex');
  return `lr-${digest.slice(0, 12)}`;
}

/**
 * Probabilities of `rows` pairs into `out`. The hot loop of the predict service: no
 * allocation, one pass over the features.
 */
export function scoreInto(
  weights: ArrayLike<number>,
  bias: number,
  features: Float64Array,
  rows: number,
  out: Float64Array,
): Float64Array {
  const d = weights.length;
  for (let r = 0; r < rows; r++) {
    let z = bias;
    const base = r * d;
    for (let j = 0; j < d; j++) z += weights[j]! * features[base + j]!;
    out[r] = 1 / (1 + Math.exp(-z));
  }
  return out;
}

/** Checks a parsed JSON artefact; a string is the problem. */
export function checkArtefact(json: unknown): ModelArtefact | string {
  const m = json as Partial<ModelArtefact> | null;
  if (m === null || typeof m !== 'object') return 'a model artefact is a JSON object';
  if (m.format !== MODEL_FORMAT)
    return `format must be ${MODEL_FORMAT}, got ${JSON.stringify(m.format)}`;
  if (!Array.isArray(m.features) || m.features.join(',') !== FEATURES.join(','))
    return `the model's features do not match this version's (${FEATURES.join(', ')})`;
  if (
    !Array.isArray(m.weights) ||
    m.weights.length !== FEATURE_COUNT ||
    !m.weights.every((v) => typeof v === 'number' && Number.isFinite(v))
  )
    return `weights must be ${String(FEATURE_COUNT)} finite numbers`;
  if (typeof m.bias !== 'number' || !Number.isFinite(m.bias)) return 'bias must be a finite number';
  const t = m.thresholds;
  if (t === undefined || !(t.candidate >= 0 && t.candidate <= t.owned && t.owned <= 1))
    return 'thresholds must satisfy 0 <= candidate <= owned <= 1';
  if (typeof m.version !== 'string' || m.version === '') return 'version must be a string';
  return m as ModelArtefact;
}
