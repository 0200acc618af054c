import { FramewireError } from '../errors.js';

/**
 * JPEG stream splitting and size reading. Pure: no I/O.
 *
 * A stream of back-to-back JPEGs (what `ffmpeg -f mjpeg pipe:1` writes) is
 * split at marker boundaries, never by guessing:
 *
 * ```
 *  FF D8                      SOI: a picture starts
 *  FF xx LH LL <LH·256+LL-2>  marker segments (APPn, DQT, SOF, DHT, DRI, COM…),
 *                             skipped using their length
 *  FF DA LH LL <…>            SOS header, then entropy-coded data in which
 *    … FF 00 …                  a stuffed FF (data, not a marker)
 *    … FF D0–D7 …               restart markers (no length)
 *    … FF FF …                  fill bytes
 *    … FF xx …                  another marker (progressive JPEG: DHT, SOS…)
 *  FF D9                      EOI: the picture ends here
 * ```
 *
 * Bytes between pictures are skipped (bounded). A new SOI inside a picture
 * (between segments or in entropy-coded data) means the previous one was
 * truncated: it is dropped and counted. A picture cut inside a segment header
 * cannot be told apart from a long segment; the size limit bounds that case.
 */

/** Limits for {@link JpegSplitter}. */
export interface JpegSplitterLimits {
  /** Largest picture, bytes. Default 32 MiB. */
  maxFrameBytes?: number;
  /** Most bytes skipped between pictures looking for SOI. Default 1 MiB. */
  maxSkipBytes?: number;
}

enum S {
  /** Looking for FF of SOI. */
  SeekFF,
  /** Saw FF, want D8. */
  SeekD8,
  /** Between segments: want FF. */
  MarkerFF,
  /** Saw FF (and maybe fill): want the marker code. */
  MarkerCode,
  /** First length byte. */
  Len1,
  /** Second length byte. */
  Len2,
  /** Skipping the rest of a segment. */
  Skip,
  /** Entropy-coded data: scanning for FF. */
  Entropy,
  /** Saw FF inside entropy-coded data. */
  EntropyFF,
}

const FF = Buffer.from([0xff]);

/**
 * Incremental splitter: {@link JpegSplitter.push} a chunk, get the pictures
 * it completes. A picture that lies inside one chunk is returned as a view
 * (`subarray`); one that spans chunks is copied once. After a throw the
 * splitter is dead.
 */
export class JpegSplitter {
  private readonly maxFrameBytes: number;
  private readonly maxSkipBytes: number;
  private state = S.SeekFF;
  /** Pieces of the current picture from earlier chunks. */
  private parts: Buffer[] = [];
  private partBytes = 0;
  private len = 0;
  private remaining = 0;
  /** True once SOS was seen: the next segment is followed by entropy data. */
  private sos = false;
  private skipped = 0;
  /** Truncated pictures dropped so far. */
  dropped = 0;
  failed: FramewireError | undefined;

  constructor(limits: JpegSplitterLimits = {}) {
    this.maxFrameBytes = limits.maxFrameBytes ?? 32 * 1024 * 1024;
    this.maxSkipBytes = limits.maxSkipBytes ?? 1024 * 1024;
  }

  /** Bytes of an unfinished picture held from earlier chunks. */
  get bufferedBytes(): number {
    return this.partBytes;
  }

  /** Feeds a chunk; returns the whole pictures it completes. Throws a FramewireError on bad input. */
  push(chunk: Buffer): Buffer[] {
    if (this.failed) throw this.failed;
    try {
      return this.scan(chunk);
    } catch (err) {
      this.failed = FramewireError.from(err, 'the MJPEG scanner');
      this.parts = [];
      this.partBytes = 0;
      throw this.failed;
    }
  }

