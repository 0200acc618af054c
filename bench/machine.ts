/**
 * Machine-wide CPU use from /proc/stat (Linux), so each window can say how
 * busy the 2 cores were and how much of that was not the bench's own
 * processes (other work on this shared machine, kernel softirq).
 */
import { readFileSync } from 'node:fs';

export interface CpuTimes {
  busy: number;
  total: number;
  wallMs: number;
}

/** Aggregate CPU jiffies now, or undefined where /proc/stat is missing. */
export function cpuTimes(): CpuTimes | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: total - idle, total, wallMs: performance.now() };
  } catch {
    return undefined;
  }
}

/** Busy cores (0..ncpu) between two samples. */
export function busyCores(a: CpuTimes | undefined, b: CpuTimes | undefined, ncpu: number): number {
  if (!a || !b || b.total <= a.total) return NaN;
  return ((b.busy - a.busy) / (b.total - a.total)) * ncpu;
}
