import { ErrorCodes, FramewireError } from '../errors.js';
import { nowUs, type Clock } from '../frame/clock.js';
import { encodeControl, type Message } from '../protocol/messages.js';
import { DEFAULT_LIMITS, decodeMessage, type ParserLimits } from '../protocol/parser.js';
import { ReliableControl } from '../protocol/udp/control.js';
import { CONTROL_PREFIX_BYTES, Kind, decodeNack, encodeNacks, makeDatagram, type Datagram } from '../protocol/udp/datagram.js';
import { checkFecGroup, checkFragmentSize, fragmentMessage, fragmentSizeFor } from '../protocol/udp/fragmenter.js';
import { Reassembler, type ReassemblerOptions, type ReassemblerStats } from '../protocol/udp/reassembler.js';
import { SendHistory } from '../protocol/udp/send-history.js';
import { MessageChannel } from './channel.js';
import { Pacer, type Parts } from './udp-pacer.js';
import { frameHeader } from './wire.js';

/** Options of a UDP channel (both ends). Every one has a safe default. */
export interface UdpChannelOptions extends ParserLimits {
  /** Fragment payload size, bytes (`--mtu`), in [512, 65000]. Default 1200. A relay clamps what a client asks it to send with (see `UdpServerOptions.maxFragmentSize`). */
  fragmentSize?: number;
  /** XOR parity, one datagram per this many fragments (`--fec`); 0 = off. Default 0. */
  fecGroup?: number;
  /** Ask the peer to retransmit lost fragments. Default true. */
  nack?: boolean;
  /** Latency budget for repair, ms. Default: two frame intervals, measured. */
  latencyBudgetMs?: number;
  /** Pacing rate, Mbit/s. Default 200. */
  pacingMbps?: number;
  /** `backedUp` is true while more than this many frame bytes wait in the pacer. Default 128 KiB. */
  highWaterMark?: number;
  /** Most frame bytes queued in the pacer; a frame beyond it is not sent (counted). Default 4 MiB. */
  maxQueueBytes?: number;
  /** Send a keepalive after this long without sending anything, ms. Default 2000. */
  keepaliveMs?: number;
  /** Close after hearing nothing for this long, ms. Default 15000. */
  sessionTimeoutMs?: number;
  /** Reassembly limits (frames in flight, bytes, NACK timing). */
  reassembly?: Omit<ReassemblerOptions, 'latencyBudgetMs' | 'nack' | 'maxMessageBytes'>;
  /** Clock (µs); injectable for tests. */
  clock?: Clock;
}

/** Counters of one UDP channel: its receive side (reassembly, repair) and its send side. */
export interface UdpStats extends ReassemblerStats {
  framesSent: number;
  framesNotQueued: number;
  datagramsSent: number;
  datagramsReceived: number;
  retransmitted: number;
  /** Fragments NACKed by the peer while their original was still queued in the pacer (ignored, not resent). */
  nackedNotYetSent: number;
  nacksReceived: number;
  controlRetransmitted: number;
  /** CPU time spent reassembling (push + poll), µs. */
  reassemblyUs: number;
  /** Exceptions caught in this session's datagram or timer handling (a bug; the session is closed). */
  internalErrors: number;
  /** NACK, control and ack datagrams too short or malformed to read (ignored). Bad fragments count in `invalid`. */
  malformed: number;
  /** Fragments ignored because this peer may not send frames now (before its hello, or a viewer). */
  fragmentsRefused: number;
}

/** How a channel sends on its socket and what it tells its owner. */
export interface UdpLink {
  send(parts: Parts): void;
  /** Called once when the channel closes. */
  closed(channel: UdpChannel): void;
}

/**
 * The native protocol over UDP for one session: frames are fragmented,
 * paced, remembered for NACK repair and optionally protected by XOR parity;
 * control messages ride in single datagrams, reliable ones retransmitted
 * until acked. `backedUp` reflects the pacer's queue, so the relay's
 * latest-frame-wins works as on TCP.
 */
