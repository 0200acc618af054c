import { ErrorCodes, FramewireError, isFramewireError } from '../errors.js';
import { TypedEmitter } from '../events.js';
import { nowUs } from '../frame/clock.js';
import type { EncodedFrame, FrameSource } from '../frame/frame.js';
import { StatsMeter, type StatsSnapshot } from '../frame/meter.js';
import type { VideoParams, WelcomeBody } from '../protocol/messages.js';
import { backoffMs, isFatalCode } from '../protocol/session.js';
import { ClientConnection, sleep, type ConnectOptions } from './connection.js';
import type { StreamUrl } from './url.js';

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

/** Publisher-side figures. */
export interface PublicationStats extends StatsSnapshot {
  connected: boolean;
  /** Frames not sent: the socket was backed up (source publisher) or the relay away (both), or an encode failed. */
  framesNotSent: number;
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
            const coded = FramewireError.from(err, 'the publisher connect');
            if (first || isFatalCode(coded.code, 'publish') || this.options.reconnect === false) {
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
      this.fail(
        isFramewireError(err) ? err : new FramewireError(ErrorCodes.SOURCE_FAILED, `the source failed: ${String(err)}`, { cause: err }),
      );
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
    c.channel.send({ type: 'frame', frame: sent });
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
    const retry = (this.options.reconnect ?? true) && !(error && isFatalCode(error.code, 'publish'));
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
