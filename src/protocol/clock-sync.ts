import type { PongBody } from './messages.js';

/** Samples a {@link ClockSync} keeps by default: about a minute of one ping a second. */
export const DEFAULT_CLOCK_WINDOW = 64;

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
 * A sample's offset is off by half the difference of the two directions'
 * queueing delays, and on a link a video stream fills, the direction the
 * video takes queues far more than the other (a viewer's pongs wait behind
 * its frames). So, as NTP's clock filter does, the offset in use is the one
 * from the sample with the smallest RTT over a long window — `window`
 * samples, 64 by default: about a minute at one ping a second — which
 * reaches back to before the queue built up. Over that minute the two
 * clocks drift apart by well under a millisecond (tens of ppm); the
 * queueing error it avoids is half the queue, tens to hundreds of ms.
 */
export class ClockSync {
  private readonly samples: ClockSample[] = [];
  private next = 0;
  private latest: ClockSample | undefined;
  private bestCache: ClockSample | undefined;
  private nextId = 1;
  private readonly window: number;

  constructor(window = DEFAULT_CLOCK_WINDOW) {
    this.window = Math.max(1, Math.floor(window));
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
    // A ring of the last `window` samples (fixed memory, no shifting).
    const evicted = this.samples.length < this.window ? undefined : this.samples[this.next];
    this.samples[this.next] = sample;
    this.next = (this.next + 1) % this.window;
    this.latest = sample;
    if (this.bestCache === undefined || sample.rttUs < this.bestCache.rttUs) this.bestCache = sample;
    else if (evicted === this.bestCache) this.bestCache = this.scan();
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
    return this.latest?.rttUs ?? 0;
  }

  private best(): ClockSample | undefined {
    return this.bestCache;
  }

  private scan(): ClockSample | undefined {
    let best: ClockSample | undefined;
    for (const s of this.samples) if (!best || s.rttUs < best.rttUs) best = s;
    return best;
  }
}
