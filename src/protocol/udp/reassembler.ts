import { readFragmentHeader, seqDiff, type NackEntry } from './datagram.js';
import { MIN_FRAGMENT_SIZE } from './fragmenter.js';
import { FrameState } from './frame-state.js';

/** Limits and timing of a {@link Reassembler}. Every one has a safe default. */
export interface ReassemblerOptions {
  /** Most messages held at once (incomplete, placeholders, or complete and waiting for an older one). Default 16. */
  maxFramesInFlight?: number;
  /** Most bytes held in reassembly buffers at once. Default 32 MiB. */
  maxBytes?: number;
  /** Largest message accepted (frame header + payload). Default 16 MiB + 256. */
  maxMessageBytes?: number;
  /**
   * Smallest fragment size (the header's P) accepted; datagrams of smaller
   * fragments are dropped and counted `invalid`, so a sender cannot make the
   * receiver handle a datagram per few bytes. Default {@link MIN_FRAGMENT_SIZE} (512).
   */
  minFragmentSize?: number;
  /**
   * Latency budget, ms: how long a message may wait for repair, from its
   * first datagram, before it is given up. Default: two frame intervals as
   * measured from arrivals (33 ms until measured), clamped to [minBudgetMs, maxBudgetMs].
   */
  latencyBudgetMs?: number;
  /** Lower clamp of the automatic budget. Default 10 ms. */
  minBudgetMs?: number;
  /** Upper clamp of the automatic budget. Default 1000 ms. */
  maxBudgetMs?: number;
  /** Ask the sender for missing fragments. Default true. */
  nack?: boolean;
  /** Most NACKs per fragment (the first one and repeats after a lost NACK or a lost retransmission). Default 8 (with a retry interval of a few ms, several fit in the budget; at 10 % loss each way a NACK and its retransmission both get through only 81 % of the time). */
  maxNacksPerFragment?: number;
  /**
   * Fixed interval between NACKs of one fragment, ms. Default: measured
   * repair round trip (NACK to retransmission, Karn's rule) + max(2 × its
   * variation, 1 ms), at most a quarter of the budget; before the first sample,
   * 1.5 × {@link Reassembler.rttUs} + 1 ms, at least 2 ms.
   */
  nackRetryMs?: number;
  /**
   * The fragments after the last one that arrived count as missing (tail
   * loss) after this much silence, ms, or twice the largest gap seen
   * between the message's arrivals if that is longer (a sender whose pacing
   * is bursty is not NACKed for fragments it has not sent yet), at most
   * half the budget. Default 3.
   */
  tailTimeoutMs?: number;
}

/** Counters a reassembler keeps (cumulative). */
export interface ReassemblerStats {
  /** Messages delivered whole. */
  framesComplete: number;
  /** Messages given up (budget passed, or evicted by the limits). */
  framesLost: number;
  /** Messages delivered that needed at least one repaired fragment. */
  framesRepaired: number;
  /** Datagrams of messages already delivered or given up (late repairs, stragglers): dropped, never delivered. */
  fragmentsLate: number;
  /** Data fragments received (first copies, repairs included). */
  fragmentsReceived: number;
  /** Data fragments the network lost: repaired ones plus those still missing when their message was given up. */
  fragmentsLost: number;
  /** Fragments recovered by a retransmission after a NACK. */
  repairedByNack: number;
  /** Fragments recovered from XOR parity. */
  repairedByFec: number;
  /** Fragments that arrived after a later one of the same message (originals only; a delayed original that was NACKed counts here, not as lost). */
  reordered: number;
  /** Fragments received twice. */
  duplicates: number;
  /** Datagrams whose header was inconsistent or over a limit. */
  invalid: number;
  /** Fragment indexes asked for in NACKs (whole-message requests count 1). */
  nacked: number;
}

/** What {@link Reassembler.poll} hands back. */
export interface PollResult {
  /** Whole messages, oldest first, never older than one delivered before. */
  messages: Uint8Array[];
  /** NACK entries to send now. */
  nacks: NackEntry[];
}

