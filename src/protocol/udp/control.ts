import { concatBytes, viewOf } from '../bytes.js';
import { COMMON_HEADER_BYTES, CONTROL_PREFIX_BYTES, Kind, makeDatagram, writeCommonHeader } from './datagram.js';

/** Options of {@link ReliableControl}. */
export interface ReliableControlOptions {
  /** First retransmission after this long, ms; doubles each time up to 1 s. Default 200 (or 2 × RTT once known, at least 20). */
  initialRtoMs?: number;
  /** Give up on one message after this many sends. Default 10. */
  maxSends?: number;
  /** Most unacknowledged messages held; the oldest is dropped beyond it. Default 64. */
  maxUnacked?: number;
  /** Received control seqs remembered to drop duplicates. Default 256. */
  dedupWindow?: number;
}

interface Unacked {
  datagram: Uint8Array;
  firstUs: number;
  dueUs: number;
  sends: number;
}

/**
 * Control messages over datagrams: each gets a control seq; reliable ones
 * are retransmitted with backoff until acknowledged; the receiver acks every
 * reliable one and drops duplicates. Delivery order is arrival order
 * (control messages do not depend on each other's order). Pure: the caller
 * passes the clock in and sends what it is handed.
 */
export class ReliableControl {
  private nextSeq = 0;
  private readonly unacked = new Map<number, Unacked>();
  private readonly seen = new Set<number>();
  private readonly seenOrder: number[] = [];
  private readonly o: Required<ReliableControlOptions>;
  /** Smoothed RTT from acks of messages sent once (Karn), µs; undefined until the first sample. */
  srttUs: number | undefined;
  /** Messages given up after maxSends, or dropped beyond maxUnacked. */
  gaveUp = 0;
  /** Retransmissions made. */
  retransmitted = 0;

  constructor(
    private readonly session: () => number,
    options: ReliableControlOptions = {},
  ) {
    this.o = {
      initialRtoMs: options.initialRtoMs ?? 200,
      maxSends: options.maxSends ?? 10,
      maxUnacked: options.maxUnacked ?? 64,
      dedupWindow: options.dedupWindow ?? 256,
    };
  }

  /** Messages waiting for an ack. */
  get pending(): number {
    return this.unacked.size;
  }

  private rtoUs(): number {
    if (this.srttUs === undefined) return this.o.initialRtoMs * 1000;
    return Math.max(20_000, 2 * this.srttUs);
  }

  /** Wraps an encoded control message in a datagram; a reliable one is remembered for retransmission. */
  wrap(message: Uint8Array, reliable: boolean, nowUs: number): Uint8Array {
    const seq = this.nextSeq;
    this.nextSeq = (seq + 1) >>> 0;
    const head = makeDatagram(Kind.control, this.session(), CONTROL_PREFIX_BYTES);
    const v = viewOf(head);
    v.setUint32(COMMON_HEADER_BYTES, seq);
    v.setUint8(COMMON_HEADER_BYTES + 4, reliable ? 1 : 0);
    const datagram = concatBytes([head, message]);
    if (reliable) {
      this.unacked.set(seq, { datagram, firstUs: nowUs, dueUs: nowUs + this.rtoUs(), sends: 1 });
      for (const k of this.unacked.keys()) {
        if (this.unacked.size <= this.o.maxUnacked) break;
        this.unacked.delete(k);
        this.gaveUp++;
      }
    }
    return datagram;
  }

  /** Datagrams due for retransmission now (each re-stamped with the current session id). */
  due(nowUs: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const [seq, u] of this.unacked) {
      if (u.dueUs > nowUs) continue;
      if (u.sends >= this.o.maxSends) {
        this.unacked.delete(seq);
        this.gaveUp++;
        continue;
      }
      u.sends++;
      u.dueUs = nowUs + Math.min(1_000_000, this.rtoUs() * 2 ** (u.sends - 1));
      writeCommonHeader(u.datagram, Kind.control, this.session());
      this.retransmitted++;
      out.push(u.datagram);
    }
    return out;
  }

  /** When {@link due} has something next (µs), or undefined. */
  nextDueUs(): number | undefined {
    let t: number | undefined;
    for (const u of this.unacked.values()) t = t === undefined ? u.dueUs : Math.min(t, u.dueUs);
    return t;
  }

  /** Handles an ack body. */
  onAck(body: Uint8Array, nowUs: number): void {
    if (body.length < 4) return;
    const seq = viewOf(body).getUint32(0);
    const u = this.unacked.get(seq);
    if (!u) return;
    this.unacked.delete(seq);
    if (u.sends === 1) {
      const sample = nowUs - u.firstUs;
      this.srttUs = this.srttUs === undefined ? sample : 0.875 * this.srttUs + 0.125 * sample;
    }
  }

  /**
   * Handles a control datagram body. Returns the message bytes to deliver
   * (undefined for a duplicate or a malformed body) and the ack to send, if any.
   */
  onControl(body: Uint8Array): { message: Uint8Array | undefined; ack: Uint8Array | undefined } {
    if (body.length < CONTROL_PREFIX_BYTES) return { message: undefined, ack: undefined };
    const v = viewOf(body);
    const seq = v.getUint32(0);
    const reliable = (v.getUint8(4) & 1) === 1;
    let ack: Uint8Array | undefined;
    if (reliable) {
      ack = makeDatagram(Kind.ack, this.session(), 4);
      viewOf(ack).setUint32(COMMON_HEADER_BYTES, seq);
    }
    if (this.seen.has(seq)) return { message: undefined, ack };
    this.seen.add(seq);
    this.seenOrder.push(seq);
    if (this.seenOrder.length > this.o.dedupWindow) this.seen.delete(this.seenOrder.shift() as number);
    return { message: body.subarray(CONTROL_PREFIX_BYTES), ack };
  }

  /** True when every reliable message has been acked (or given up). */
  get drained(): boolean {
    return this.unacked.size === 0;
  }

  /** Forgets pending messages. */
  clear(): void {
    this.unacked.clear();
  }
}
