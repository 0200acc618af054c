import { FRAGMENT_HEADER_BYTES, type FragmentHeader } from './datagram.js';

/** Outcome of adding one datagram to a {@link FrameState}. */
export type AddResult = 'new' | 'duplicate' | 'mismatch';

/**
 * One message being reassembled: its buffer (allocated once, at its exact
 * size), which fragments arrived, parity payloads, and NACK bookkeeping.
 * A placeholder (`known` false) stands for a message of which nothing has
 * arrived yet although later ones have.
 */
export class FrameState {
  known = false;
  length = 0;
  count = 0;
  size = 0;
  fecGroup = 0;
  buf: Uint8Array | undefined;
  have: Uint8Array = new Uint8Array(0);
  received = 0;
  /** Highest send position seen (data and parity interleaved in send order). */
  highestPos = -1;
  /** Lowest index that may still be missing. */
  scanFrom = 0;
  parity: (Uint8Array | undefined)[] = [];
  nackCount: Uint8Array = new Uint8Array(0);
  nackAtUs: Float64Array = new Float64Array(0);
  /** Whole-message NACKs sent for a placeholder. */
  wholeNacks = 0;
  wholeNackAtUs = -Infinity;
  repairedFragments = 0;
  /** Arrival of the newest datagram (any, duplicates included). */
  lastUs: number;
  deadlineUs: number;
  /** Originals (data or parity, not retransmissions) that arrived, for the pacing gap below. */
  originals = 0;
  /** Arrival of the newest original. */
  lastOriginalUs = 0;
  /** Largest gap between two originals' arrivals: how bursty the sender's pacing looks. */
  maxGapUs = 0;
  /** When a NACK of this message is next due (set by the reassembler's scan). */
  nextNackUs = -Infinity;
  /** Something arrived since the last NACK scan. */
  dirty = true;

  constructor(
    readonly seq: number,
    readonly firstUs: number,
    budgetUs: number,
  ) {
    this.lastUs = firstUs;
    this.deadlineUs = firstUs + budgetUs;
  }

  get complete(): boolean {
    return this.known && this.received === this.count;
  }

  /** Takes the message's shape from its first datagram; allocates the buffer. */
  init(h: FragmentHeader): void {
    this.known = true;
    this.length = h.length;
    this.count = h.count;
    this.size = h.size;
    this.fecGroup = h.fecGroup;
    this.buf = new Uint8Array(h.length);
    this.have = new Uint8Array(h.count);
    this.nackCount = new Uint8Array(h.count);
    this.nackAtUs = new Float64Array(h.count).fill(-Infinity);
    this.parity = h.fecGroup > 0 ? new Array<Uint8Array | undefined>(Math.ceil(h.count / h.fecGroup)).fill(undefined) : [];
  }

  /** True if `h` describes the same message shape. */
  matches(h: FragmentHeader): boolean {
    return h.length === this.length && h.count === this.count && h.size === this.size && h.fecGroup === this.fecGroup;
  }

  /** Send position of data fragment `i`. */
  dataPos(i: number): number {
    return this.fecGroup > 0 ? i + Math.floor(i / this.fecGroup) : i;
  }

  /** Send position of parity group `g`. */
  parityPos(g: number): number {
    return Math.min((g + 1) * this.fecGroup, this.count) + g;
  }

  /** Payload length of data fragment `i`. */
  fragmentLength(i: number): number {
    return i === this.count - 1 ? this.length - i * this.size : this.size;
  }

  /** Adds a data or parity datagram (whole datagram, header included). */
  add(h: FragmentHeader, datagram: Uint8Array): AddResult {
    if (!this.matches(h)) return 'mismatch';
    const payload = datagram.subarray(FRAGMENT_HEADER_BYTES);
    if (h.parity) {
      if (this.parity[h.index] !== undefined) return 'duplicate';
      this.parity[h.index] = payload;
      this.highestPos = Math.max(this.highestPos, this.parityPos(h.index));
      return 'new';
    }
    if (this.have[h.index] === 1) return 'duplicate';
    (this.buf as Uint8Array).set(payload, h.index * this.size);
    this.have[h.index] = 1;
    this.received++;
    this.highestPos = Math.max(this.highestPos, this.dataPos(h.index));
    return 'new';
  }

  /** Recovers the one missing data fragment of `group` from its parity, if possible. Returns the index recovered or -1. */
  tryFec(group: number): number {
    const p = this.parity[group];
    if (p === undefined || this.buf === undefined) return -1;
    const start = group * this.fecGroup;
    const end = Math.min(start + this.fecGroup, this.count);
    let missing = -1;
    for (let i = start; i < end; i++) {
      if (this.have[i] === 1) continue;
      if (missing !== -1) return -1;
      missing = i;
    }
    if (missing === -1) return -1;
    const acc = new Uint8Array(p);
    for (let i = start; i < end; i++) {
      if (i === missing) continue;
      const off = i * this.size;
      const len = this.fragmentLength(i);
      const src = this.buf;
      for (let j = 0; j < len; j++) acc[j] = (acc[j] as number) ^ (src[off + j] as number);
    }
    this.buf.set(acc.subarray(0, this.fragmentLength(missing)), missing * this.size);
    this.have[missing] = 1;
    this.received++;
    this.parity[group] = undefined;
    return missing;
  }

  /** Data fragments still missing. */
  missingCount(): number {
    return this.known ? this.count - this.received : 0;
  }
}
