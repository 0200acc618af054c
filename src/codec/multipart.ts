import { FramewireError } from '../errors.js';

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
  /**
   * When `buf` holds bytes of several chunks it is a view into `store`,
   * ending at its write position; new bytes are copied into the spare room
   * behind it (a new, larger store when full). Bytes before `buf` are never
   * overwritten, so the part bodies handed out stay valid. Every byte is
   * copied O(1) times on average, and a search resumes where it stopped
   * (`scanned`): parsing is linear however the body is chunked.
   */
  private store: Buffer | undefined;
  /** Bytes of `buf` already searched for what the current state waits for (a delimiter, the blank line). */
  private scanned = 0;
  private state: State = 'boundary';
  private headers: Record<string, string> = {};
  private length: number | undefined;
  private skipped = 0;
  failed: FramewireError | undefined;

  constructor(boundary: string, limits: MultipartLimits = {}) {
    if (!boundary || boundary.length > 200 || /[\r\n]/.test(boundary)) {
      // The boundary comes from a peer's Content-Type (up to Node's 16 KiB of headers): quote only its start.
      const start = boundary.slice(0, 64).replace(/[\r\n]/g, ' ');
      throw FramewireError.badMessage(
        `invalid multipart boundary "${start}${boundary.length > 64 ? '…' : ''}" (1 to 200 characters, one line)`,
      );
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
    this.append(chunk);
    try {
      while (this.step(out));
    } catch (err) {
      if (!(err instanceof FramewireError)) throw err;
      this.failed = err;
      this.buf = Buffer.alloc(0);
      this.store = undefined;
      throw this.failed;
    }
    return out;
  }

  /** Adds a chunk behind the buffered bytes (see `store`). */
  private append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.buf.length === 0) {
      this.buf = chunk;
      this.store = undefined;
      return;
    }
    const need = this.buf.length + chunk.length;
    const store = this.store;
    if (store !== undefined) {
      const start = this.buf.byteOffset - store.byteOffset;
      if (start + need <= store.length) {
        chunk.copy(store, start + this.buf.length);
        this.buf = store.subarray(start, start + need);
        return;
      }
    }
    // A new store, twice what is needed (at most what the limits let one part need).
    const most = this.limits.maxPartBytes + this.limits.maxHeaderBytes + this.delimiter.length + 1024;
    const next = Buffer.allocUnsafe(Math.max(need, Math.min(2 * need, most), 64 * 1024));
    this.buf.copy(next, 0);
    chunk.copy(next, this.buf.length);
    this.store = next;
    this.buf = next.subarray(0, need);
  }

  /** Drops the first `n` buffered bytes (the search resumes at the same data). */
  private advance(n: number): void {
    this.buf = this.buf.subarray(n);
    this.scanned = Math.max(0, this.scanned - n);
  }

  /** Enters a state; its search starts from the first buffered byte. */
  private enter(state: State): void {
    this.state = state;
    this.scanned = 0;
  }

  /** Finds `needle` in the buffered bytes, resuming where the last unsuccessful search stopped. */
  private find(needle: Buffer | string): number {
    return this.buf.indexOf(needle, Math.max(0, this.scanned - needle.length + 1));
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
        const rest = this.buf
          .subarray(at + this.delimiter.length, lineEnd)
          .toString('latin1')
          .trim();
        this.skip(at);
        this.advance(lineEnd - at + 1);
        if (rest.startsWith('--')) {
          this.enter('done');
          return false;
        }
        this.skipped = 0;
        this.enter('headers');
        this.headers = {};
        this.length = undefined;
        return true;
      }
      case 'headers': {
        let end: number;
        let sep: number;
        // A part with no headers at all starts with its blank line.
        if (this.buf.length >= 2 && this.buf[0] === 0x0d && this.buf[1] === 0x0a) [end, sep] = [0, 2];
        else if (this.buf.length >= 1 && this.buf[0] === 0x0a) [end, sep] = [0, 1];
        else {
          [end, sep] = [this.find('\r\n\r\n'), 4];
          const lf = this.find('\n\n');
          if (lf >= 0 && (end < 0 || lf < end)) [end, sep] = [lf, 2];
        }
        if (end < 0) {
          if (this.buf.length > this.limits.maxHeaderBytes) throw bad(`part headers exceed ${this.limits.maxHeaderBytes} bytes`);
          this.scanned = this.buf.length;
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
          if (!/^\d{1,10}$/.test(cl)) throw bad(`bad Content-Length "${cl.slice(0, 32)}"`);
          const n = Number(cl);
          if (n > this.limits.maxPartBytes) {
            throw FramewireError.frameTooLarge(n, this.limits.maxPartBytes, 'part');
          }
          this.length = n;
        }
        this.advance(end + sep);
        this.enter('body');
        return true;
      }
      case 'body': {
        if (this.length !== undefined) {
          if (this.buf.length < this.length) return false;
          out.push({ headers: this.headers, body: this.buf.subarray(0, this.length) });
          this.advance(this.length);
        } else {
          const at = this.find(this.delimiter);
          if (at < 0) {
            if (this.buf.length > this.limits.maxPartBytes + this.delimiter.length + 2) {
              throw FramewireError.frameTooLarge(undefined, this.limits.maxPartBytes, 'part');
            }
            this.scanned = this.buf.length;
            return false;
          }
          let end = at;
          if (end >= 1 && this.buf[end - 1] === 0x0a) end--;
          if (end >= 1 && this.buf[end - 1] === 0x0d) end--;
          out.push({ headers: this.headers, body: this.buf.subarray(0, end) });
          this.advance(at);
        }
        this.enter('boundary');
        return true;
      }
      case 'done':
        return false;
    }
  }

  private skip(n: number): void {
    if (n <= 0) return;
    this.skipped += n;
    if (this.skipped > this.limits.maxSkipBytes)
      throw bad(`no boundary "${this.delimiter.toString('latin1')}" within ${this.limits.maxSkipBytes} bytes`);
    this.advance(n);
  }
}

function bad(message: string): FramewireError {
  return FramewireError.badMessage(message);
}
