import { ErrorCodes, FramewireError, isFramewireError } from '../errors.js';
import { TypedEmitter } from '../events.js';
import { nowUs } from '../frame/clock.js';
import type { EncodedFrame, FrameSource } from '../frame/frame.js';
import { StatsMeter, type StatsSnapshot } from '../frame/meter.js';
import { encodeFrameHeader, type VideoParams, type WelcomeBody } from '../protocol/messages.js';
import { ClientConnection, backoffMs, sleep, type ConnectOptions } from './connection.js';
import { encodePicture, takePicture, type PendingPicture, type RawImage } from './push.js';
import { parseStreamUrl, type StreamUrl } from './url.js';

/** Options for {@link publish} with a source. */
export interface PublishOptions extends ConnectOptions {
  /** Reconnect with backoff when the relay goes away (frames meanwhile are dropped). Default true. */
  reconnect?: boolean;
  /** Close the source when publishing stops. Default true. */
  closeSource?: boolean;
  /** Called on each (re)connect: the same as a `connected` listener, but in place before the first one. */
  onWelcome?(welcome: WelcomeBody): void;
  /** Called when a connection ends (a `disconnected` listener in place from the start); `willRetry` says whether a reconnect follows. */
  onDisconnect?(reason: string, willRetry: boolean): void;
}

/**
 * Options for {@link publish} without a source (frames your code makes,
 * given to {@link PushPublication.send}). `width`, `height` and `fps` are
 * declared to the relay; raw pixels are encoded at `quality` (default 75)
 * and fitted inside `width`×`height` when given (never enlarged).
 */
export interface PushPublishOptions extends Omit<PublishOptions, 'closeSource'>, VideoParams {}

/** Publisher-side figures. */
export interface PublicationStats extends StatsSnapshot {
  connected: boolean;
  /** Frames not sent: the socket was backed up (source publisher) or the relay away (both), or an encode failed. */
  framesNotSent: number;
}

/** Figures of a {@link PushPublication}. */
export interface PushPublicationStats extends PublicationStats {
  /** Pictures `send()` took that a newer one replaced before they could go out (latest-frame-wins). */
  framesReplaced: number;
}

/** Why a connection ended, as the `disconnected` event tells it. */
export interface DisconnectInfo {
  reason: string;
  /** A reconnect follows (with backoff). */
  willRetry: boolean;
  /** The coded error that ended it, when there was one (the relay's, or ours). */
  error: FramewireError | undefined;
}

/**
 * Events of a {@link Publication} (`pub.on('disconnected', …)`). A throwing
 * listener is reported as `listenererror` and never disturbs the publication.
 */
export interface PublicationEvents {
  /** The relay welcomed this publisher: after each (re)connect. The first one has passed by the time `publish()` resolves. */
  connected: [welcome: WelcomeBody];
  /** A connection ended; see {@link DisconnectInfo.willRetry}. */
  disconnected: [info: DisconnectInfo];
  /** A fatal error ended the publication (refused, source failed, …); `done` rejects with it too. */
  error: [error: FramewireError];
  /** The publication ended (`close()`, the source ended, or a fatal error). Emitted once. */
  close: [];
}

/** Codes after which reconnecting cannot help. */
const FATAL: ReadonlySet<string> = new Set([ErrorCodes.UNAUTHORIZED, ErrorCodes.TLS, ErrorCodes.STREAM_BUSY, ErrorCodes.BAD_URL, ErrorCodes.BAD_VERSION, ErrorCodes.BAD_MESSAGE, ErrorCodes.BAD_FRAME]);

/** Quality raw pixels are encoded at when neither the options nor the relay say. */
const DEFAULT_QUALITY = 75;

/**
 * A running publication: frames go to the relay newest first — a frame that
 * cannot go out now (socket backed up, relay away) is not queued but
 * dropped and counted, so latency never builds up. Reconnects with backoff.
 * Made by {@link publish}.
 */
export class Publication extends TypedEmitter<PublicationEvents> {
  private readonly meter = new StatsMeter();
  private conn: ClientConnection | undefined;
  private stopped = false;
  private wireSeq = 0;
  private fatal: FramewireError | undefined;
  private wake: (() => void) | undefined;
  private readonly abort = new AbortController();
  private settleEnded!: () => void;
  /** @internal frames not sent, for subclasses */
  protected notSent = 0;
  /** Resolves with the first welcome; rejects (and closes the source) if the relay cannot be reached or refuses. */
  readonly ready: Promise<WelcomeBody>;
  /** Resolves when publishing ends (source ended or `close()`); rejects with the fatal error that ended it. */
  readonly done: Promise<void>;

