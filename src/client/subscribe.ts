import { ErrorCodes, FramewireError } from '../errors.js';
import { TypedEmitter } from '../events.js';
import { nowUs } from '../frame/clock.js';
import type { EncodedFrame } from '../frame/frame.js';
import { StatsMeter, type StatsSnapshot } from '../frame/meter.js';
import { DropOldestQueue } from '../frame/queue.js';
import type { StatsBody, VideoParams, WelcomeBody } from '../protocol/messages.js';
import { backoffMs, isFatalCode } from '../protocol/session.js';
import { ClientConnection, sleep, type ConnectOptions } from './connection.js';
import type { DisconnectInfo } from './publication.js';
import { parseStreamUrl } from './url.js';

/** Options for {@link subscribe}. */
export interface SubscribeOptions extends ConnectOptions, VideoParams {
  /** Reconnect with backoff when the relay goes away. Default true. */
  reconnect?: boolean;
  /** Frames held for a slow consumer before the oldest is dropped. Default 2. */
  queueSize?: number;
  /** Called when the relay says the stream went live or not: a `live` listener in place from the start. */
  onLive?(live: boolean): void;
  /** Called on each (re)connect with the relay's welcome: a `connected` listener in place from the start. */
  onWelcome?(welcome: WelcomeBody): void;
  /** Called when a connection ends (a `disconnected` listener in place from the start); `willRetry` says whether a reconnect follows. */
  onDisconnect?(reason: string, willRetry: boolean): void;
}

/**
 * Events of a {@link Subscription} (`sub.on('live', …)`). A throwing
 * listener is reported as `listenererror` and never disturbs the
 * subscription or its frames.
 */
export interface SubscriptionEvents {
  /** The relay welcomed this viewer: after each (re)connect. */
  connected: [welcome: WelcomeBody];
  /** A connection ended; see {@link DisconnectInfo.willRetry}. */
  disconnected: [info: DisconnectInfo];
  /** The stream went live (a publisher is sending) or stopped being live (no publisher, or this viewer is disconnected). */
  live: [live: boolean];
  /** A fatal error ended the subscription (refused, bad token, …); iteration throws it too, and `ready` rejects with it if it came first. */
  error: [error: FramewireError];
  /** The subscription ended (`close()`, `break`, the signal, or a fatal error). Emitted once. */
  close: [];
}

/** Viewer-side figures: the meter's snapshot plus connection state. */
export interface SubscriptionStats extends StatsSnapshot {
  connected: boolean;
  live: boolean;
  /** UDP: fragments the network lost (repaired or not), since the start. 0 on TCP. */
  fragmentsLost: number;
  /** UDP: frames delivered whole thanks to NACK or FEC repair, since the start. 0 on TCP. */
  framesRepaired: number;
  /** UDP: the current session's loss and repair counters (see UdpStats). */
  udp?: Record<string, number>;
  /** Frames the relay could not decode for this viewer (invalid frames, a rendition that failed): missing, not lost. */
  framesNotDecodable: number;
  /** Frames the publisher never sent (it drops frames while backed up): missing, not lost. */
  framesDroppedByPublisher: number;
  /**
   * The relay's clock minus this machine's, ms, as ping/pong estimates it (the sample of least
   * round-trip time over about a minute); latency figures are corrected by it. null when not connected.
   */
  clockOffsetMs: number | null;
}

/** The relay's counts of frames missing from this viewer's sequence for reasons other than its wire (stats keys, §8). */
interface NotLost {
  skipped: number;
  notDecodable: number;
  droppedByPublisher: number;
}

const noneMissing = (): NotLost => ({ skipped: 0, notDecodable: 0, droppedByPublisher: 0 });

/** Codes after which reconnecting cannot help. */

/**
 * A live subscription to one stream: an async iterable of frames whose
 * `captureUs` is converted to this machine's clock, so
 * `nowUs() - frame.captureUs` is the true end-to-end latency.
 */