/**
 * Rebuilds messages from fragment and parity datagrams. Pure: no sockets, no
 * timers; the caller passes the clock (µs) in and calls {@link poll} after a
 * batch of datagrams and again at {@link nextWakeUs}. Memory is bounded by
 * `maxFramesInFlight` and `maxBytes`; messages are released strictly in
 * sequence order, a message waiting at most its latency budget for an
 * older one to be repaired or given up.
 */
export class Reassembler {
  readonly stats: ReassemblerStats = {
    framesComplete: 0,
    framesLost: 0,
    framesRepaired: 0,
    fragmentsLate: 0,
    fragmentsReceived: 0,
    fragmentsLost: 0,
    repairedByNack: 0,
    repairedByFec: 0,
    reordered: 0,
    duplicates: 0,
    invalid: 0,
    nacked: 0,
  };
  /** Round-trip time estimate, µs, set by the owner; drives the NACK retry interval until repairs have been timed. */
  rttUs = 5000;
  private repairSrttUs: number | undefined;
  private repairRttvarUs = 0;
  private readonly o: Required<Omit<ReassemblerOptions, 'latencyBudgetMs' | 'nackRetryMs'>>;
  private readonly fixedBudgetUs: number | undefined;
  private readonly fixedRetryUs: number | undefined;
  private readonly frames = new Map<number, FrameState>();
  private ready: Uint8Array[] = [];
  private next: number | undefined;
  private highest: number | undefined;
  private heldBytes = 0;
  private intervalUs = 33_333 / 2;
  private lastNewUs: number | undefined;

  constructor(options: ReassemblerOptions = {}) {
    this.o = {
      maxFramesInFlight: options.maxFramesInFlight ?? 16,
      maxBytes: options.maxBytes ?? 32 * 1024 * 1024,
      maxMessageBytes: options.maxMessageBytes ?? 16 * 1024 * 1024 + 256,
      minFragmentSize: options.minFragmentSize ?? MIN_FRAGMENT_SIZE,
      minBudgetMs: options.minBudgetMs ?? 10,
      maxBudgetMs: options.maxBudgetMs ?? 1000,
      nack: options.nack ?? true,
      maxNacksPerFragment: Math.min(255, options.maxNacksPerFragment ?? 8),
      tailTimeoutMs: options.tailTimeoutMs ?? 3,
    };
    this.intervalUs = 33_333 / 2;
    this.fixedBudgetUs = options.latencyBudgetMs === undefined ? undefined : options.latencyBudgetMs * 1000;
    this.fixedRetryUs = options.nackRetryMs === undefined ? undefined : options.nackRetryMs * 1000;
  }

  /** The latency budget in force, µs. */
  get budgetUs(): number {
    if (this.fixedBudgetUs !== undefined) return this.fixedBudgetUs;
    return Math.min(this.o.maxBudgetMs * 1000, Math.max(this.o.minBudgetMs * 1000, 2 * this.intervalUs));
  }

  /** Messages held right now. */
  get inFlight(): number {
    return this.frames.size;
  }

  /** Bytes held in reassembly buffers right now. */
  get bytesHeld(): number {
    return this.heldBytes;
  }

  /** Smoothed repair round trip (a NACK to its retransmission's arrival), µs; undefined until measured. */
  get repairRttUs(): number | undefined {
    return this.repairSrttUs;
  }

  /** Interval between NACKs of one fragment, µs. */
  get retryUs(): number {
    if (this.fixedRetryUs !== undefined) return this.fixedRetryUs;
    if (this.repairSrttUs === undefined) return Math.max(2000, 1.5 * this.rttUs + 1000);
    // A needless repeat costs one small datagram and a duplicate; a late one costs the frame. So the
    // margin is 2 × the variation (not TCP's 4), and a few tries always fit in the budget.
    const rto = this.repairSrttUs + Math.max(2 * this.repairRttvarUs, 1000);
    return Math.max(1000, Math.min(rto, this.budgetUs / 4));
  }

