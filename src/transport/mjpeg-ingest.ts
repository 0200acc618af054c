import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes, FramewireError } from '../errors.js';
import type { Clock } from '../frame/clock.js';
import { MultipartParser, boundaryFromContentType } from '../codec/multipart.js';
import { jpegSize } from '../codec/jpeg.js';
import type { ErrorBody } from '../protocol/messages.js';
import { HttpChannel } from './http-channel.js';

/** Options for {@link MjpegIngestChannel}. */
export interface MjpegIngestOptions {
  stream: string;
  token?: string | undefined;
  /** Largest JPEG accepted, bytes. Default 16 MiB. */
  maxFrameBytes?: number;
  /** Capture clock (µs). Default {@link nowUs}. */
  clock?: Clock;
}

/**
 * A relay publisher over one HTTP upload (`POST` or `PUT`) whose body is
 * multipart JPEG, as `ffmpeg -f mpjpeg http://…/streams/NAME` sends it. It
 * says `hello {role:'publish'}` for the uploader, reads the body only once
 * the relay welcomed it, and turns each part into a frame message: seq +1
 * per part, capture time = arrival time, size from the JPEG's SOF marker. A
 * part that is not a JPEG is a protocol error (FW_NOT_JPEG, HTTP 415); a
 * refusal (token, busy stream, client limit) is an HTTP error with its code.
 * When the body ends the relay hears `bye` and the uploader gets
 * `200 {"frames":N}`.
 *
 * Without a boundary in Content-Type (ffmpeg's HTTP client sends none), the
 * boundary is taken from the body's first line.
 */
export class MjpegIngestChannel extends HttpChannel {
  readonly transport = 'http-ingest';
  readonly backedUp = false;
  readonly queuedBytes = 0;
  private parser: MultipartParser | undefined;
  private sniff: Buffer = Buffer.alloc(0);
  private seq = 0;
  private frames = 0;
  private failed = false;
  private bytesSincePing = true;
  private lastHeld = 0;
  private readonly maxFrameBytes: number;

  constructor(req: IncomingMessage, res: ServerResponse, options: MjpegIngestOptions) {
    super(req, res, { role: 'publish', stream: options.stream, token: options.token }, options.clock);
    this.maxFrameBytes = options.maxFrameBytes ?? 16 * 1024 * 1024;
    req.pause();
    const boundary = boundaryFromContentType(req.headers['content-type']);
    if (boundary) this.parser = this.makeParser(boundary);
    res.on('close', () => this.finish(undefined));
    req.on('error', (err) => this.finish(err));
  }

  override get heldBytes(): number {
    return (this.parser?.bufferedBytes ?? 0) + this.sniff.length;
  }

  /** Frames taken from the body so far. */
  get framesIn(): number {
    return this.frames;
  }

  /** Welcomed: read the body now. */
  protected onWelcome(): void {
    this.req.on('data', (chunk: Buffer) => this.onData(chunk));
    this.req.on('end', () => this.onEnd());
    this.req.resume();
  }

  /**
   * Answers only while the upload is alive: a body that stopped sending goes
   * silent, and the relay's idle timeout closes it.
   */
  protected override answersPing(): boolean {
    if (!this.bytesSincePing) return false;
    this.bytesSincePing = false;
    return true;
  }

  protected override onRefused(body: ErrorBody): void {
    this.failed = true;
    // The rest of the body is read and dropped while the answer gets out (see sendHttpError).
    super.onRefused(body);
  }

  /** The body ended: `200 {"stream":"ended","frames":N}` (unless an error answer went out already). */
  protected shutdown(): void {
    if (this.res.headersSent) return;
    const body = JSON.stringify({ stream: 'ended', frames: this.frames });
    this.res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
    this.res.end(body);
  }

  protected abort(): void {
    this.req.destroy();
    this.res.destroy();
  }

  private makeParser(boundary: string): MultipartParser {
    return new MultipartParser(boundary, { maxPartBytes: this.maxFrameBytes });
  }

  private onData(chunk: Buffer): void {
    if (this.failed || this.closed) return;
    this.bytesSincePing = true;
    try {
      const parser = this.parser ?? this.sniffBoundary(chunk);
      if (!parser) return;
      const input = this.parser === parser && this.sniff.length === 0 ? chunk : this.takeSniffed();
      for (const part of parser.push(input)) {
        this.onPart(part.body);
        if (this.failed || this.closed) return;
      }
      const held = parser.bufferedBytes;
      if (held !== this.lastHeld) {
        this.lastHeld = held;
        this.safeEmit('held', held);
      }
    } catch (err) {
      this.protocolError(FramewireError.from(err, 'MJPEG ingest'));
    }
  }

  /** Finds the boundary in the body's first line ("--BOUNDARY"); holds the bytes until then. */
  private sniffBoundary(chunk: Buffer): MultipartParser | undefined {
    this.sniff = Buffer.concat([this.sniff, chunk]);
    const nl = this.sniff.indexOf(0x0a);
    if (nl < 0) {
      if (this.sniff.length > 256)
        throw new FramewireError(
          ErrorCodes.BAD_MESSAGE,
          'the body does not start with a multipart boundary line and Content-Type names none',
        );
      return undefined;
    }
    const line = this.sniff.subarray(0, nl).toString('latin1').trim();
    if (!line.startsWith('--') || line.length < 3) {
      throw new FramewireError(
        ErrorCodes.BAD_MESSAGE,
        'the body is not multipart JPEG: expected a "--BOUNDARY" first line (send it as ffmpeg -f mpjpeg does)',
      );
    }
    this.parser = this.makeParser(line);
    return this.parser;
  }

  private takeSniffed(): Buffer {
    const b = this.sniff;
    this.sniff = Buffer.alloc(0);
    return b;
  }

  private onPart(body: Buffer): void {
    const size = jpegSize(body);
    if (!size) {
      this.protocolError(
        new FramewireError(ErrorCodes.NOT_JPEG, `part ${this.frames + 1} of the upload is not a JPEG (no SOI/SOF marker)`),
      );
      return;
    }
    this.frames++;
    const frame = {
      seq: this.seq,
      captureUs: this.clock(),
      width: size.width,
      height: size.height,
      codec: 'jpeg' as const,
      key: true,
      data: body,
    };
    this.seq = (this.seq + 1) >>> 0;
    this.safeEmit('message', { type: 'frame', frame });
  }

  private onEnd(): void {
    if (this.failed || this.closed) return;
    this.deliver({ type: 'bye', body: { reason: `upload ended after ${this.frames} frames` } });
  }

  private protocolError(err: FramewireError): void {
    if (this.failed) return;
    this.failed = true;
    this.req.pause();
    this.safeEmit('protocolError', err);
  }
}
