/** One datagram as scatter-gather parts (sent with one sendmsg, no copy). */
export type Parts = readonly Uint8Array[];

/** Bulk datagrams queued together (one message's fragments), sent in order. */
interface Batch {
  readonly datagrams: readonly Parts[];
  /** Index of the next datagram to send. */
  next: number;
  readonly onSent: ((index: number) => void) | undefined;
}

/** Options of a {@link Pacer}. */
export interface PacerOptions {
  /** Sending rate, megabits per second. Default 200. */
  rateMbps?: number;
  /** Most bytes sent back to back in one tick. Default: 2 ms at the rate, at least 16 KiB. */
  burstBytes?: number;
  /** Bulk bytes queued at most; a message beyond it is refused. Default 4 MiB. */
  maxQueueBytes?: number;
}

/** Put in place of a batch whose datagrams have all left (drops the references). */
const SENT: Batch = { datagrams: [], next: 0, onSent: undefined };

const size = (p: Parts): number => {
  let n = 0;
  for (const b of p) n += b.length;
  return n;
};

/**
 * A token-bucket pacer: datagrams leave at `rateMbps` in bursts of at most
 * `burstBytes`, so a 300-fragment frame is spread over a few milliseconds
 * instead of hitting the socket buffers in one go. Urgent datagrams (control,
 * acks, NACKs, retransmissions) go before bulk fragments without waiting for
 * tokens. Bounded: bulk bytes never exceed `maxQueueBytes`, urgent datagrams
 * 4096.
 */
export class Pacer {
  private readonly urgent: Parts[] = [];
  private bulk: Batch[] = [];
  private bulkHead = 0;
  private bulkBytesQueued = 0;
  private bulkDatagrams = 0;
  private tokens: number;
  private lastUs: number;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;
  private readonly bytesPerUs: number;
  private readonly burst: number;
  readonly maxQueueBytes: number;
  /** Called after the queue shrinks (the owner emits 'drain'). */
  onDrained: (() => void) | undefined;

  constructor(
    private readonly write: (p: Parts) => void,
    private readonly clock: () => number,
    options: PacerOptions = {},
  ) {
    const rate = options.rateMbps ?? 200;
    this.bytesPerUs = (rate * 1e6) / 8 / 1e6;
    this.burst = options.burstBytes ?? Math.max(16 * 1024, this.bytesPerUs * 2000);
    this.maxQueueBytes = options.maxQueueBytes ?? 4 * 1024 * 1024;
    this.tokens = this.burst;
    this.lastUs = clock();
  }

  /** Bulk bytes waiting. */
  get queuedBytes(): number {
    return this.bulkBytesQueued;
  }

  /** Datagrams waiting (both queues). */
  get queuedDatagrams(): number {
    return this.urgent.length + this.bulkDatagrams;
  }

  /**
   * Queues bulk datagrams (`bytes` in all); false (nothing queued) if they
   * would pass `maxQueueBytes`. `onSent(i)` is called as `datagrams[i]` is
   * handed to the socket (a sender that must know when an original left).
   */
  pushBulk(datagrams: readonly Parts[], bytes: number, onSent?: (index: number) => void): boolean {
    if (this.closed || this.bulkBytesQueued + bytes > this.maxQueueBytes) return false;
    if (datagrams.length === 0) return true;
    this.bulk.push({ datagrams, next: 0, onSent });
    this.bulkDatagrams += datagrams.length;
    this.bulkBytesQueued += bytes;
    this.kick();
    return true;
  }

  /**
   * Queues urgent datagrams (acks, NACKs, retransmissions from a bounded
   * history; at most 4096 wait, the oldest dropped beyond). They jump the
   * bulk queue and do not wait for tokens: they leave on the next turn of
   * the event loop even while bulk fragments wait for the bucket to refill,
   * and the bytes they take are paid back by the bulk queue.
   */
  pushUrgent(datagrams: readonly Parts[]): void {
    if (this.closed) return;
    for (const d of datagrams) this.urgent.push(d);
    if (this.urgent.length > 4096) this.urgent.splice(0, this.urgent.length - 4096);
    if (this.timer) {
      // Waiting for tokens: urgent datagrams need none, so do not wait for the timer.
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.kick();
  }

  /** Stops and forgets everything queued. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.urgent.length = 0;
    this.bulk = [];
    this.bulkHead = 0;
    this.bulkBytesQueued = 0;
    this.bulkDatagrams = 0;
  }

  private kick(): void {
    if (this.timer || this.immediate) return;
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.run();
    });
  }

  private run(): void {
    if (this.closed) return;
    const now = this.clock();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.lastUs) * this.bytesPerUs);
    this.lastUs = now;
    const before = this.bulkBytesQueued;
    // Urgent datagrams first, tokens or not (a bounded debt, paid back by bulk).
    for (let u = this.urgent.shift(); u; u = this.urgent.shift()) {
      this.tokens = Math.max(this.tokens - size(u), -this.burst);
      this.write(u);
    }
    while (this.tokens > 0) {
      const batch = this.bulk[this.bulkHead];
      if (!batch) break;
      const i = batch.next++;
      const b = batch.datagrams[i] as Parts;
      if (batch.next === batch.datagrams.length) this.bulk[this.bulkHead++] = SENT;
      this.bulkDatagrams--;
      const n = size(b);
      this.bulkBytesQueued -= n;
      this.tokens -= n;
      this.write(b);
      batch.onSent?.(i);
    }
    if (this.bulkHead > 1024 || this.bulkHead === this.bulk.length) {
      this.bulk = this.bulk.slice(this.bulkHead);
      this.bulkHead = 0;
    }
    if (this.queuedDatagrams > 0) {
      const waitMs = Math.max(1, Math.ceil(-this.tokens / this.bytesPerUs / 1000));
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.run();
      }, waitMs);
    }
    if (this.bulkBytesQueued < before) this.onDrained?.();
  }
}