export class Subscription extends TypedEmitter<SubscriptionEvents> implements AsyncIterable<EncodedFrame> {
  private readonly meter = new StatsMeter();
  private readonly queue: DropOldestQueue<EncodedFrame>;
  private conn: ClientConnection | undefined;
  private stopped = false;
  private live = false;
  /** Counts of earlier connections, and of the current one (cumulative since its welcome). */
  private missingBase = noneMissing();
  private missingConn = noneMissing();
  private transportBase = { fragmentsLost: 0, framesRepaired: 0 };
  private readonly abort = new AbortController();
  /** Resolves with the first welcome; rejects if the first attempt fails for good. */
  readonly ready: Promise<WelcomeBody>;

  /** @internal use {@link subscribe} */
  constructor(
    url: string,
    private readonly options: SubscribeOptions,
  ) {
    super();
    const { onLive, onWelcome, onDisconnect } = options;
    if (onLive) this.on('live', (live) => onLive(live));
    if (onWelcome) this.on('connected', (w) => onWelcome(w));
    if (onDisconnect) this.on('disconnected', (d) => onDisconnect(d.reason, d.willRetry));
    this.queue = new DropOldestQueue<EncodedFrame>(options.queueSize ?? 2, () => this.meter.addDropped());
    const parsed = parseStreamUrl(url);
    let resolveReady!: (w: WelcomeBody) => void;
    let rejectReady!: (e: unknown) => void;
    this.ready = new Promise((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    this.ready.catch(() => undefined);
    options.signal?.addEventListener('abort', () => this.close(), { once: true });
    if (options.signal?.aborted) this.close();
    void this.run(parsed, resolveReady, rejectReady);
  }

  private async run(
    url: ReturnType<typeof parseStreamUrl>,
    resolveReady: (w: WelcomeBody) => void,
    rejectReady: (e: unknown) => void,
  ): Promise<void> {
    const o = this.options;
    const params: VideoParams = {};
    for (const k of ['width', 'height', 'fps', 'quality'] as const) if (o[k] !== undefined) params[k] = o[k];
    let attempt = 0;
    let everConnected = false;
    while (!this.stopped) {
      let ended: { reason: string; error: FramewireError | undefined } | undefined;
      let onEnd: (() => void) | undefined;
      const closed = new Promise<void>((resolve) => (onEnd = resolve));
      try {
        const conn = await ClientConnection.open(
          url,
          { role: 'view', stream: url.stream, token: o.token ?? url.token, params, client: 'framewire-node', acks: true },
          { ...o, signal: this.abort.signal },
          {
            onFrame: (msg, arrivalUs) => this.onFrame(msg.frame, arrivalUs),
            onStats: (body) => this.onStats(body),
            onClose: (reason, error) => {
              ended = { reason, error };
              onEnd?.();
            },
          },
        );
        this.conn = conn;
        attempt = 0;
        everConnected = true;
        this.missingConn = noneMissing();
        this.meter.resetSequence();
        this.safeEmit('connected', conn.welcome);
        this.setLive(conn.welcome.live);
        resolveReady(conn.welcome);
        await closed;
      } catch (err) {
        const coded = FramewireError.from(err, 'the subscriber connect');
        ended = { reason: coded.message, error: coded };
      }
      const t = this.conn?.channel.transportStats();
      this.transportBase.fragmentsLost += t?.fragmentsLost ?? 0;
      this.transportBase.framesRepaired += t?.framesRepaired ?? 0;
      this.conn = undefined;
      for (const k of ['skipped', 'notDecodable', 'droppedByPublisher'] as const) this.missingBase[k] += this.missingConn[k];
      this.missingConn = noneMissing();
      this.setLive(false);
      if (this.stopped) break;
      const code = ended?.error?.code;
      const retry = (o.reconnect ?? true) && !(code && isFatalCode(code, 'view'));
      this.safeEmit('disconnected', { reason: ended?.reason ?? 'closed', willRetry: retry, error: ended?.error });
      if (!retry) {
        const err = ended?.error ?? new FramewireError(ErrorCodes.CONNECTION_CLOSED, ended?.reason ?? 'connection closed');
        if (!everConnected) rejectReady(err);
        this.stopped = true;
        this.queue.fail(err);
        this.safeEmit('error', err);
        this.safeEmit('close');
        return;
      }
      try {
        await sleep(backoffMs(attempt++), this.abort.signal);
      } catch {
        break;
      }
    }
    rejectReady(new FramewireError(ErrorCodes.ABORTED, 'subscription closed'));
    this.queue.close();
  }

  private onFrame(frame: EncodedFrame, arrivalUs: number): void {
    // Ack on arrival (not on consumption): a slow consumer is handled by the
    // local drop-oldest queue, and the relay keeps only a window in flight.
    this.conn?.send({ type: 'ack', body: { seq: frame.seq } });
    const offset = this.conn?.offsetUs ?? 0;
    const local: EncodedFrame = { ...frame, captureUs: Math.round(frame.captureUs - offset) };
    this.meter.record(local, arrivalUs, arrivalUs - local.captureUs);
    this.queue.push(local);
  }

  private onStats(body: StatsBody): void {
    const count = (key: string): number => {
      const v = body[key];
      return typeof v === 'number' && v >= 0 ? v : 0;
    };
    this.missingConn = {
      skipped: count('framesSkipped') + count('framesDecimated'),
      notDecodable: count('framesNotDecodable'),
      droppedByPublisher: count('framesDroppedByPublisher'),
    };
    // The meter counts as lost every gap it is not told of: tell it all that the wire did not lose.
    const m = this.missing();
    this.meter.setSkipped(m.skipped + m.notDecodable + m.droppedByPublisher);
    if (typeof body.live === 'boolean' && body.live !== this.live) {
      this.meter.resetSequence();
      this.setLive(body.live);
    }
  }

  private setLive(live: boolean): void {
    if (live === this.live) return;
    this.live = live;
    if (!this.stopped) this.safeEmit('live', live);
  }

  private missing(): NotLost {
    const b = this.missingBase;
    const c = this.missingConn;
    return {
      skipped: b.skipped + c.skipped,
      notDecodable: b.notDecodable + c.notDecodable,
      droppedByPublisher: b.droppedByPublisher + c.droppedByPublisher,
    };
  }

  /** Figures over the last second. `framesLost` counts only what the wire lost. */
  stats(): SubscriptionStats {
    this.meter.rttMs = this.conn ? Math.round(this.conn.clockSync.rttUs / 10) / 100 : null;
    const t = this.conn?.channel.transportStats();
    const m = this.missing();
    return {
      ...this.meter.snapshot(nowUs()),
      framesSkipped: m.skipped,
      framesNotDecodable: m.notDecodable,
      framesDroppedByPublisher: m.droppedByPublisher,
      connected: this.conn !== undefined,
      live: this.live,
      clockOffsetMs: this.conn?.clockSync.synced ? Math.round(this.conn.clockSync.offsetUs / 10) / 100 : null,
      fragmentsLost: this.transportBase.fragmentsLost + (t?.fragmentsLost ?? 0),
      framesRepaired: this.transportBase.framesRepaired + (t?.framesRepaired ?? 0),
      ...(t ? { udp: t } : {}),
    };
  }

  /** Stops: says bye, ends iteration. Idempotent. */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.conn?.close('viewer closing');
    this.abort.abort();
    this.queue.close();
    this.safeEmit('close');
  }

  [Symbol.asyncIterator](): AsyncIterator<EncodedFrame> {
    const it = this.queue[Symbol.asyncIterator]();
    return {
      next: () => it.next(),
      return: async () => {
        this.close();
        return { value: undefined, done: true };
      },
    };
  }
}

/**
 * Subscribes to a stream. Iterate the result for frames; stop with
 * `close()`, `break`, or the AbortSignal.
 *
 * @example
 * ```ts
 * const sub = subscribe('tcp://127.0.0.1:7070/cam', { fps: 15 });
 * for await (const frame of sub) console.log(frame.seq, nowUs() - frame.captureUs);
 * ```
 */
export function subscribe(url: string, options: SubscribeOptions = {}): Subscription {
  return new Subscription(url, options);
}
