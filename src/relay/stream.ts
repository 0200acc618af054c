import { nowUs } from '../frame/clock.js';
import { StatsMeter, type StatsSnapshot } from '../frame/meter.js';
import type { MessageChannel } from '../transport/channel.js';
import type { Profile } from '../codec/transcode.js';
import type { RelayFrame } from './relay-frame.js';
import type { StreamInfo } from '../protocol/api.js';
import { Renditions, type RenditionOptions } from './rendition.js';

export { toRelayFrame, type RelayFrame } from './relay-frame.js';

/** How a viewer slot behaves. */
export interface ViewerSlotOptions {
  /** Most frames per second to send; frames between are skipped by capture time. */
  fpsCap?: number | undefined;
  /** The viewer acks every frame: keep at most a window of frames in flight. */
  acks?: boolean | undefined;
  /** The path's round-trip time to this viewer, µs (for the ack window). */
  rttUs?: (() => number) | undefined;
  /**
   * Extra frames the ack window allows for a transport that repairs loss
   * (UDP): while an older frame is being repaired, the frames after it are
   * held back in order, unacked, for up to the repair budget (two frame
   * intervals by default). Default 0.
   */
  repairFrames?: number | undefined;
  /**
   * The transport may lose a whole frame (UDP): a frame unacked for
   * 2 × RTT + max(250 ms, 6 frame intervals) is taken as lost and leaves the
   * window, so a burst of loss that swallows every frame in flight cannot
   * block the viewer for good. (On TCP nothing is lost, and a viewer that
   * does not ack is slow: its frames stay in the window.)
   */
  lossy?: boolean | undefined;
  /** Clock for ack expiry, µs. Default the process clock. */
  clock?: (() => number) | undefined;
}

/** Upper bound of the ack window, frames. */
export const MAX_ACK_WINDOW = 16;

/**
 * One viewer's place in a stream. Latest-frame-wins: while the viewer is
 * blocked, at most one frame waits in `pending`; a newer frame replaces it
 * and the older one counts as skipped. The viewer is blocked when its
 * channel is backed up, or — for a viewer that acks — when a window of
 * frames (2 + one round trip's worth + the frames a repairing transport may
 * hold back, at most {@link MAX_ACK_WINDOW}) is
 * unacknowledged: socket buffers along the path then never fill with old
 * frames, so a slow viewer's latency stays near one round trip. An fps cap
 * skips frames by capture time.
 */
export class ViewerSlot {
  pending: RelayFrame | undefined;
  /** The rendition profile key this viewer watches, or undefined for the source as published. */
  rendition: string | undefined;
  /** Frames skipped because the viewer was blocked (or the transcoder was busy). */
  skipped = 0;
  /** Frames skipped for the fps cap. */
  decimated = 0;
  /** Frames written to the channel. */
  sent = 0;
  /** Source frames this viewer did not get because the relay could not decode (or encode) them: invalid frames, rendition failures. */
  notDecodable = 0;
  /** Frames the publisher never sent (gaps in its sequence numbers that its wire did not cause). */
  droppedByPublisher = 0;
  /** A frame of the current publisher's sequence was written: from then on a gap upstream is also a gap this viewer sees. */
  private inSequence = false;
  private reportedSkips = 0;
  private nextDueUs: number | undefined;
  private readonly intervalUs: number;
  private readonly acks: boolean;
  private readonly rttUs: () => number;
  private readonly repairFrames: number;
  /** Frames taken as lost after no ack came for them (lossy transports only). */
  expired = 0;
  /** When the viewer last acked, or when the first frame went to it (µs; acking viewers). */
  private lastAckUs: number | undefined;
  /** Sequence numbers sent and not yet acked, oldest first (bounded by the window). */
  private readonly inFlight: number[] = [];
  /** When each of `inFlight` was sent, µs (lossy transports only). */
  private readonly inFlightAt: number[] = [];
  private readonly lossy: boolean;
  private readonly clock: () => number;
  private frameIntervalUs = 33_333;
  private lastCaptureUs: number | undefined;
  private readonly onDrain = (): void => this.flush();