  /** @internal use {@link publish} */
  constructor(
    private readonly url: StreamUrl,
    private readonly options: PublishOptions,
    private readonly source: FrameSource | undefined,
    private readonly params: VideoParams,
  ) {
    super();
    const { onWelcome, onDisconnect } = options;
    if (onWelcome) this.on('connected', (w) => onWelcome(w));
    if (onDisconnect) this.on('disconnected', (d) => onDisconnect(d.reason, d.willRetry));
    const ended = new Promise<void>((resolve) => (this.settleEnded = resolve));
    options.signal?.addEventListener('abort', () => this.close(), { once: true });
    this.ready = this.connectLoop();
    this.ready.catch(() => undefined);
    this.done = this.ready.then(async () => {
      if (this.source) await this.pump(this.source);
      await ended;
      if (this.fatal) throw this.fatal;
    });
    this.done.catch(() => undefined);
  }

  /** The relay's latest welcome. */
  get welcome(): WelcomeBody | undefined {
    return this.conn?.welcome;
  }

  /** True once the publication has ended (see the `close` event). */
  get closed(): boolean {
    return this.stopped;
  }

  /** Keeps one connection open: the first attempt resolves `ready`; later ones reconnect with backoff. */
  private connectLoop(): Promise<WelcomeBody> {
    return new Promise<WelcomeBody>((resolveReady, rejectReady) => {
      let first = true;
      const loop = async (): Promise<void> => {
        let attempt = 0;
        while (!this.stopped) {
          if (this.conn) {
            await new Promise<void>((resolve) => (this.wake = resolve));
            continue;
          }
          try {
            if (!first) await sleep(backoffMs(attempt++), this.abort.signal);
            const conn = await this.open();
            attempt = 0;
            this.conn = conn;
            this.safeEmit('connected', conn.welcome);
            if (first) resolveReady(conn.welcome);
            first = false;
          } catch (err) {
            if (this.stopped) break;
            const coded = isFramewireError(err) ? err : new FramewireError(ErrorCodes.CONNECTION_CLOSED, String(err));
            if (first || FATAL.has(coded.code) || this.options.reconnect === false) {
              this.safeEmit('disconnected', { reason: coded.message, willRetry: false, error: coded });
              this.fail(coded);
              if (first) rejectReady(coded);
              break;
            }
            this.safeEmit('disconnected', { reason: coded.message, willRetry: true, error: coded });
          }
        }
        if (first) rejectReady(this.fatal ?? new FramewireError(ErrorCodes.ABORTED, 'publication closed'));
      };
      void loop();
    });
  }

  private open(): Promise<ClientConnection> {
    const o = this.options;
    return ClientConnection.open(
      this.url,
      { role: 'publish', stream: this.url.stream, token: o.token ?? this.url.token, params: this.params, client: 'framewire-node' },
      { ...o, signal: this.abort.signal },
      { onClose: (r, e) => this.onConnClosed(r, e) },
    );
  }

  private async pump(source: FrameSource): Promise<void> {
    try {
      for await (const frame of source) {
        if (this.stopped) break;
        if (!this.sendFrame(frame)) this.notSent++;
      }
    } catch (err) {
      this.fail(isFramewireError(err) ? err : new FramewireError(ErrorCodes.SOURCE_FAILED, `the source failed: ${String(err)}`, { cause: err }));
    } finally {
      this.close();
    }
  }

  /**
   * @internal Sends one frame now if the connection can take it; false (not
   * sent) when the relay is away or the socket is backed up.
   */
  protected sendFrame(frame: Omit<EncodedFrame, 'seq'>): boolean {
    const c = this.conn;
    if (!c || c.channel.backedUp) return false;
    // The wire seq counts frames actually sent, so frames this publisher could
    // not send (backed up, disconnected, replaced) never show up as loss downstream.
    const sent: EncodedFrame = { ...frame, seq: this.wireSeq };
    this.wireSeq = (this.wireSeq + 1) >>> 0;
    c.channel.send([encodeFrameHeader(sent), sent.data]);
    const now = nowUs();
    this.meter.record(sent, now, now - frame.captureUs);
    return true;
  }

