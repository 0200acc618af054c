import { FLAG_RETRANSMIT, type NackEntry } from './datagram.js';
import type { DatagramParts, Fragments } from './fragmenter.js';

/** Limits of a {@link SendHistory}. Every one has a safe default. */
export interface SendHistoryOptions {
  /** Most messages kept. Default 64. */
  maxMessages?: number;
  /** Most bytes kept (the datagrams reference the frame's own Buffer, so this is memory held alive). Default 8 MiB. */
  maxBytes?: number;
  /** Messages older than this are forgotten: a retransmission would arrive too late to help. Default 500 ms. */
  maxAgeMs?: number;
  /** Times one fragment may be retransmitted. Default 4. */
  maxRetransmits?: number;
}

interface Sent {
  fragments: Fragments;
  atUs: number;
  resent: Uint8Array;
}

/**
 * What a sender remembers for NACK repair: the datagrams of recent
 * messages, bounded by count, bytes and age. Pure: clock values are passed in.
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

  constructor(options: SendHistoryOptions = {}) {
    this.maxMessages = options.maxMessages ?? 64;
    this.maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    this.maxAgeUs = (options.maxAgeMs ?? 500) * 1000;
    this.maxRetransmits = options.maxRetransmits ?? 4;
  }

  /** Bytes held. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Messages held. */
  get size(): number {
    return this.sent.size;
  }

  /** Remembers a message sent at `nowUs`, evicting the oldest beyond the limits. */
  add(fragments: Fragments, nowUs: number): void {
    this.sent.set(fragments.seq, { fragments, atUs: nowUs, resent: new Uint8Array(fragments.count) });
    this.bytes += fragments.bytes;
    this.trim(nowUs);
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
      const indexes = e.indexes.length === 0 ? s.fragments.data.map((_, i) => i) : e.indexes;
      for (const i of indexes) {
        const dg = s.fragments.data[i];
        const n = s.resent[i];
        if (dg === undefined || n === undefined || n >= this.maxRetransmits) {
          this.missed++;
          continue;
        }
        s.resent[i] = n + 1;
        // Same datagram with the retransmission flag: a copy of the 24-byte header, the payload views shared.
        const head = Buffer.from(dg[0] as Buffer);
        head.writeUInt8(head.readUInt8(23) | FLAG_RETRANSMIT, 23);
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
