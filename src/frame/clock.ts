/**
 * The clock every timestamp in framewire uses: wall-clock microseconds with
 * sub-millisecond resolution (`performance.timeOrigin + performance.now()`),
 * monotonic within one process. Clocks of different machines are reconciled
 * with ping/pong (see `protocol/clock-sync.ts`), never trusted as equal.
 */
export function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** A clock function, injectable in tests. */
export type Clock = () => number;