  /** @internal the open connection, for subclasses */
  protected get connection(): ClientConnection | undefined {
    return this.conn;
  }

  /** @internal the fatal error, if one ended the publication */
  protected get fatalError(): FramewireError | undefined {
    return this.fatal;
  }

  private onConnClosed(reason: string, error: FramewireError | undefined): void {
    this.conn = undefined;
    if (this.stopped) return;
    const retry = (this.options.reconnect ?? true) && !(error && FATAL.has(error.code));
    this.safeEmit('disconnected', { reason, willRetry: retry, error });
    if (!retry) this.fail(error ?? new FramewireError(ErrorCodes.CONNECTION_CLOSED, reason));
    this.wake?.();
  }

  /** Ends the publication with a fatal error. */
  private fail(error: FramewireError): void {
    if (this.stopped) return;
    this.fatal = error;
    this.safeEmit('error', error);
    this.close();
  }

  /** Figures over the last second. */
  stats(): PublicationStats {
    this.meter.rttMs = this.conn ? Math.round(this.conn.clockSync.rttUs / 10) / 100 : null;
    return { ...this.meter.snapshot(nowUs()), connected: this.conn !== undefined, framesNotSent: this.notSent };
  }

  /** Stops publishing: bye to the relay, closes the source (unless `closeSource: false`). Idempotent. */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    const c = this.conn;
    this.conn = undefined;
    c?.close('publisher closing');
    this.wake?.();
    if (this.source && (this.options.closeSource ?? true)) this.source.close();
    this.safeEmit('close');
    this.settleEnded();
  }
}

/**
 * A publication of frames your own code makes (imagezmq's `send_image`,
 * vidgear's `NetGear.send`): call {@link send} whenever a picture is ready.
 * Latest-frame-wins: while a frame is being encoded or the socket is backed
 * up, the newest picture given waits in a single slot and each one it
 * replaces is counted (`framesReplaced`) — there is never a queue. While the
 * relay is away (reconnecting) frames are dropped and counted
 * (`framesNotSent`).
 */
export class PushPublication extends Publication {
  /** The one picture waiting for the wire, and the settle function of its `send()` promise. */
  private pending: { picture: PendingPicture; settle: (sent: boolean) => void } | undefined;
  private flushing = false;
  private replaced = 0;
  private readonly defaultQuality: number;

  /** @internal use {@link publish} without a source */
  constructor(url: StreamUrl, options: PushPublishOptions, params: VideoParams) {
    super(url, options, undefined, params);
    this.defaultQuality = params.quality ?? DEFAULT_QUALITY;
  }

  /**
   * Sends one picture: JPEG bytes as they are (keep them unchanged
   * afterwards), or raw pixels `{ data, width, height, format }` encoded
   * with sharp at the negotiated quality (and fitted inside the granted
   * size, if any); raw `data` is copied, so the buffer may be reused at once.
   *
   * Returns at once; the picture goes out as soon as the link can take it.
   * The promise (it never rejects) says what became of it: true once it
   * was written to the connection, false if a newer picture replaced it, the
   * relay was away, or the publication closed first. Awaiting it paces a
   * producer to the link; not awaiting it is latest-frame-wins.
   *
   * @param captureUs - when the picture was taken, µs on {@link nowUs}'s clock. Default: now.
   * @throws FramewireError (synchronously) `FW_NOT_JPEG` for bytes that are
   *   not a JPEG, `FW_BAD_FRAME` when `data.length` ≠ width × height ×
   *   channels, `FW_BAD_OPTION` for a bad size or format; after the
   *   publication ended, its fatal error or `FW_CONNECTION_CLOSED`.
   */
  send(picture: Uint8Array | RawImage, captureUs: number = nowUs()): Promise<boolean> {
    if (this.closed) throw this.fatalError ?? new FramewireError(ErrorCodes.CONNECTION_CLOSED, 'the publication is closed');
    const taken = takePicture(picture, captureUs);
    return new Promise<boolean>((settle) => {
      if (this.pending) {
        this.replaced++;
        this.pending.settle(false);
      }
      this.pending = { picture: taken, settle };
      void this.flush();
    });
  }

  /** Figures over the last second, with the pictures replaced before they went out. */
  override stats(): PushPublicationStats {
    return { ...super.stats(), framesReplaced: this.replaced };
  }

