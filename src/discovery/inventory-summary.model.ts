/**
 * Pure folding for the inventory summary: counts grouped in SQL become the top-N lists, the
 * provider table and the per-day series the Overview charts draw.
 */

/** A label and how many open services carry it. */
export interface NamedCount {
  readonly name: string;
  readonly count: number;
}

/** The largest groups, and everything else folded into one "other" figure. */
export interface Breakdown {
  /** At most `top` groups, largest first (ties by name). */
  readonly items: NamedCount[];
  /** Services outside `items`, and how many distinct names they carry. */
  readonly other: { readonly count: number; readonly names: number };
}

/** Keeps the `top` largest groups and folds the rest; groups of 0 are dropped. */
export function foldTop(counts: ReadonlyMap<string, number>, top: number): Breakdown {
  const sorted = [...counts]
    .filter(([, count]) => count > 0)
    .map(([name, count]) => ({ name, count }))
    .sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rest = sorted.slice(top);
  return {
    items: sorted.slice(0, top),
    other: { count: rest.reduce((n, g) => n + g.count, 0), names: rest.length },
  };
}

/** Adds `count` to the entry `key` of `map`. */
export function addTo(map: Map<string, number>, key: string, count: number): void {
  map.set(key, (map.get(key) ?? 0) + count);
}

export const DAY_MS = 86_400_000;

/** The UTC day number (days since the epoch) of a time in ms. */
export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/**
 * One entry per UTC day from `days - 1` days before `today` up to `today` (oldest first), with
 * the count of that day or 0.
 */
export function daySeries(
  byDay: ReadonlyMap<number, number>,
  today: number,
  days: number,
): { day: string; count: number }[] {
  const series = [];
  for (let d = today - days + 1; d <= today; d++) {
    series.push({
      day: new Date(d * DAY_MS).toISOString().slice(0, 10),
      count: byDay.get(d) ?? 0,
    });
  }
  return series;
}