  /** How long the newest arrival of `st` may be followed by silence before its tail counts as lost, µs. */
  private tailWaitUs(st: FrameState): number {
    return Math.min(this.budgetUs / 2, Math.max(this.o.tailTimeoutMs * 1000, 2 * st.maxGapUs));
  }

  /** One repair round-trip sample (RFC 6298 smoothing). */
  private sampleRepair(us: number): void {
    if (!(us >= 0) || us > 1_000_000) return;
    if (this.repairSrttUs === undefined) {
      this.repairSrttUs = us;
      this.repairRttvarUs = us / 2;
    } else {
      this.repairRttvarUs = 0.75 * this.repairRttvarUs + 0.25 * Math.abs(this.repairSrttUs - us);
      this.repairSrttUs = 0.875 * this.repairSrttUs + 0.125 * us;
    }
  }

  /** Adds one fragment or parity datagram (the whole datagram, header included). */
  push(datagram: Uint8Array, nowUs: number): void {
    const h = readFragmentHeader(datagram);
    if (!h || h.size < this.o.minFragmentSize || h.length > this.o.maxMessageBytes || h.length > this.o.maxBytes) {
      this.stats.invalid++;
      return;
    }
    if (this.next === undefined) {
      // The first message of a session is seq 0; a later start (a lost beginning) is accepted as is.
      this.next = h.seq < this.o.maxFramesInFlight ? 0 : h.seq;
      this.highest = (this.next - 1) >>> 0;
    }
    if (seqDiff(h.seq, this.next) < 0) {
      this.stats.fragmentsLate++;
      return;
    }
    const st = this.stateFor(h.seq, nowUs);
    if (!st) return;
    if (!st.known) {
      while (this.heldBytes + h.length > this.o.maxBytes && this.evictOldest(st)) {
        /* evict until it fits */
      }
      if (this.heldBytes + h.length > this.o.maxBytes) {
        this.stats.invalid++;
        return;
      }
      st.init(h);
      this.heldBytes += h.length;
    }
    const wasHighest = st.highestPos;
    const r = st.add(h, datagram);
    st.lastUs = nowUs;
    if (r === 'mismatch') {
      this.stats.invalid++;
      return;
    }
    if (r === 'duplicate') {
      if (!h.parity) this.stats.duplicates++;
      return;
    }
    st.dirty = true;
    if (!h.retransmit) {
      if (st.originals > 0) st.maxGapUs = Math.max(st.maxGapUs, nowUs - st.lastOriginalUs);
      st.originals++;
      st.lastOriginalUs = nowUs;
    }
    if (!h.parity) {
      this.stats.fragmentsReceived++;
      const nacks = st.nackCount[h.index] ?? 0;
      if (h.retransmit && (nacks > 0 || st.wholeNacks > 0)) {
        this.stats.repairedByNack++;
        st.repairedFragments++;
        // Karn: time only a repair asked for exactly once.
        if (nacks === 1 && st.wholeNacks === 0) this.sampleRepair(nowUs - (st.nackAtUs[h.index] as number));
        else if (nacks === 0 && st.wholeNacks === 1) this.sampleRepair(nowUs - st.wholeNackAtUs);
      } else if (st.dataPos(h.index) < wasHighest) this.stats.reordered++;
    }
    if (st.fecGroup > 0) {
      const g = h.parity ? h.index : Math.floor(h.index / st.fecGroup);
      if (st.tryFec(g) >= 0) {
        this.stats.repairedByFec++;
        this.stats.fragmentsReceived++;
        st.repairedFragments++;
      }
    }
  }

