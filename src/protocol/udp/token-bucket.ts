/**
 * A token bucket: at most `ratePerS` events per second on average, `burst`
 * at once. Pure: the caller passes the clock (µs) in.
 */
export class TokenBucket {
  private tokens: number;
  private lastUs: number | undefined;
  /** Events refused since the start. */
  refused = 0;

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Takes one token if there is one. */
  take(nowUs: number): boolean {
    if (this.lastUs !== undefined)
      this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, nowUs - this.lastUs) * this.ratePerS) / 1e6);
    this.lastUs = nowUs;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.refused++;
    return false;
  }
}