export class UdpChannel extends MessageChannel {
  readonly transport = 'udp';
  override readonly lossy = true;
  private readonly clock: Clock;
  private readonly fragmentSize: number;
  private readonly fecGroup: number;
  private readonly highWater: number;
  private readonly keepaliveUs: number;
  private readonly timeoutUs: number;
  private readonly limits: Required<ParserLimits>;
  private readonly pacer: Pacer;
  private readonly history: SendHistory;
  private readonly reassembler: Reassembler;
  private readonly control: ReliableControl;
  private txSeq = 0;
  private lastSentUs: number;
  private lastHeardUs: number;
  private wasBackedUp = false;
  private housekeeping: NodeJS.Timeout;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAtUs = Infinity;
  private pollPending: NodeJS.Immediate | undefined;
  private readonly counters = {
    framesSent: 0,
    framesNotQueued: 0,
    datagramsSent: 0,
    datagramsReceived: 0,
    nacksReceived: 0,
    reassemblyUs: 0,
    internalErrors: 0,
    malformed: 0,
    fragmentsRefused: 0,
  };
  private framesAllowed = true;
  private lastHeld = 0;
  /** The fragment size the peer said it sends with (a relay's `opened` reply), when known. */
  peerFragmentSize: number | undefined;

  constructor(
    readonly remote: string,
    readonly session: number,
    private readonly link: UdpLink,
    options: UdpChannelOptions = {},
  ) {
    super();
    this.clock = options.clock ?? nowUs;
    this.fragmentSize = checkFragmentSize(options.fragmentSize);
    this.fecGroup = checkFecGroup(options.fecGroup);
    this.highWater = options.highWaterMark ?? 128 * 1024;
    this.keepaliveUs = (options.keepaliveMs ?? 2000) * 1000;
    this.timeoutUs = (options.sessionTimeoutMs ?? 15_000) * 1000;
    this.limits = { ...DEFAULT_LIMITS, ...definedLimits(options) };
    const send = (p: Parts): void => {
      this.counters.datagramsSent++;
      this.lastSentUs = this.clock();
      this.link.send(p);
    };
    this.pacer = new Pacer(send, this.clock, { rateMbps: options.pacingMbps, maxQueueBytes: options.maxQueueBytes });
    this.pacer.onDrained = () => {
      if (this.wasBackedUp && !this.backedUp) {
        this.wasBackedUp = false;
        this.safeEmit('drain');
      }
    };
    this.history = new SendHistory({ maxBytes: Math.max(8 * 1024 * 1024, 2 * this.limits.maxFrameBytes) });
    this.reassembler = new Reassembler({
      ...options.reassembly,
      latencyBudgetMs: options.latencyBudgetMs,
      nack: options.nack ?? true,
      maxMessageBytes: this.limits.maxFrameBytes + this.limits.maxHeaderBytes,
    });
    this.control = new ReliableControl(() => this.session);
    this.lastSentUs = this.lastHeardUs = this.clock();
    this.housekeeping = setInterval(() => this.guard(() => this.tick()), 50);
    this.housekeeping.unref();
  }

  get backedUp(): boolean {
    const b = this.pacer.queuedBytes > this.highWater;
    if (b) this.wasBackedUp = true;
    return b;
  }

  get queuedBytes(): number {
    return this.pacer.queuedBytes;
  }

  /** The fragment payload size this end sends with (messages too large for it get larger fragments). */
  get sendFragmentSize(): number {
    return this.fragmentSize;
  }

  /**
   * Bytes this session holds in reassembly buffers (messages being put
   * together from the peer's fragments). The send history holds views of
   * frames shared with every other viewer, so it is not counted here.
   */
  get bufferedBytes(): number {
    return this.reassembler.bytesHeld;
  }

  override get heldBytes(): number {
    return this.reassembler.bytesHeld;
  }

  /** Fragments (frames) from a peer that may not send them are dropped unread: nothing is reassembled. */
  override acceptFrames(allowed: boolean): void {
    this.framesAllowed = allowed;
  }

  /** Tells the owner (the relay's memory budget) when the bytes held in reassembly change. */
  private reportHeld(): void {
    const held = this.reassembler.bytesHeld;
    if (held === this.lastHeld || this.closed) return;
    this.lastHeld = held;
    this.safeEmit('held', held);
  }

  /** Loss, repair and send counters. */
  stats(): UdpStats {
    return {
      ...this.reassembler.stats,
      ...this.counters,
      retransmitted: this.history.retransmitted,
      nackedNotYetSent: this.history.notYetSent,
      controlRetransmitted: this.control.retransmitted,
    };
  }

  override transportStats(): Record<string, number> {
    return { ...this.stats() };
  }