  constructor(
    readonly channel: MessageChannel,
    readonly session: string,
    options: ViewerSlotOptions = {},
  ) {
    const cap = options.fpsCap;
    this.intervalUs = cap && cap > 0 ? 1e6 / cap : 0;
    this.acks = options.acks === true;
    this.rttUs = options.rttUs ?? (() => 0);
    this.repairFrames = Math.max(0, options.repairFrames ?? 0);
    this.lossy = options.lossy === true;
    this.clock = options.clock ?? nowUs;
    channel.on('drain', this.onDrain);
  }

  /** Frames allowed in flight for an acking viewer. */
  get window(): number {
    const interval = Math.max(this.frameIntervalUs, this.intervalUs);
    return Math.min(MAX_ACK_WINDOW, 2 + this.repairFrames + Math.ceil(this.rttUs() / interval));
  }

  /** Frames sent and not yet acked. */
  get unacked(): number {
    return this.inFlight.length;
  }

  private get blocked(): boolean {
    if (this.channel.backedUp) return true;
    if (!this.acks || this.inFlight.length < this.window) return false;
    if (this.lossy) this.expireLost();
    return this.inFlight.length >= this.window;
  }

  /** Drops frames from the window that were sent too long ago to be acked still. */
  private expireLost(): void {
    const interval = Math.max(this.frameIntervalUs, this.intervalUs);
    const oldest = this.clock() - (2 * this.rttUs() + Math.max(250_000, 6 * interval));
    let n = 0;
    while (n < this.inFlightAt.length && (this.inFlightAt[n] as number) < oldest) n++;
    if (n === 0) return;
    this.inFlight.splice(0, n);
    this.inFlightAt.splice(0, n);
    this.expired += n;
  }

  /**
   * True when the viewer acks frames (said so in its hello), its window is
   * full, and no ack came for `timeoutUs`: a viewer that promised acks and
   * sends none (over a transport that loses nothing).
   */
  ackStalled(nowUs: number, timeoutUs: number): boolean {
    if (!this.acks || this.lossy || this.lastAckUs === undefined) return false;
    return this.inFlight.length >= this.window && nowUs - this.lastAckUs > timeoutUs;
  }

  /** The viewer acked `seq` (and, acks being in order, everything sent before it). */
  onAck(seq: number): void {
    const i = this.inFlight.indexOf(seq);
    if (i < 0) return;
    this.lastAckUs = this.clock();
    this.inFlight.splice(0, i + 1);
    if (this.lossy) this.inFlightAt.splice(0, i + 1);
    this.flush();
  }

  /**
   * `n` source frames will be missing from this viewer's sequence though its
   * own wire lost nothing: counted (and reported in its next stats) only once
   * the viewer has a frame of this sequence, since a gap before its first
   * frame is no gap it sees.
   */
  upstreamGap(kind: 'notDecodable' | 'droppedByPublisher', n: number): void {
    if (this.inSequence && n > 0) this[kind] += n;
  }

  /** The stream's sequence restarts (a publisher left or came): gaps upstream are not this viewer's until its next frame. */
  restartSequence(): void {
    this.inSequence = false;
  }

