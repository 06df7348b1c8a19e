/** What the benchmark scripts share: settings from the environment, statistics, formatting. */
import { cpus, release, totalmem } from 'node:os';

/** A whole-number setting from the environment; a bad value stops the run with exit 2. */
export function wholeNumber(name: string, fallback: number, min: number): number {
  const raw = (process.env[name] ?? String(fallback)).trim();
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min) {
    console.error(`${name} must be a whole number >= ${String(min)}, got "${raw}"`);
    process.exit(2);
  }
  return value;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/** The q-quantile (0..1) of ascending values; NaN when there are none. */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** The median of the values that are numbers; NaN when there are none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** An integer with thousands separators, or "-". */
export const int = (n: number): string =>
  Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-';
/** Milliseconds with two significant decimals below 10, or "-". */
export const ms = (n: number): string =>
  !Number.isFinite(n) ? '-' : n >= 100 ? int(n) : n.toFixed(n >= 10 ? 1 : 2);
/** A ratio as a whole percentage, or "-". */
export const pct = (n: number): string => (Number.isFinite(n) ? `${(100 * n).toFixed(0)}%` : '-');

/** A Markdown table: the first `labels` columns are labels, the others right-aligned figures. */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  labels = 1,
): string {
  const rule = header.map((_, i) => (i < labels ? '---' : '---:'));
  return [header, rule, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** CPU, cores, memory, kernel and Node version of this machine, for the report. */
export function machine(): string {
  const cpu = cpus();
  return (
    `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${String(cpu.length)} cores, ` +
    `${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, Linux ${release()}, Node ${process.version}`
  );
}