  private scan(c: Buffer): Buffer[] {
    const out: Buffer[] = [];
    const n = c.length;
    /** Start of the current picture in `c`, or -1 when it began in an earlier chunk (or none). */
    let start = -1;
    let i = 0;
    const inFrame = (): boolean => this.state !== S.SeekFF && this.state !== S.SeekD8;
    // A picture starts at the FF before D8 at index `d8`.
    const begin = (d8: number): void => {
      this.parts = [];
      this.partBytes = 0;
      if (d8 > 0) start = d8 - 1;
      else {
        this.parts.push(FF);
        this.partBytes = 1;
        start = 0;
      }
      this.sos = false;
      this.skipped = 0;
      this.state = S.MarkerFF;
    };
    while (i < n) {
      switch (this.state) {
        case S.SeekFF: {
          const at = c.indexOf(0xff, i);
          const to = at < 0 ? n : at;
          this.skipped += to - i;
          if (this.skipped > this.maxSkipBytes) throw bad(`no JPEG start (FFD8) within ${this.maxSkipBytes} bytes`);
          if (at < 0) return out;
          i = at + 1;
          this.state = S.SeekD8;
          break;
        }
        case S.SeekD8: {
          const b = c[i] as number;
          if (b === 0xd8) begin(i);
          else if (b !== 0xff) {
            this.skipped++;
            this.state = S.SeekFF;
          }
          i++;
          break;
        }
        case S.MarkerFF: {
          if (c[i] !== 0xff) throw bad(`expected a JPEG marker, got 0x${(c[i] as number).toString(16)}`);
          this.state = S.MarkerCode;
          i++;
          break;
        }
        case S.MarkerCode: {
          const b = c[i++] as number;
          if (b === 0xff) break; // fill byte
          if (b === 0xd9) {
            start = this.finish(c, start, i, out);
            this.state = S.SeekFF;
          } else if (b === 0xd8) {
            this.dropped++;
            begin(i - 1);
          } else if ((b >= 0xd0 && b <= 0xd7) || b === 0x01) {
            this.state = this.sos ? S.Entropy : S.MarkerFF;
          } else if (b === 0x00) {
            throw bad('invalid JPEG marker 0xff00 outside entropy-coded data');
          } else {
            this.sos = b === 0xda;
            this.state = S.Len1;
          }
          break;
        }
        case S.Len1:
          this.len = (c[i++] as number) << 8;
          this.state = S.Len2;
          break;
        case S.Len2: {
          this.len |= c[i++] as number;
          if (this.len < 2) throw bad(`JPEG segment length ${this.len} < 2`);
          this.remaining = this.len - 2;
          this.state = this.remaining > 0 ? S.Skip : this.sos ? S.Entropy : S.MarkerFF;
          break;
        }
        case S.Skip: {
          const take = Math.min(this.remaining, n - i);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = this.sos ? S.Entropy : S.MarkerFF;
          break;
        }
        case S.Entropy: {
          const at = c.indexOf(0xff, i);
          if (at < 0) {
            i = n;
            break;
          }
          i = at + 1;
          this.state = S.EntropyFF;
          break;
        }
        case S.EntropyFF: {
          const b = c[i++] as number;
          if (b === 0x00 || (b >= 0xd0 && b <= 0xd7)) this.state = S.Entropy;
          else if (b === 0xff) this.state = S.EntropyFF;
          else if (b === 0xd9) {
            start = this.finish(c, start, i, out);
            this.state = S.SeekFF;
          } else if (b === 0xd8) {
            this.dropped++;
            begin(i - 1);
          } else {
            // Another marker after a scan (progressive or multi-scan JPEG).
            this.sos = b === 0xda;
            this.state = S.Len1;
          }
          break;
        }
      }
      if (inFrame()) this.checkSize(start < 0 ? i : i - start);
    }
    if (inFrame()) {
      const piece = start < 0 ? c : c.subarray(start);
      if (piece.length > 0) {
        this.parts.push(piece);
        this.partBytes += piece.length;
      }
    }
    return out;
  }