  /** Offers a frame: sent now, parked as pending, or skipped. */
  offer(rf: RelayFrame): void {
    if (this.channel.closed) return;
    if (this.intervalUs > 0) {
      const t = rf.frame.captureUs;
      // 2 ms of slack absorbs jitter in the source's capture times.
      if (this.nextDueUs !== undefined && t < this.nextDueUs - 2000) {
        this.decimated++;
        return;
      }
      this.nextDueUs = this.nextDueUs === undefined ? t + this.intervalUs : Math.max(this.nextDueUs + this.intervalUs, t);
    }
    const t = rf.frame.captureUs;
    if (this.lastCaptureUs !== undefined && t > this.lastCaptureUs && t - this.lastCaptureUs < 1e6) {
      this.frameIntervalUs = 0.9 * this.frameIntervalUs + 0.1 * (t - this.lastCaptureUs);
    }
    this.lastCaptureUs = t;
    if (this.blocked) {
      if (this.pending) this.skipped++;
      this.pending = rf;
      return;
    }
    // Unblocked without a flush (the ack window grew): the parked frame is older than this one.
    if (this.pending) {
      this.pending = undefined;
      this.skipped++;
    }
    this.write(rf);
  }

  /** Writes the pending frame, if any, once the channel drains. */
  flush(): void {
    const rf = this.pending;
    if (!rf || this.blocked) return;
    this.pending = undefined;
    this.write(rf);
  }

  /** Sends a control message to this viewer. */
  control(body: Record<string, number | boolean | string>): void {
    this.channel.send({ type: 'stats', body: { ...body, ...this.skipCounts() } });
    this.reportedSkips = this.notLost;
  }

  /** Detaches from the channel; drops the pending frame. */
  detach(): void {
    this.channel.off('drain', this.onDrain);
    this.pending = undefined;
  }

  /** Every frame missing from this viewer's sequence for a reason other than its wire. */
  private get notLost(): number {
    return this.skipped + this.decimated + this.notDecodable + this.droppedByPublisher;
  }

  private skipCounts(): { framesSkipped: number; framesDecimated: number; framesNotDecodable: number; framesDroppedByPublisher: number } {
    return {
      framesSkipped: this.skipped,
      framesDecimated: this.decimated,
      framesNotDecodable: this.notDecodable,
      framesDroppedByPublisher: this.droppedByPublisher,
    };
  }

  private write(rf: RelayFrame): void {
    // Skip counts travel in order, just before the first frame after a skip,
    // so the viewer can tell skipped frames from lost ones exactly.
    if (this.notLost !== this.reportedSkips) this.control({});
    this.channel.send({ type: 'frame', frame: rf.frame });
    this.sent++;
    this.inSequence = true;
    if (this.acks) {
      this.lastAckUs ??= this.clock();
      this.inFlight.push(rf.frame.seq);
      if (this.lossy) this.inFlightAt.push(this.clock());
    }
  }
}

export type { StreamInfo } from '../protocol/api.js';

/** How a {@link RelayStream} makes renditions. */
export interface RelayStreamOptions extends RenditionOptions {
  /** Most distinct rendition profiles at once. */
  maxRenditions?: number;
}

/** A named stream: at most one publisher, any number of viewers (up to the relay's limits). */
export class RelayStream {
  publisher: { session: string; remote: string; since: number } | undefined;
  readonly viewers = new Map<string, ViewerSlot>();
  readonly meter = new StatsMeter();
  readonly renditions: Renditions<ViewerSlot>;
  latest: RelayFrame | undefined;
  /** Frames the publisher sent that failed validation. */
  badFrames = 0;
  /** Frames the current publisher never sent: gaps in its sequence numbers less what its wire lost. */
  droppedByPublisher = 0;
  /** The publisher's next sequence number, once it has sent a frame. */
  private expectedSeq: number | undefined;
  /** What the publisher's transport had counted lost at its previous frame (UDP). */
  private wireLost = 0;

  constructor(
    readonly name: string,
    options: RelayStreamOptions = {},
  ) {
    // Source frames a rendition's viewer never gets (transcoder busy, frame not decodable) count as its skips.
    this.renditions = new Renditions<ViewerSlot>(options.maxRenditions, options, (viewer, why) =>
      why === 'busy' ? viewer.skipped++ : viewer.upstreamGap('notDecodable', 1),
    );
  }

