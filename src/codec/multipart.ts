import { ErrorCodes, FramewireError } from '../errors.js';

/**
 * Incremental parser for `multipart/x-mixed-replace` and `multipart/*`
 * bodies as MJPEG servers send them (IP-webcam phone apps, ustreamer,
 * mjpg-streamer, `ffmpeg -f mpjpeg`). Pure: feed chunks, get parts.
 *
 * ```
 * [preamble] --BOUNDARY CRLF
 *            Content-Type: image/jpeg CRLF
 *            Content-Length: N CRLF          (optional; without it the body
 *            CRLF                             ends at the next delimiter)
 *            <N bytes> [CRLF]
 *            --BOUNDARY CRLF ...   or   --BOUNDARY-- (end)
 * ```
 *
 * Lenient where servers differ (LF-only line ends, a boundary parameter that
 * already starts with "--", missing CRLF after a body), strict on limits.
 */
export interface MultipartPart {
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** The part body: a view into the input when it lies in one chunk. */
  body: Buffer;
}

/** Limits for {@link MultipartParser}. */
export interface MultipartLimits {
  /** Largest part body, bytes. Default 16 MiB. */
  maxPartBytes?: number;
  /** Largest header block of one part, bytes. Default 8 KiB. */
  maxHeaderBytes?: number;
  /** Most bytes skipped looking for a boundary (preamble, junk). Default 64 KiB. */
  maxSkipBytes?: number;
}

type State = 'boundary' | 'headers' | 'body' | 'done';

/** Extracts the boundary from a Content-Type header value, or undefined. */
export function boundaryFromContentType(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\//i.test(contentType)) return undefined;
  const m = /boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** See the module comment. After a throw the parser is dead. */
export class MultipartParser {
  private readonly delimiter: Buffer;
  private readonly limits: Required<MultipartLimits>;
  private buf: Buffer = Buffer.alloc(0);
  private state: State = 'boundary';
  private headers: Record<string, string> = {};
  private length: number | undefined;
  private skipped = 0;
  failed: FramewireError | undefined;

  constructor(boundary: string, limits: MultipartLimits = {}) {
    if (!boundary || boundary.length > 200 || /[\r\n]/.test(boundary)) {
      throw new FramewireError(ErrorCodes.BAD_MESSAGE, `invalid multipart boundary "${boundary}"`);
    }
    const b = boundary.startsWith('--') ? boundary : `--${boundary}`;
    this.delimiter = Buffer.from(b, 'latin1');
    this.limits = { maxPartBytes: 16 * 1024 * 1024, maxHeaderBytes: 8 * 1024, maxSkipBytes: 64 * 1024, ...limits };
  }

  /** True once the closing delimiter was seen. */
  get done(): boolean {
    return this.state === 'done';
  }

  /** Bytes held waiting for more input (bounded by the limits). */
  get bufferedBytes(): number {
    return this.buf.length;
  }

  /** Feeds a chunk; returns the parts it completes. Throws a FramewireError on bad input. */
  push(chunk: Buffer): MultipartPart[] {
    if (this.failed) throw this.failed;
    const out: MultipartPart[] = [];
    if (this.state === 'done') return out;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    try {
      while (this.step(out));
    } catch (err) {
      this.failed = err instanceof FramewireError ? err : new FramewireError(ErrorCodes.BAD_MESSAGE, String(err));
      this.buf = Buffer.alloc(0);
      throw this.failed;
    }
    return out;
  }

  /** One state transition; false when more input is needed. */
  private step(out: MultipartPart[]): boolean {
    switch (this.state) {
      case 'boundary': {
        const at = this.buf.indexOf(this.delimiter);
        if (at < 0) {
          // Keep a tail that could be the start of a split delimiter.
          const keep = Math.min(this.buf.length, this.delimiter.length - 1);
          this.skip(this.buf.length - keep);
          return false;
        }
        const lineEnd = this.buf.indexOf(0x0a, at + this.delimiter.length);
        if (lineEnd < 0) {
          if (this.buf.length - at > this.delimiter.length + 64) throw bad('boundary line too long');
          this.skip(at);
          return false;
        }
        const rest = this.buf.subarray(at + this.delimiter.length, lineEnd).toString('latin1').trim();
        this.skip(at);
        this.buf = this.buf.subarray(lineEnd - at + 1);
        if (rest.startsWith('--')) {
          this.state = 'done';
          return false;
        }
        this.skipped = 0;
        this.state = 'headers';
        this.headers = {};
        this.length = undefined;
        return true;
      }
      case 'headers': {
        let end = this.buf.indexOf('\r\n\r\n');
        let sep = 4;
        const lf = this.buf.indexOf('\n\n');
        if (lf >= 0 && (end < 0 || lf < end)) {
          end = lf;
          sep = 2;
        }
        // A part with no headers at all starts with its blank line.
        if (this.buf.length >= 2 && this.buf[0] === 0x0d && this.buf[1] === 0x0a) [end, sep] = [0, 2];
        else if (this.buf.length >= 1 && this.buf[0] === 0x0a) [end, sep] = [0, 1];
        if (end < 0) {
          if (this.buf.length > this.limits.maxHeaderBytes) throw bad(`part headers exceed ${this.limits.maxHeaderBytes} bytes`);
          return false;
        }
        if (end > this.limits.maxHeaderBytes) throw bad(`part headers exceed ${this.limits.maxHeaderBytes} bytes`);
        for (const line of this.buf.subarray(0, end).toString('latin1').split(/\r?\n/)) {
          const colon = line.indexOf(':');
          if (colon <= 0) continue;
          this.headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        const cl = this.headers['content-length'];
        if (cl !== undefined) {
          if (!/^\d{1,10}$/.test(cl)) throw bad(`bad Content-Length "${cl}"`);
          const n = Number(cl);
          if (n > this.limits.maxPartBytes) {
            throw new FramewireError(ErrorCodes.FRAME_TOO_LARGE, `part of ${n} bytes exceeds the limit of ${this.limits.maxPartBytes}`);
          }
          this.length = n;
        }
        this.buf = this.buf.subarray(end + sep);
        this.state = 'body';
        return true;
      }
      case 'body': {
        if (this.length !== undefined) {
          if (this.buf.length < this.length) return false;
          out.push({ headers: this.headers, body: this.buf.subarray(0, this.length) });
          this.buf = this.buf.subarray(this.length);
        } else {
          const at = this.buf.indexOf(this.delimiter);
          if (at < 0) {
            if (this.buf.length > this.limits.maxPartBytes + this.delimiter.length + 2) {
              throw new FramewireError(ErrorCodes.FRAME_TOO_LARGE, `part exceeds the limit of ${this.limits.maxPartBytes} bytes`);
            }
            return false;
          }
          let end = at;
          if (end >= 1 && this.buf[end - 1] === 0x0a) end--;
          if (end >= 1 && this.buf[end - 1] === 0x0d) end--;
          out.push({ headers: this.headers, body: this.buf.subarray(0, end) });
          this.buf = this.buf.subarray(at);
        }
        this.state = 'boundary';
        return true;
      }
      case 'done':
        return false;
    }
  }

  private skip(n: number): void {
    if (n <= 0) return;
    this.skipped += n;
    if (this.skipped > this.limits.maxSkipBytes) throw bad(`no boundary "${this.delimiter.toString('latin1')}" within ${this.limits.maxSkipBytes} bytes`);
    this.buf = this.buf.subarray(n);
  }
}

function bad(message: string): FramewireError {
  return new FramewireError(ErrorCodes.BAD_MESSAGE, message);
}