  protected write(msg: Message): void {
    const now = this.clock();
    if (msg.type === 'frame') {
      this.writeFrame(msg, now);
      return;
    }
    const message = encodeControl(msg);
    const reliable = msg.type !== 'ping' && msg.type !== 'pong';
    const datagram = this.control.wrap(message, reliable, now);
    // A bye goes behind the frames already queued, as on TCP: jumping ahead, it
    // would end the session before the last frames left (the peer drops them).
    if (msg.type === 'bye' && this.pacer.queuedDatagrams > 0 && this.pacer.pushBulk([[datagram]], datagram.length)) return;
    this.pacer.pushUrgent([[datagram]]);
  }

  /** Fragments a frame (its shared header and its data, as views), remembers it for repair and queues it in the pacer. */
  private writeFrame(msg: Extract<Message, { type: 'frame' }>, now: number): void {
    const parts = [frameHeader(msg.frame), msg.frame.data];
    const bytes = (parts[0] as Buffer).length + (parts[1] as Buffer).length;
    if (this.pacer.queuedBytes + bytes > this.pacer.maxQueueBytes) {
      this.counters.framesNotQueued++;
      return;
    }
    const fragmentSize = fragmentSizeFor(bytes, this.fragmentSize);
    if (fragmentSize === undefined) {
      this.counters.framesNotQueued++;
      return;
    }
    const f = fragmentMessage(parts, this.txSeq, { session: this.session, fragmentSize, fecGroup: this.fecGroup });
    this.txSeq = (this.txSeq + 1) >>> 0;
    this.history.add(f, now);
    // An original data fragment leaving the pacer: from now on a NACK for it is a real loss.
    const { seq, count } = f;
    const k = this.fecGroup;
    this.pacer.pushBulk(f.order, f.bytes, (at) => {
      const index = dataIndexAt(at, k, count);
      if (index >= 0) this.history.markSent(seq, index);
    });
    this.counters.framesSent++;
    if (this.backedUp) this.wasBackedUp = true;
  }

  /** Handles one datagram of this session (the owner has checked session id and address). */
  receive(dg: Datagram, raw: Uint8Array): void {
    if (this.closed) return;
    const now = this.clock();
    this.lastHeardUs = now;
    this.counters.datagramsReceived++;
    switch (dg.kind) {
      case Kind.fragment:
      case Kind.parity: {
        if (!this.framesAllowed) {
          this.counters.fragmentsRefused++;
          return;
        }
        const t0 = performance.now();
        this.reassembler.push(raw, now);
        this.counters.reassemblyUs += (performance.now() - t0) * 1000;
        this.reportHeld();
        this.schedulePoll();
        return;
      }
      case Kind.nack: {
        const entries = decodeNack(dg.body);
        if (!entries) {
          this.counters.malformed++;
          return;
        }
        this.counters.nacksReceived++;
        const resend = this.history.lookup(entries, now);
        if (resend.length > 0) this.pacer.pushUrgent(resend);
        return;
      }
      case Kind.control: {
        if (dg.body.length < CONTROL_PREFIX_BYTES) {
          this.counters.malformed++;
          return;
        }
        const { message, ack } = this.control.onControl(dg.body);
        if (ack) this.pacer.pushUrgent([[ack]]);
        if (!message) return;
        // Frames completed by datagrams that came before this one go first (a bye
        // right after the last frame must not overtake it).
        if (this.pollPending) {
          clearImmediate(this.pollPending);
          this.pollPending = undefined;
          this.poll();
          if (this.closed) return;
        }
        this.deliver(message);
        return;
      }
      case Kind.ack:
        if (dg.body.length < 4) {
          this.counters.malformed++;
          return;
        }
        this.control.onAck(dg.body, now);
        if (this.control.srttUs !== undefined) this.reassembler.rttUs = this.control.srttUs;
        return;
      case Kind.close:
        this.finish(undefined);
        return;
      case Kind.unknownSession:
        // The peer has no session with this id (a relay that restarted): end now, so the owner
        // reconnects at once instead of at the session timeout.
        this.finish(
          new FramewireError(
            ErrorCodes.CONNECTION_CLOSED,
            `unknown session: ${this.remote} does not know session ${this.session} (restarted?)`,
          ),
        );
        return;
      default:
        return;
    }
  }

  protected shutdown(): void {
    const started = this.clock();
    const check = (): void => {
      if (this.closed) return;
      const done = (this.control.drained && this.pacer.queuedDatagrams === 0) || this.clock() - started > 1_000_000;
      if (!done) {
        setTimeout(() => this.guard(check), 10).unref();
        return;
      }
      this.sendClose();
      this.finish(undefined);
    };
    check();
  }