  /** Ends the picture at `end` (exclusive) in `c`; returns the new `start` (none). */
  private finish(c: Buffer, start: number, end: number, out: Buffer[]): number {
    const tail = c.subarray(Math.max(0, start), end);
    if (this.parts.length === 0) out.push(tail);
    else {
      this.parts.push(tail);
      out.push(Buffer.concat(this.parts, this.partBytes + tail.length));
    }
    this.parts = [];
    this.partBytes = 0;
    return -1;
  }

  private checkSize(inChunk: number): void {
    if (this.partBytes + inChunk > this.maxFrameBytes) {
      throw FramewireError.frameTooLarge(undefined, this.maxFrameBytes, 'JPEG picture');
    }
  }
}

/** A JPEG's picture size, as read from its SOF marker. */
export interface JpegSize {
  width: number;
  height: number;
}

/** True if `buf` starts like a JPEG (SOI then a marker). */
export function looksLikeJpeg(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
}

/**
 * Reads a JPEG's width and height from its SOF segment (baseline,
 * progressive, lossless, arithmetic: C0–CF except C4, C8, CC). Walks the
 * marker segments only; returns undefined if `buf` is not a JPEG or ends
 * before the SOF.
 */
export function jpegSize(buf: Uint8Array): JpegSize | undefined {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 3 < buf.length) {
    if (buf[i] !== 0xff) return undefined;
    let code = buf[i + 1] as number;
    while (code === 0xff && i + 2 < buf.length) code = buf[++i + 1] as number;
    i += 2;
    if ((code >= 0xd0 && code <= 0xd7) || code === 0x01) continue;
    if (code === 0xd9 || code === 0xda) return undefined;
    if (i + 1 >= buf.length) return undefined;
    const len = ((buf[i] as number) << 8) | (buf[i + 1] as number);
    if (len < 2) return undefined;
    if (code >= 0xc0 && code <= 0xcf && code !== 0xc4 && code !== 0xc8 && code !== 0xcc) {
      if (i + 7 > buf.length || len < 7) return undefined;
      const height = ((buf[i + 3] as number) << 8) | (buf[i + 4] as number);
      const width = ((buf[i + 5] as number) << 8) | (buf[i + 6] as number);
      return width > 0 && height > 0 ? { width, height } : undefined;
    }
    i += len;
  }
  return undefined;
}

function bad(message: string): FramewireError {
  return FramewireError.badMessage(message);
}

/** Limits on a frame's picture (see {@link checkJpegFrame}). */
export interface PictureLimits {
  /** Largest width or height, pixels. Default 8192. */
  maxDimension?: number;
  /** Most pixels (width × height). Default 8192 × 8192. */
  maxPixels?: number;
}

/** Default picture limits. */
export const DEFAULT_PICTURE_LIMITS: Required<PictureLimits> = { maxDimension: 8192, maxPixels: 8192 * 8192 };

/**
 * Checks, without decoding, that `data` is a JPEG whose own SOF size is the
 * `width` × `height` its frame header declares, within the limits. Returns
 * what is wrong, or undefined when the frame is fine. Cost: a walk over the
 * marker segments before the SOF (a few dozen bytes read).
 */
export function checkJpegFrame(data: Uint8Array, width: number, height: number, limits: PictureLimits = {}): string | undefined {
  const lim = { ...DEFAULT_PICTURE_LIMITS, ...limits };
  if (width > lim.maxDimension || height > lim.maxDimension)
    return `a ${width}x${height} picture is larger than ${lim.maxDimension} pixels a side`;
  if (width * height > lim.maxPixels) return `a ${width}x${height} picture has more than ${lim.maxPixels} pixels`;
  if (!looksLikeJpeg(data)) return 'the payload is not a JPEG (no SOI marker)';
  const size = jpegSize(data);
  if (!size) return 'the JPEG has no readable SOF marker';
  if (size.width !== width || size.height !== height) {
    return `the JPEG is ${size.width}x${size.height} but its frame header says ${width}x${height}`;
  }
  return undefined;
}
