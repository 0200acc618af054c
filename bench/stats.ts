/** Small number helpers for the bench: percentiles (the library's nearest-rank), medians, formatting, tables. */
import { percentile } from '../src/frame/meter.js';

/** Nearest-rank percentile of an unsorted list (copies and sorts); NaN if empty. */
export function pct(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values).sort();
  return percentile(s as unknown as number[], p);
}

export function median(values: readonly number[]): number {
  return pct(values, 0.5);
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

export function min(values: readonly number[]): number {
  return values.length ? Math.min(...values) : NaN;
}

export function max(values: readonly number[]): number {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  return values.length ? m : NaN;
}

/** µs → ms with 2 decimals (a number, for JSON). */
export function ms(us: number): number {
  return Number.isFinite(us) ? Math.round(us / 10) / 100 : NaN;
}

/** A number for a table cell. */
export function f(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  return v.toFixed(digits);
}

export function mb(bytes: number): string {
  return f(bytes / 1024 / 1024, 1);
}

/** A markdown table. */
export function table(head: string[], rows: (string | number)[][], align?: ('l' | 'r')[]): string {
  const a = align ?? head.map((_, i) => (i === 0 ? 'l' : 'r'));
  const line = (cells: (string | number)[]): string => `| ${cells.map(String).join(' | ')} |`;
  return [line(head), `|${a.map((x) => (x === 'l' ? '---' : '---:')).join('|')}|`, ...rows.map(line)].join('\n');
}

export function sleep(msDelay: number): Promise<void> {
  return new Promise((r) => setTimeout(r, msDelay));
}