  /** Sends the pending picture, then the next one given meanwhile, until the slot is empty. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (let p = this.pending; p && !this.closed; p = this.pending) {
        const c = this.connection;
        if (!c) {
          this.pending = undefined;
          this.notSent++;
          p.settle(false);
          continue;
        }
        if (c.channel.backedUp) {
          // Wait with the picture in the slot: newer ones replace it meanwhile.
          await this.writable(c);
          continue;
        }
        this.pending = undefined;
        const g = c.welcome.granted;
        let frame: Omit<EncodedFrame, 'seq'>;
        try {
          frame = await encodePicture(p.picture, { width: g.width, height: g.height, quality: g.quality }, this.defaultQuality);
        } catch (err) {
          this.notSent++;
          p.settle(false);
          process.emitWarning(`framewire: encoding a ${p.picture.kind} picture failed: ${String(err)}`);
          continue;
        }
        const sent = this.sendFrame(frame);
        if (!sent) this.notSent++;
        p.settle(sent);
      }
    } finally {
      this.flushing = false;
    }
    if (this.closed && this.pending) {
      this.pending.settle(false);
      this.pending = undefined;
    }
  }

  /** Resolves when `c` can take more (drain), closes, or the publication ends. */
  private writable(c: ClientConnection): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        c.channel.off('drain', done);
        c.channel.off('close', done);
        this.off('close', done);
        resolve();
      };
      c.channel.on('drain', done);
      c.channel.on('close', done);
      this.on('close', done);
    });
  }
}

/**
 * Publishes to a relay. Resolves once the relay has welcomed the publisher;
 * rejects with a coded error (e.g. FW_STREAM_BUSY, FW_UNAUTHORIZED,
 * FW_CONNECTION_CLOSED) if it cannot start.
 *
 * With a source, its frames are sent until it ends or `close()`. Without
 * one, the result's `send()` takes the pictures your code makes.
 *
 * @example
 * ```ts
 * const pub = await publish('tcp://127.0.0.1:7070/cam', testPattern({ width: 1280, height: 720, fps: 30 }));
 * setTimeout(() => pub.close(), 10_000);
 * await pub.done;
 * ```
 * @example
 * ```ts
 * const pub = await publish('tcp://127.0.0.1:7070/bot', { quality: 70 });
 * await pub.send({ data: rgb, width: 320, height: 240, format: 'rgb' }); // or pub.send(jpegBytes)
 * pub.close(); // a picture not yet out when close() comes is dropped: await its send() first
 * ```
 */
export function publish(url: string, options?: PushPublishOptions): Promise<PushPublication>;
export function publish(url: string, source: FrameSource, options?: PublishOptions): Promise<Publication>;
export async function publish(url: string, sourceOrOptions?: FrameSource | PushPublishOptions, options: PublishOptions = {}): Promise<Publication> {
  const parsed = parseStreamUrl(url);
  let pub: Publication;
  if (isFrameSource(sourceOrOptions)) {
    const info = sourceOrOptions.info;
    const params: VideoParams = { width: info.width, height: info.height };
    // fps 0 means "as fast as the source goes": no nominal rate to declare.
    if (info.fps > 0) params.fps = info.fps;
    pub = new Publication(parsed, options, sourceOrOptions, params);
  } else {
    const o = sourceOrOptions ?? {};
    pub = new PushPublication(parsed, o, pushParams(o));
  }
  await pub.ready;
  return pub;
}

function isFrameSource(v: unknown): v is FrameSource {
  return typeof v === 'object' && v !== null && typeof (v as Partial<FrameSource>)[Symbol.asyncIterator] === 'function' && 'info' in v;
}

/** The hello's params from push options, checked (FW_BAD_OPTION) before anything goes on the wire. */
function pushParams(o: VideoParams): VideoParams {
  const params: VideoParams = {};
  const ranges = { width: [1, 65_535, true], height: [1, 65_535, true], fps: [0.1, 1000, false], quality: [1, 100, true] } as const;
  for (const key of ['width', 'height', 'fps', 'quality'] as const) {
    const v = o[key];
    if (v === undefined) continue;
    const [min, max, whole] = ranges[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (whole && !Number.isInteger(v))) {
      throw new FramewireError(ErrorCodes.BAD_OPTION, `${key} must be a ${whole ? 'whole ' : ''}number in [${min}, ${max}], got ${String(v)}`);
    }
    params[key] = v;
  }
  return params;
}
