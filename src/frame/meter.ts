import type { EncodedFrame } from './frame.js';

/** What a meter reports: one snapshot over the last window (default 1 s). */
export interface StatsSnapshot {
  /** Frames per second arriving in the window. */
  fps: number;
  /** Kilobits per second of frame payload in the window. */
  kbps: number;
  /** End-to-end latency (capture to arrival, clock-offset corrected), median over the window, ms. */
  latencyP50Ms: number | null;
  /** 95th percentile of the same, ms. */
  latencyP95Ms: number | null;
  /** Frames received since the start. */
  framesReceived: number;
  /** Frames that never arrived and nobody chose to skip (sequence gaps less relay skips). */
  framesLost: number;
  /** Frames the relay skipped for this receiver (latest-frame-wins) or for its fps cap. */
  framesSkipped: number;
  /** Frames dropped locally because the consumer was slower than the stream. */
  framesDropped: number;
  /** Size of the newest frame. */
  width: number;
  height: number;
  /** Round-trip time to the peer, ms, when known. */
  rttMs: number | null;
}

/** Arrivals kept: enough for a 1 s window up to 2048 fps, 48 KiB a meter. */
const CAPACITY = 2048;

/**
 * One meter used everywhere (viewer, publisher, relay): counts frames, bytes
 * and sequence gaps, and keeps the last CAPACITY arrivals in fixed ring
 * arrays for windowed fps, bitrate and latency percentiles. Memory is fixed.
 */
export class StatsMeter {
  private readonly at = new Float64Array(CAPACITY);
  private readonly bytes = new Float64Array(CAPACITY);
  private readonly latency = new Float64Array(CAPACITY);
  private head = 0;
  private count = 0;
  private expectedSeq: number | undefined;
  private gaps = 0;
  private skipped = 0;
  private dropped = 0;
  private received = 0;
  private width = 0;
  private height = 0;
  /** Latest round-trip time in ms, set by the owner. */
  rttMs: number | null = null;

  /**
   * Records a frame arriving at `arrivalUs`, with its end-to-end latency in
   * µs (NaN if unknown).
   */
  record(frame: EncodedFrame, arrivalUs: number, latencyUs: number): void {
    this.received++;
    this.width = frame.width;
    this.height = frame.height;
    if (this.expectedSeq !== undefined) {
      const gap = (frame.seq - this.expectedSeq) >>> 0;
      // A jump backwards (or a huge one) is a restart of the sequence, not loss.
      if (gap > 0 && gap < 0x8000_0000) this.gaps += gap;
    }
    this.expectedSeq = (frame.seq + 1) >>> 0;
    const i = this.head;
    this.at[i] = arrivalUs;
    this.bytes[i] = frame.data.length;
    this.latency[i] = latencyUs;
    this.head = (i + 1) % CAPACITY;
    if (this.count < CAPACITY) this.count++;
  }

  /** Tells the meter the sender restarted its sequence (publisher gone or back). */
  resetSequence(): void {
    this.expectedSeq = undefined;
  }

  /** Sets the cumulative number of frames skipped on purpose upstream for this receiver. */
  setSkipped(total: number): void {
    this.skipped = total;
  }

  /** Adds frames dropped locally. */
  addDropped(n = 1): void {
    this.dropped += n;
  }

  /** Snapshot over the window ending at `nowUs`. */
  snapshot(nowUs: number, windowUs = 1_000_000): StatsSnapshot {
    const since = nowUs - windowUs;
    let frames = 0;
    let bytes = 0;
    const lat: number[] = [];
    for (let k = 0; k < this.count; k++) {
      const i = (this.head - 1 - k + CAPACITY) % CAPACITY;
      const t = this.at[i] as number;
      if (t <= since) break;
      frames++;
      bytes += this.bytes[i] as number;
      const l = this.latency[i] as number;
      if (!Number.isNaN(l)) lat.push(l);
    }
    lat.sort((a, b) => a - b);
    const seconds = windowUs / 1e6;
    return {
      fps: round(frames / seconds, 1),
      kbps: round((bytes * 8) / 1000 / seconds, 0),
      latencyP50Ms: lat.length ? round(percentile(lat, 0.5) / 1000, 2) : null,
      latencyP95Ms: lat.length ? round(percentile(lat, 0.95) / 1000, 2) : null,
      framesReceived: this.received,
      framesLost: Math.max(0, this.gaps - this.skipped),
      framesSkipped: this.skipped,
      framesDropped: this.dropped,
      width: this.width,
      height: this.height,
      rttMs: this.rttMs,
    };
  }
}

/** Nearest-rank percentile of a sorted array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[idx] as number;
}

function round(v: number, digits: number): number {
  const m = 10 ** digits;
  return Math.round(v * m) / m;
}