  protected abort(): void {
    this.sendClose();
  }

  /**
   * Ends the session after an exception in its own handling (a bug, not the
   * peer's fault): counted in `internalErrors`, a close sent, the error
   * reported with the 'close' event. Used by the socket owners' guards.
   */
  fail(err: unknown): void {
    this.counters.internalErrors++;
    if (this.closed) return;
    try {
      this.sendClose();
    } catch {
      /* the link is gone */
    }
    this.finish(FramewireError.from(err, `udp session ${this.session}`));
  }

  /** Runs `fn`; an exception ends this session instead of escaping into a timer or socket callback. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.fail(err);
    }
  }

  private sendClose(): void {
    const c = makeDatagram(Kind.close, this.session);
    this.link.send([c]);
    this.link.send([c]);
  }

  private deliver(message: Uint8Array): void {
    let msg: Message;
    try {
      msg = decodeMessage(message, this.limits);
    } catch (err) {
      this.safeEmit('protocolError', FramewireError.from(err, 'the UDP message decoder'));
      return;
    }
    this.safeEmit('message', msg);
  }

  private schedulePoll(): void {
    if (this.pollPending) return;
    this.pollPending = setImmediate(() => {
      this.pollPending = undefined;
      this.guard(() => this.poll());
    });
  }

  private poll(): void {
    if (this.closed) return;
    const now = this.clock();
    const t0 = performance.now();
    const { messages, nacks } = this.reassembler.poll(now);
    this.counters.reassemblyUs += (performance.now() - t0) * 1000;
    if (nacks.length > 0) this.pacer.pushUrgent(encodeNacks(this.session, nacks, this.fragmentSize).map((d) => [d]));
    for (const m of messages) {
      if (this.closed) return;
      this.deliver(m);
    }
    this.reportHeld();
    const wake = this.reassembler.nextWakeUs(now);
    if (wake === undefined) return;
    if (this.wakeTimer && wake >= this.wakeAtUs) return;
    clearTimeout(this.wakeTimer);
    this.wakeAtUs = wake;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.wakeAtUs = Infinity;
        // Timers run before the event loop reads sockets: after a stall, datagrams that
        // arrived meanwhile are still unread. Poll after them (setImmediate runs after
        // I/O), so silence is judged on what really arrived, not on a busy process.
        this.schedulePoll();
      },
      Math.max(1, Math.ceil((wake - now) / 1000)),
    );
  }

  private tick(): void {
    if (this.closed) return;
    const now = this.clock();
    if (now - this.lastHeardUs > this.timeoutUs) {
      this.finish(new FramewireError(ErrorCodes.TIMEOUT, `nothing heard from ${this.remote} for ${Math.round(this.timeoutUs / 1000)} ms`));
      return;
    }
    const resend = this.control.due(now);
    if (resend.length > 0) this.pacer.pushUrgent(resend.map((d) => [d]));
    if (now - this.lastSentUs > this.keepaliveUs) this.pacer.pushUrgent([[makeDatagram(Kind.keepalive, this.session)]]);
  }

  protected override released(): void {
    clearInterval(this.housekeeping);
    clearTimeout(this.wakeTimer);
    if (this.pollPending) clearImmediate(this.pollPending);
    this.pacer.close();
    this.history.clear();
    this.reassembler.clear();
    this.control.clear();
    this.link.closed(this);
  }
}

/**
 * The data fragment index of the datagram at position `at` of a message's
 * send order (`Fragments.order`: each FEC group's `k` data fragments, then
 * its parity datagram), or -1 for a parity datagram. `count` data fragments
 * in all; `k` = 0 means no parity.
 */
export function dataIndexAt(at: number, k: number, count: number): number {
  if (k === 0) return at;
  const group = Math.floor(at / (k + 1));
  const within = at - group * (k + 1);
  const index = group * k + within;
  return within < k && index < count ? index : -1;
}

function definedLimits(o: ParserLimits): ParserLimits {
  const out: ParserLimits = {};
  if (o.maxFrameBytes !== undefined) out.maxFrameBytes = o.maxFrameBytes;
  if (o.maxControlBytes !== undefined) out.maxControlBytes = o.maxControlBytes;
  if (o.maxHeaderBytes !== undefined) out.maxHeaderBytes = o.maxHeaderBytes;
  return out;
}
