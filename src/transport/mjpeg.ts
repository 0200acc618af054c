import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes } from '../errors.js';
import type { EncodedFrame } from '../frame/frame.js';
import type { StatsBody, WelcomeBody } from '../protocol/messages.js';
import { HttpChannel } from './http-channel.js';
import { sendHttpError } from './http-util.js';
import { noLiveVideoJpeg } from '../codec/placeholder.js';

/** How often MJPEG clients get the "no live video" picture while a stream has no publisher. */
export const NO_LIVE_REPEAT_MS = 2000;

/** The multipart boundary of MJPEG responses. */
export const MJPEG_BOUNDARY = 'fwframe';

/** Options for {@link MjpegViewerChannel}. */
export interface MjpegViewerOptions {
  stream: string;
  token?: string | undefined;
  /** Most frames per second to send (the relay skips the rest). */
  fps?: number | undefined;
}

/**
 * A relay viewer over one HTTP response: MJPEG out
 * (`multipart/x-mixed-replace`), as a browser `<img>`, ffmpeg, VLC or
 * OpenCV read it. It says `hello {role:'view'}` for the HTTP client, so the
 * relay treats it as any viewer: latest-frame-wins on the response's socket
 * (at most one frame waits, as ustreamer does), fps cap, token, stats.
 *
 * The response starts (200, multipart headers) when the relay welcomes the
 * viewer; a refusal becomes an HTTP error with its code. Each frame is
 *
 * ```
 * --fwframe CRLF
 * Content-Type: image/jpeg CRLF
 * Content-Length: N CRLF
 * X-Timestamp: <capture time, s.µs, relay clock> CRLF
 * X-Frame-Seq: <seq> CRLF
 * CRLF
 * <N bytes of JPEG> CRLF
 * ```
 *
 * While the stream has no publisher, a "no live video" picture is sent
 * instead, every 2 s, with `X-No-Live-Video: 1` in place of `X-Frame-Seq`.
 *
 * Pings from the relay are answered here (the HTTP client cannot).
 */
export class MjpegViewerChannel extends HttpChannel {
  readonly transport = 'mjpeg';
  private started = false;
  private live = true;
  private noLiveTimer: NodeJS.Timeout | undefined;
  private lastWidth = 640;
  private lastHeight = 360;

  constructor(req: IncomingMessage, res: ServerResponse, options: MjpegViewerOptions) {
    super(req, res, {
      role: 'view',
      stream: options.stream,
      token: options.token,
      params: options.fps !== undefined ? { fps: options.fps } : undefined,
    });
    res.on('drain', () => this.safeEmit('drain'));
    res.on('close', () => this.finish(undefined));
    res.on('error', (err) => this.finish(err));
    req.socket.setNoDelay(true);
  }

  get backedUp(): boolean {
    return this.res.writableNeedDrain;
  }

  get queuedBytes(): number {
    return this.res.writableLength;
  }

  protected onWelcome(body: WelcomeBody): void {
    this.start();
    this.setLive(body.live !== false);
  }

  protected override onStats(body: StatsBody): void {
    if (typeof body.live === 'boolean') this.setLive(body.live);
  }

  protected override onFrame(frame: EncodedFrame): void {
    if (!this.started) return;
    this.lastWidth = frame.width;
    this.lastHeight = frame.height;
    this.writePart(frame.data, frame.captureUs, frame.seq);
  }

  protected shutdown(): void {
    if (!this.res.headersSent) {
      sendHttpError(this.res, ErrorCodes.CONNECTION_CLOSED, 'the relay closed this stream');
      return;
    }
    this.res.end();
  }

  protected abort(): void {
    this.res.destroy();
  }

  protected override released(): void {
    clearInterval(this.noLiveTimer);
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    // No chunked encoding: the multipart body goes to the socket as is, and the connection closes at its end.
    this.res.useChunkedEncodingByDefault = false;
    this.res.writeHead(200, {
      'Content-Type': `multipart/x-mixed-replace;boundary=${MJPEG_BOUNDARY}`,
      'Cache-Control': 'no-store, no-cache, must-revalidate, max-age=0',
      Pragma: 'no-cache',
      Expires: '0',
      Connection: 'close',
      'X-Accel-Buffering': 'no',
      'Access-Control-Allow-Origin': '*',
    });
    this.res.flushHeaders();
  }

  /**
   * While the stream has no publisher, MJPEG clients get a "no live video"
   * picture at once and then every {@link NO_LIVE_REPEAT_MS}, so players show
   * why nothing moves (and proxies see traffic), as ustreamer does.
   */
  private setLive(live: boolean): void {
    if (live === this.live && (live || this.noLiveTimer)) return;
    this.live = live;
    clearInterval(this.noLiveTimer);
    this.noLiveTimer = undefined;
    if (live || this.closed) return;
    const show = (): void => {
      void noLiveVideoJpeg(this.lastWidth, this.lastHeight).then(
        (jpeg) => {
          if (!this.live && !this.ending && !this.res.writableNeedDrain) this.writePart(jpeg, this.clock(), undefined);
        },
        () => undefined,
      );
    };
    show();
    this.noLiveTimer = setInterval(show, NO_LIVE_REPEAT_MS);
    this.noLiveTimer.unref();
  }

  /** One multipart part: its headers, the JPEG as it is (never copied), CRLF; corked into one write. */
  private writePart(payload: Uint8Array, captureUs: number, seq: number | undefined): void {
    const us = Math.max(0, Math.floor(captureUs));
    const ts = `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
    const partHead =
      `--${MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${payload.length}\r\n` +
      `X-Timestamp: ${ts}\r\n${seq === undefined ? 'X-No-Live-Video: 1' : `X-Frame-Seq: ${seq}`}\r\n\r\n`;
    const sock = this.res.socket;
    sock?.cork();
    this.res.write(partHead, 'latin1');
    this.res.write(payload);
    this.res.write('\r\n', 'latin1');
    sock?.uncork();
  }
}
