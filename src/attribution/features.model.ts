/**
 * Features of a pair, computed for a whole batch into one Float64Array (row-major, FEATURES.length
 * columns), so scoring is a tight loop over typed memory and the array moves to a worker thread
 * without copying.
 */
import {
  CATEGORY_OF,
  EVIDENCE_TYPES,
  type Evidence,
  type EvidenceType,
} from '#src/attribution/filter.model.js';

/**
 * Evidence as a pair carries it (the filter's Evidence, or the API's, where similarity defaults
 * to 1, shared to 1 and seen_at to unknown). Read in place: no per-pair copies.
 */
export interface PairEvidence {
  readonly type: Evidence['type'];
  readonly similarity?: number | undefined;
  readonly shared?: number | undefined;
  readonly seen_at?: number | undefined;
  readonly source?: string | undefined;
}

/** Feature names, in column order. */
export const FEATURES: readonly string[] = [
  ...EVIDENCE_TYPES.map((t) => `ev_${t}`),
  'categories',
  'sources',
  'name_similarity',
  'fuzzy_only',
  'recency',
  'rarest_shared',
  'evidence_count',
];

/** Columns per pair. */
export const FEATURE_COUNT = FEATURES.length;

const TYPE_INDEX = new Map<EvidenceType, number>(EVIDENCE_TYPES.map((t, i) => [t, i]));
const CATEGORY_BIT = new Map<string, number>(
  [...new Set(Object.values(CATEGORY_OF))].map((c, i) => [c, 1 << i]),
);
const DAY_MS = 86_400_000;
const E = EVIDENCE_TYPES.length;

/**
 * Fills `out` (length >= pairs * FEATURE_COUNT) with the features of each pair. `asOf` is the
 * time recency is measured from.
 */
export function featurize(
  pairs: readonly { readonly evidence: readonly PairEvidence[] }[],
  asOf: number,
  out: Float64Array = new Float64Array(pairs.length * FEATURE_COUNT),
): Float64Array {
  out.fill(0, 0, pairs.length * FEATURE_COUNT);
  for (let p = 0; p < pairs.length; p++) {
    const row = p * FEATURE_COUNT;
    const evidence = pairs[p]!.evidence;
    let categories = 0;
    let exact = false;
    let nameSimilarity = 0;
    let latest = 0;
    let rarest = Infinity;
    let sources = 0;
    let firstSource: string | undefined;
    let secondSource: string | undefined;
    for (let i = 0; i < evidence.length; i++) {
      const e = evidence[i]!;
      const t = TYPE_INDEX.get(e.type)!;
      const shared = e.shared === undefined || e.shared < 1 ? 1 : e.shared;
      const similarity = e.similarity ?? 1;
      const strength = similarity / shared;
      if (strength > out[row + t]!) out[row + t] = strength;
      if (similarity >= 1) {
        exact = true;
        categories |= CATEGORY_BIT.get(CATEGORY_OF[e.type])!;
      }
      if ((e.type === 'registrant_org' || e.type === 'cert_org') && similarity > nameSimilarity)
        nameSimilarity = similarity;
      if (e.seen_at !== undefined && e.seen_at > latest) latest = e.seen_at;
      if (shared < rarest) rarest = shared;
      const source = e.source ?? '';
      if (source !== 'seed' && source !== firstSource && source !== secondSource) {
        sources++;
        if (firstSource === undefined) firstSource = source;
        else secondSource ??= source;
      }
    }
    let bits = 0;
    for (let c = categories; c !== 0; c &= c - 1) bits++;
    out[row + E] = bits / 6;
    out[row + E + 1] = Math.min(sources, 4) / 4;
    out[row + E + 2] = nameSimilarity;
    out[row + E + 3] = exact ? 0 : 1;
    out[row + E + 4] = latest <= 0 ? 0 : Math.exp(-Math.max(0, asOf - latest) / (365 * DAY_MS));
    out[row + E + 5] = rarest === Infinity ? 0 : 1 / Math.log2(1 + rarest);
    out[row + E + 6] = Math.log1p(evidence.length) / Math.log(32);
  }
  return out;
}
