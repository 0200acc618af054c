import type { PongBody } from './messages.js';

/** One round trip's measurement. */
export interface ClockSample {
  /** Round-trip time, µs, excluding the answerer's processing time. */
  rttUs: number;
  /** Remote clock minus local clock, µs. */
  offsetUs: number;
}

/**
 * Estimates round-trip time and clock offset from ping/pong exchanges, NTP
 * style: with t0 (ping sent, local), t1 (ping received, remote), t2 (pong
 * sent, remote), t3 (pong received, local):
 *
 *   rtt    = (t3 - t0) - (t2 - t1)
 *   offset = ((t1 - t0) + (t2 - t3)) / 2      (remote - local)
 *
 * The offset in use is the one from the sample with the smallest RTT among
 * the last `window` samples: the least queueing, the least error.
 */
export class ClockSync {
  private readonly samples: ClockSample[] = [];
  private nextId = 1;
  private readonly window: number;

  constructor(window = 8) {
    this.window = window;
  }

  /** A ping id to send; pair it with t0 = local clock now. */
  nextPingId(): number {
    return this.nextId++;
  }

  /** Records a pong received at local time `t3`. Returns the sample. */
  onPong(pong: PongBody, t3: number): ClockSample {
    const sample: ClockSample = {
      rttUs: Math.max(0, t3 - pong.t0 - (pong.t2 - pong.t1)),
      offsetUs: (pong.t1 - pong.t0 + (pong.t2 - t3)) / 2,
    };
    this.samples.push(sample);
    if (this.samples.length > this.window) this.samples.shift();
    return sample;
  }

  /** True once at least one sample exists. */
  get synced(): boolean {
    return this.samples.length > 0;
  }

  /** Remote minus local, µs (0 before the first sample). */
  get offsetUs(): number {
    return this.best()?.offsetUs ?? 0;
  }

  /** Smallest RTT among the recent samples, µs (0 before the first): the path without queueing. */
  get minRttUs(): number {
    return this.best()?.rttUs ?? 0;
  }

  /** Latest RTT, µs (0 before the first sample). */
  get rttUs(): number {
    return this.samples[this.samples.length - 1]?.rttUs ?? 0;
  }

  private best(): ClockSample | undefined {
    let best: ClockSample | undefined;
    for (const s of this.samples) if (!best || s.rttUs < best.rttUs) best = s;
    return best;
  }
}