  /** Adds a viewer, of the source or (with a profile) of a rendition. */
  /** Adds a viewer; returns false if it asked for a profile and the stream is at its rendition limit (it gets the source). */
  addViewer(slot: ViewerSlot, profile: Profile | undefined): boolean {
    this.viewers.set(slot.session, slot);
    if (!profile) return true;
    slot.rendition = this.renditions.add(slot, profile);
    return slot.rendition !== undefined;
  }

  /** Removes a viewer (and its rendition if it was the last one watching it). */
  removeViewer(session: string): void {
    const slot = this.viewers.get(session);
    if (!slot) return;
    slot.detach();
    if (slot.rendition !== undefined) this.renditions.remove(slot, slot.rendition);
    this.viewers.delete(session);
  }

  get live(): boolean {
    return this.publisher !== undefined;
  }

  /** A new publisher: its sequence numbers start afresh. */
  restartSequence(): void {
    this.expectedSeq = undefined;
    this.wireLost = 0;
    this.droppedByPublisher = 0;
    this.meter.resetSequence();
  }

  /**
   * Accounts the publisher's frame `seq` before it is forwarded or refused:
   * a gap before it is frames the publisher never sent (it drops frames
   * while its socket is backed up), less those its transport counted lost
   * (`wireLost`, cumulative; UDP), which viewers see as lost. Every viewer
   * is told of what it will see as a gap without its wire losing anything.
   */
  private account(seq: number, wireLost: number): void {
    const lostNow = Math.max(0, wireLost - this.wireLost);
    this.wireLost = wireLost;
    if (this.expectedSeq !== undefined) {
      const gap = (seq - this.expectedSeq) >>> 0;
      // A jump backwards (or a huge one) is a restart of the sequence, not a drop.
      const dropped = gap < 0x8000_0000 ? Math.max(0, gap - lostNow) : 0;
      if (dropped > 0) {
        this.droppedByPublisher += dropped;
        for (const v of this.viewers.values()) v.upstreamGap('droppedByPublisher', dropped);
      }
    }
    this.expectedSeq = (seq + 1) >>> 0;
  }

  /** The publisher's frame `seq` failed validation and is not forwarded: a gap every viewer sees, counted as not decodable. */
  refuse(seq: number, wireLost = 0): void {
    this.badFrames++;
    this.account(seq, wireLost);
    for (const v of this.viewers.values()) v.upstreamGap('notDecodable', 1);
  }

  /**
   * Fans one frame out to every viewer: same header and payload Buffers for
   * all. `wireLost` is what the publisher's transport has counted lost so
   * far (UDP; 0 elsewhere).
   */
  fanOut(rf: RelayFrame, arrivalUs: number, wireLost = 0): void {
    this.account(rf.frame.seq, wireLost);
    this.latest = rf;
    this.meter.record(rf.frame, arrivalUs, NaN);
    for (const v of this.viewers.values()) if (v.rendition === undefined) v.offer(rf);
    this.renditions.onSource(rf);
  }

  /** Tells every viewer whether the stream is live. */
  announce(): void {
    for (const v of this.viewers.values()) {
      v.restartSequence();
      v.control({ live: this.live, viewers: this.viewers.size });
    }
  }

  info(nowUs: number): StreamInfo {
    const s: StatsSnapshot = this.meter.snapshot(nowUs);
    return {
      name: this.name,
      live: this.live,
      viewers: this.viewers.size,
      width: this.latest?.frame.width ?? 0,
      height: this.latest?.frame.height ?? 0,
      fps: this.live ? s.fps : 0,
      kbps: this.live ? s.kbps : 0,
      framesIn: s.framesReceived,
      uptimeS: this.publisher ? Math.round((nowUs - this.publisher.since) / 1e6) : 0,
      publisher: this.publisher?.remote ?? null,
      renditions: this.renditions.info(),
      renditionDecodes: this.renditions.decodes,
      renditionDecodesRefused: this.renditions.refused,
      badFrames: this.badFrames,
      framesDroppedByPublisher: this.droppedByPublisher,
    };
  }
}
