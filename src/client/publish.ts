import { ErrorCodes, FramewireError } from '../errors.js';
import { nowUs } from '../frame/clock.js';
import type { EncodedFrame, FrameSource } from '../frame/frame.js';
import { StatsMeter, type StatsSnapshot } from '../frame/meter.js';
import { encodeFrameHeader, type VideoParams, type WelcomeBody } from '../protocol/messages.js';
import { ClientConnection, backoffMs, sleep, type ConnectOptions } from './connection.js';
import { parseStreamUrl, type StreamUrl } from './url.js';

/** Options for {@link publish}. */
export interface PublishOptions extends ConnectOptions {
  /** Reconnect with backoff when the relay goes away (frames meanwhile are dropped). Default true. */
  reconnect?: boolean;
  /** Close the source when publishing stops. Default true. */
  closeSource?: boolean;
  /** Called on each (re)connect. */
  onWelcome?(welcome: WelcomeBody): void;
  /** Called when a connection ends; `willRetry` says whether a reconnect follows. */
  onDisconnect?(reason: string, willRetry: boolean): void;
}

/** Publisher-side figures. */
export interface PublicationStats extends StatsSnapshot {
  connected: boolean;
  /** Frames the source made that were not sent (socket backed up, or disconnected). */
  framesNotSent: number;
}

const FATAL: ReadonlySet<string> = new Set([ErrorCodes.UNAUTHORIZED, ErrorCodes.TLS, ErrorCodes.STREAM_BUSY, ErrorCodes.BAD_URL, ErrorCodes.BAD_VERSION, ErrorCodes.BAD_MESSAGE, ErrorCodes.BAD_FRAME]);

/**
 * A running publication: frames from a source go to the relay, newest
 * first — when the socket is backed up the frame is not sent (and counted),
 * so latency never builds up in a queue.
 */
export class Publication {
  private readonly meter = new StatsMeter();
  private conn: ClientConnection | undefined;
  private stopped = false;
  private notSent = 0;
  private wireSeq = 0;
  private fatal: FramewireError | undefined;
  private wake: (() => void) | undefined;
  private readonly abort = new AbortController();
  /** Resolves with the first welcome; rejects (and closes the source) if the relay cannot be reached or refuses. */
  readonly ready: Promise<WelcomeBody>;
  /** Resolves when publishing ends (source ended or close()); rejects on a fatal error after the start. */
  readonly done: Promise<void>;

  /** @internal use {@link publish} */
  constructor(
    private readonly url: StreamUrl,
    private readonly source: FrameSource,
    private readonly options: PublishOptions,
  ) {
    options.signal?.addEventListener('abort', () => this.close(), { once: true });
    this.ready = this.connectLoop();
    this.done = this.ready.then(() => this.pump());
    this.done.catch(() => undefined);
  }

  /** The relay's latest welcome. */
  get welcome(): WelcomeBody | undefined {
    return this.conn?.welcome;
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
            const conn = await openPublisher(this.url, this.source, this.options, this.abort.signal, (r, e) => this.onConnClosed(r, e));
            attempt = 0;
            this.conn = conn;
            this.options.onWelcome?.(conn.welcome);
            if (first) resolveReady(conn.welcome);
            first = false;
          } catch (err) {
            if (this.stopped) break;
            const coded = FramewireError.from(err, 'the publisher connect');
            if (first || FATAL.has(coded.code) || this.options.reconnect === false) {
              this.fatal = coded;
              this.options.onDisconnect?.(coded.message, false);
              this.close();
              if (first) rejectReady(coded);
              break;
            }
            this.options.onDisconnect?.(coded.message, true);
          }
        }
        if (first) rejectReady(this.fatal ?? new FramewireError(ErrorCodes.ABORTED, 'publication closed'));
      };
      void loop();
    });
  }

  private async pump(): Promise<void> {
    try {
      for await (const frame of this.source) {
        if (this.stopped) break;
        const c = this.conn;
        if (!c || c.channel.backedUp) {
          this.notSent++;
          continue;
        }
        // The wire seq counts frames actually sent, so frames this publisher could
        // not send (backed up, disconnected) never show up as loss downstream.
        const sent: EncodedFrame = { ...frame, seq: this.wireSeq };
        this.wireSeq = (this.wireSeq + 1) >>> 0;
        c.channel.send([encodeFrameHeader(sent), sent.data]);
        const now = nowUs();
        this.meter.record(frame, now, now - frame.captureUs);
      }
    } finally {
      this.close();
    }
    if (this.fatal) throw this.fatal;
  }

  private onConnClosed(reason: string, error: FramewireError | undefined): void {
    this.conn = undefined;
    if (this.stopped) return;
    const retry = (this.options.reconnect ?? true) && !(error && FATAL.has(error.code));
    this.options.onDisconnect?.(reason, retry);
    if (!retry) {
      this.fatal = error ?? new FramewireError(ErrorCodes.CONNECTION_CLOSED, reason);
      this.close();
    }
    this.wake?.();
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
    if (this.options.closeSource ?? true) this.source.close();
  }
}

function openPublisher(
  url: StreamUrl,
  source: FrameSource,
  o: PublishOptions,
  signal: AbortSignal | undefined,
  onClose: (reason: string, error: FramewireError | undefined) => void,
): Promise<ClientConnection> {
  const params: VideoParams = { width: source.info.width, height: source.info.height };
  // fps 0 means "as fast as the source goes": no nominal rate to declare.
  if (source.info.fps > 0) params.fps = source.info.fps;
  return ClientConnection.open(
    url,
    { role: 'publish', stream: url.stream, token: o.token ?? url.token, params, client: 'framewire-node' },
    { ...o, signal: signal ?? o.signal },
    { onClose },
  );
}

/**
 * Publishes a source to a relay. Resolves once the relay has welcomed the
 * publisher; rejects with a coded error (e.g. FW_STREAM_BUSY,
 * FW_UNAUTHORIZED, FW_CONNECTION_CLOSED) if it cannot start.
 *
 * @example
 * ```ts
 * const pub = await publish('tcp://127.0.0.1:7070/cam', testPattern({ width: 1280, height: 720, fps: 30 }));
 * setTimeout(() => pub.close(), 10_000);
 * await pub.done;
 * ```
 */
export async function publish(url: string, source: FrameSource, options: PublishOptions = {}): Promise<Publication> {
  const pub = new Publication(parseStreamUrl(url), source, options);
  await pub.ready;
  return pub;
}
