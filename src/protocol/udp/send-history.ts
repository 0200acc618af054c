import { FLAG_RETRANSMIT, type NackEntry } from './datagram.js';
import type { DatagramParts, Fragments } from './fragmenter.js';

/** Limits of a {@link SendHistory}. Every one has a safe default. */
export interface SendHistoryOptions {
  /** Most messages kept. Default 64. */
  maxMessages?: number;
  /** Most bytes kept (the datagrams reference the frame's own Uint8Array, so this is memory held alive). Default 8 MiB. */
  maxBytes?: number;
  /** Messages older than this are forgotten: a retransmission would arrive too late to help. Default 500 ms. */
  maxAgeMs?: number;
  /** Times one fragment may be retransmitted. Default 8 (as many as a receiver NACKs by default). */
  maxRetransmits?: number;
}

interface Sent {
  fragments: Fragments;
  atUs: number;
  resent: Uint8Array;
  /** 1 once the original of data fragment i has left the pacer. */
  sent: Uint8Array;
}

/**
 * What a sender remembers for NACK repair: the datagrams of recent
 * messages, bounded by count, bytes and age. It also knows which originals
 * have actually left the pacer ({@link markSent}): a NACK for a fragment
 * still queued is ignored (counted in {@link notYetSent}), since the
 * original is about to go anyway. Pure: clock values are passed in.
 */
export class SendHistory {
  private readonly maxMessages: number;
  private readonly maxBytes: number;
  private readonly maxAgeUs: number;
  private readonly maxRetransmits: number;
  private readonly sent = new Map<number, Sent>();
  private bytes = 0;
  /** Fragments asked for that were no longer (or never) in the history. */
  missed = 0;
  /** Fragments retransmitted. */
  retransmitted = 0;
  /** Fragments asked for whose original had not been sent yet (still queued): ignored. */
  notYetSent = 0;

  constructor(options: SendHistoryOptions = {}) {
    this.maxMessages = options.maxMessages ?? 64;
    this.maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    this.maxAgeUs = (options.maxAgeMs ?? 500) * 1000;
    this.maxRetransmits = options.maxRetransmits ?? 8;
  }

  /** Bytes held. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Messages held. */
  get size(): number {
    return this.sent.size;
  }

  /**
   * Remembers a message queued for sending at `nowUs`, evicting the oldest
   * beyond the limits. Its fragments count as not yet sent until
   * {@link markSent} (or {@link markAllSent}) says otherwise.
   */
  add(fragments: Fragments, nowUs: number): void {
    this.sent.set(fragments.seq, {
      fragments,
      atUs: nowUs,
      resent: new Uint8Array(fragments.count),
      sent: new Uint8Array(fragments.count),
    });
    this.bytes += fragments.bytes;
    this.trim(nowUs);
  }

  /** The original of data fragment `index` of message `seq` has been handed to the socket. */
  markSent(seq: number, index: number): void {
    const s = this.sent.get(seq);
    if (s && index < s.sent.length) s.sent[index] = 1;
  }

  /** Every original of message `seq` has been handed to the socket (senders without a pacer, tests). */
  markAllSent(seq: number): void {
    this.sent.get(seq)?.sent.fill(1);
  }

  /** The datagrams to resend for some NACK entries (unknown or exhausted fragments are skipped and counted). */
  lookup(entries: readonly NackEntry[], nowUs: number): DatagramParts[] {
    this.trim(nowUs);
    const out: DatagramParts[] = [];
    for (const e of entries) {
      const s = this.sent.get(e.seq);
      if (!s) {
        this.missed += Math.max(1, e.indexes.length);
        continue;
      }
      const whole = e.indexes.length === 0;
      const indexes = whole ? s.fragments.data.map((_, i) => i) : e.indexes;
      for (const i of indexes) {
        const dg = s.fragments.data[i];
        const n = s.resent[i];
        if (dg === undefined || n === undefined || n >= this.maxRetransmits) {
          this.missed++;
          continue;
        }
        if (s.sent[i] !== 1) {
          // Still in the pacer queue: the original is on its way; a copy would only be a duplicate.
          if (!whole) this.notYetSent++;
          continue;
        }
        s.resent[i] = n + 1;
        // Same datagram with the retransmission flag: a copy of the 24-byte header, the payload views shared.
        const head = new Uint8Array(dg[0] as Uint8Array);
        head[23] = (head[23] as number) | FLAG_RETRANSMIT;
        out.push([head, ...dg.slice(1)]);
      }
    }
    this.retransmitted += out.length;
    return out;
  }

  /** Forgets everything. */
  clear(): void {
    this.sent.clear();
    this.bytes = 0;
  }

  private trim(nowUs: number): void {
    for (const [seq, s] of this.sent) {
      if (this.sent.size <= this.maxMessages && this.bytes <= this.maxBytes && nowUs - s.atUs <= this.maxAgeUs) break;
      this.sent.delete(seq);
      this.bytes -= s.fragments.bytes;
    }
  }
}
