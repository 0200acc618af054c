/**
 * A small seeded PRNG for fuzz tests (mulberry32): the same seed gives the
 * same bytes on every machine, so a failure reproduces from its seed alone.
 */
export class Prng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)] as T;
  }

  /** `n` random bytes. */
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(0, 255);
    return b;
  }

  /** Cuts `buf` into random chunks (views) of 1..maxChunk bytes. */
  chunks(buf: Buffer, maxChunk: number): Buffer[] {
    const out: Buffer[] = [];
    let off = 0;
    while (off < buf.length) {
      const n = Math.min(buf.length - off, this.int(1, maxChunk));
      out.push(buf.subarray(off, off + n));
      off += n;
    }
    return out;
  }
}

/**
 * The seed for a fuzz run: FW_FUZZ_SEED from the environment when set (to
 * replay a failure), else the given default.
 */
export function fuzzSeed(dflt: number): number {
  const env = process.env.FW_FUZZ_SEED;
  return env !== undefined && env !== '' ? Number(env) >>> 0 : dflt;
}

/**
 * Runs `iterations` fuzz cases, each with its own PRNG derived from
 * `baseSeed`; a failure names the case's seed (replay it with
 * FW_FUZZ_SEED=<seed> and iterations 1).
 */
export function runFuzzCases(iterations: number, baseSeed: number, body: (rng: Prng) => void): void {
  for (let i = 0; i < iterations; i++) {
    const seed = (baseSeed + Math.imul(i, 0x9e37_79b9)) >>> 0;
    try {
      body(new Prng(seed));
    } catch (err) {
      throw new Error(`fuzz case ${i} failed; replay with FW_FUZZ_SEED=${seed}: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
  }
}