  /** Releases what is ready, gives up what is too late, and returns NACKs that are due. */
  poll(nowUs: number): PollResult {
    const nacks: NackEntry[] = [];
    while (this.next !== undefined && this.highest !== undefined && seqDiff(this.highest, this.next) >= 0) {
      const st = this.frames.get(this.next);
      if (st?.complete) {
        this.release(st);
      } else if (!st || nowUs >= st.deadlineUs) {
        this.abandon(this.next);
      } else break;
    }
    if (this.o.nack) for (const st of this.frames.values()) this.collectNacks(st, nowUs, nacks);
    const messages = this.ready;
    this.ready = [];
    return { messages, nacks };
  }

  /** When {@link poll} should run next (µs, after `nowUs`), or undefined if nothing is pending. */
  nextWakeUs(nowUs: number): number | undefined {
    let wake: number | undefined;
    const at = (t: number): void => {
      if (t > nowUs) wake = wake === undefined ? t : Math.min(wake, t);
    };
    for (const st of this.frames.values()) {
      if (st.complete) continue;
      at(st.deadlineUs);
      if (this.o.nack && st.nextNackUs < st.deadlineUs) at(st.nextNackUs);
    }
    return wake;
  }

  /** Forgets everything held. */
  clear(): void {
    this.frames.clear();
    this.ready = [];
    this.heldBytes = 0;
  }

  private stateFor(seq: number, nowUs: number): FrameState | undefined {
    const existing = this.frames.get(seq);
    if (existing) return existing;
    const highest = this.highest as number;
    const ahead = seqDiff(seq, highest);
    if (ahead > 0) {
      // Keep the window within maxFramesInFlight: give up the oldest first.
      while (seqDiff(seq, this.next as number) >= this.o.maxFramesInFlight) {
        if (this.frames.size === 0) {
          // Nothing held: skip the rest of the gap in one step. One seq at a time, a datagram
          // 2^31 ahead (a long outage, or a hostile peer) would block the process for seconds.
          this.skip(seqDiff(seq, this.next as number) - this.o.maxFramesInFlight + 1);
          break;
        }
        const oldest = this.frames.get(this.next as number);
        if (oldest?.complete) this.release(oldest);
        else this.abandon(this.next as number);
      }
      const prevNewUs = this.lastNewUs;
      if (ahead === 1 && prevNewUs !== undefined) {
        const dt = nowUs - prevNewUs;
        if (dt > 0 && dt < 1_000_000) this.intervalUs = 0.9 * this.intervalUs + 0.1 * dt;
      }
      this.lastNewUs = nowUs;
      // Messages skipped over get placeholders, so they can be asked for whole. Each one's
      // budget runs from when it should have arrived (a frame interval before the next one),
      // not from now: a lost message must not hold the ones after it longer than one that arrived.
      for (
        let s = (Math.max(seqDiff(highest, this.next as number), -1) + (this.next as number) + 1) >>> 0;
        seqDiff(s, seq) < 0;
        s = (s + 1) >>> 0
      ) {
        if (this.frames.has(s)) continue;
        const expectedUs = Math.max(prevNewUs ?? nowUs, nowUs - seqDiff(seq, s) * this.intervalUs);
        this.frames.set(s, new FrameState(s, Math.min(nowUs, expectedUs), this.budgetUs));
      }
      this.highest = seq;
      // Every older message's missing fragments are now known to be lost: rescan them.
      for (const other of this.frames.values()) other.dirty = true;
    }
    const st = new FrameState(seq, nowUs, this.budgetUs);
    this.frames.set(seq, st);
    return st;
  }

