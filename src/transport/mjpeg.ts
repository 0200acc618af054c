import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes } from '../errors.js';
import { nowUs } from '../frame/clock.js';
import { MessageType, readU64 } from '../protocol/header.js';
import { type ControlMessage, type HelloBody, type Message } from '../protocol/messages.js';
import { decodeMessage } from '../protocol/parser.js';
import { MessageChannel } from './channel.js';
import { requestRemote, sendHttpError } from './http-util.js';
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
 * Decodes a control message a relay session sends through a synthetic
 * channel. Only control messages are ever decoded here (frames are read
 * from their header in place).
 */
export function decodeControl(parts: readonly Buffer[]): ControlMessage | undefined {
  const buf = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  const msg = decodeMessage(buf);
  return msg.type === 'frame' ? undefined : msg;
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
export class MjpegViewerChannel extends MessageChannel {
  readonly transport = 'mjpeg';
  readonly remote: string;
  private isClosed = false;
  private started = false;
  private live = true;
  private noLiveTimer: NodeJS.Timeout | undefined;
  private lastWidth = 640;
  private lastHeight = 360;

  constructor(
    req: IncomingMessage,
    readonly res: ServerResponse,
    options: MjpegViewerOptions,
  ) {
    super();
    this.remote = requestRemote(req);
    res.on('drain', () => this.safeEmit('drain'));
    res.on('close', () => this.finish(undefined));
    res.on('error', (err) => this.finish(err));
    req.socket.setNoDelay(true);
    const hello: HelloBody = { role: 'view', stream: options.stream, client: String(req.headers['user-agent'] ?? 'http').slice(0, 128) };
    if (options.token !== undefined) hello.token = options.token;
    if (options.fps !== undefined) hello.params = { fps: options.fps };
    // After the relay has attached its session to this channel.
    setImmediate(() => this.deliver({ type: 'hello', body: hello }));
  }

  get backedUp(): boolean {
    return this.res.writableNeedDrain;
  }

  get queuedBytes(): number {
    return this.res.writableLength;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  send(u8parts: readonly Uint8Array[]): void {
    if (this.isClosed) return;
    const parts = u8parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength));
    const head = parts[0];
    if (!head || head.length < 12) return;
    if (head[3] === MessageType.frame) {
      if (!this.started) return;
      this.lastWidth = head.readUInt16BE(24);
      this.lastHeight = head.readUInt16BE(26);
      this.writeFrame(head, parts[1] ?? head.subarray(32));
      return;
    }
    const msg = decodeControl(parts);
    if (!msg) return;
    switch (msg.type) {
      case 'welcome':
        this.start();
        this.setLive(msg.body.live !== false);
        return;
      case 'stats':
        if (typeof msg.body.live === 'boolean') this.setLive(msg.body.live);
        return;
      case 'ping':
        this.deliver({ type: 'pong', body: { id: msg.body.id, t0: msg.body.t0, t1: nowUs(), t2: nowUs() } });
        return;
      case 'error':
        sendHttpError(this.res, msg.body.code, msg.body.message);
        return;
      case 'bye':
        this.end();
        return;
      default:
        return;
    }
  }

  end(): void {
    if (this.isClosed) return;
    if (!this.res.headersSent) {
      sendHttpError(this.res, ErrorCodes.CONNECTION_CLOSED, 'the relay closed this stream');
      return;
    }
    this.res.end();
  }

  destroy(): void {
    this.res.destroy();
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
    if (live || this.isClosed) return;
    const show = (): void => {
      void noLiveVideoJpeg(this.lastWidth, this.lastHeight).then(
        (jpeg) => {
          if (!this.live && !this.isClosed && !this.res.writableNeedDrain) this.writePart(jpeg, nowUs(), undefined);
        },
        () => undefined,
      );
    };
    show();
    this.noLiveTimer = setInterval(show, NO_LIVE_REPEAT_MS);
    this.noLiveTimer.unref();
  }

  private writeFrame(header: Buffer, payload: Buffer): void {
    this.writePart(payload, readU64(header, 16), header.readUInt32BE(12));
  }

  private writePart(payload: Buffer, captureUs: number, seq: number | undefined): void {
    const ts = `${Math.floor(captureUs / 1e6)}.${String(captureUs % 1e6).padStart(6, '0')}`;
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

  /** Hands a synthetic message to the relay session on the next turn (never re-entrantly inside send). */
  private deliver(msg: Message): void {
    queueMicrotask(() => {
      if (!this.isClosed) this.safeEmit('message', msg);
    });
  }

  private finish(err: Error | undefined): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearInterval(this.noLiveTimer);
    this.safeEmit('close', err);
  }
}