  /**
   * Adds the NACKs of `st` that are due now to `out` and notes when the next
   * one will be. A data fragment is missing once something sent after it
   * arrived (a later fragment or parity of the message, or a later message),
   * or once the message has been silent for its tail wait (tail loss); with
   * FEC it first waits for its group's parity. A fragment is NACKed again a
   * retry interval after its last NACK, at most `maxNacksPerFragment` times.
   */
  private collectNacks(st: FrameState, nowUs: number, out: NackEntry[]): void {
    if (st.complete || nowUs >= st.deadlineUs) {
      st.nextNackUs = Infinity;
      return;
    }
    // Nothing arrived and nothing fell due since the last scan: nothing to do.
    if (!st.dirty && nowUs < st.nextNackUs) return;
    st.dirty = false;
    const max = this.o.maxNacksPerFragment;
    const retry = this.retryUs;
    let next = Infinity;
    if (!st.known) {
      if (st.wholeNacks < max) {
        const due = st.wholeNacks === 0 ? nowUs : st.wholeNackAtUs + retry;
        if (nowUs >= due) {
          st.wholeNacks++;
          st.wholeNackAtUs = nowUs;
          this.stats.nacked++;
          out.push({ seq: st.seq, indexes: [] });
          if (st.wholeNacks < max) next = nowUs + retry;
        } else next = due;
      }
      st.nextNackUs = next;
      return;
    }
    const later = seqDiff(this.highest as number, st.seq) > 0;
    const tailDueUs = st.lastUs + this.tailWaitUs(st);
    const quiet = nowUs >= tailDueUs;
    while (st.scanFrom < st.count && st.have[st.scanFrom] === 1) st.scanFrom++;
    const indexes: number[] = [];
    for (let i = st.scanFrom; i < st.count; i++) {
      if (st.have[i] === 1) continue;
      const known = later || st.dataPos(i) < st.highestPos;
      if (!known && !quiet) {
        // Not sent yet, or the tail was lost: silence will tell. Every fragment after this one is in the same case.
        next = Math.min(next, tailDueUs);
        break;
      }
      // With FEC, wait for the group's parity unless it is known lost (something after it arrived) or the message went quiet.
      if (st.fecGroup > 0 && !later && !quiet) {
        const g = Math.floor(i / st.fecGroup);
        if (st.parity[g] === undefined && st.parityPos(g) >= st.highestPos) {
          next = Math.min(next, tailDueUs);
          continue;
        }
      }
      const n = st.nackCount[i] as number;
      if (n >= max) continue;
      const due = n === 0 ? nowUs : (st.nackAtUs[i] as number) + retry;
      if (nowUs < due) {
        next = Math.min(next, due);
        continue;
      }
      st.nackCount[i] = n + 1;
      st.nackAtUs[i] = nowUs;
      indexes.push(i);
      if (n + 1 < max) next = Math.min(next, nowUs + retry);
    }
    st.nextNackUs = next;
    if (indexes.length > 0) {
      this.stats.nacked += indexes.length;
      out.push({ seq: st.seq, indexes });
    }
  }

  private release(st: FrameState): void {
    this.frames.delete(st.seq);
    this.heldBytes -= st.length;
    this.stats.framesComplete++;
    this.stats.fragmentsLost += st.repairedFragments;
    if (st.repairedFragments > 0) this.stats.framesRepaired++;
    this.next = (st.seq + 1) >>> 0;
    this.ready.push(st.buf as Uint8Array);
  }

  private abandon(seq: number): void {
    const st = this.frames.get(seq);
    if (st) {
      this.frames.delete(seq);
      if (st.known) this.heldBytes -= st.length;
      this.stats.fragmentsLost += st.repairedFragments + st.missingCount();
    }
    this.stats.framesLost++;
    this.next = (seq + 1) >>> 0;
    if (seqDiff(this.highest as number, this.next) < -1) this.highest = (this.next - 1) >>> 0;
  }

  /** Gives up `n` messages of which nothing is held (counted lost) and moves the window past them. */
  private skip(n: number): void {
    this.stats.framesLost += n;
    this.next = ((this.next as number) + n) >>> 0;
    if (seqDiff(this.highest as number, this.next) < -1) this.highest = (this.next - 1) >>> 0;
  }

  /** Evicts the oldest held message other than `keep`; false if there is none. */
  private evictOldest(keep: FrameState): boolean {
    if (this.next === undefined || this.next === keep.seq) return false;
    this.abandon(this.next);
    return true;
  }
}
