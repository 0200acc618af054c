import { ErrorCodes, FramewireError } from '../errors.js';
import {
  FIXED_HEADER_BYTES,
  FRAME_HEADER_BYTES,
  FrameFlags,
  MAGIC,
  MessageType,
  VERSION,
  messageTypeName,
  readFixedHeader,
} from './header.js';
import { concatBytes, getU64, utf8Decode, viewOf } from './bytes.js';
import { codecFromId, validateControl, type ControlMessage, type Message } from './messages.js';

/** Limits a receiver enforces. Every one has a safe default. */
export interface ParserLimits {
  /** Largest frame payload accepted, bytes. Default 16 MiB. */
  maxFrameBytes?: number;
  /** Largest control (JSON) payload accepted, bytes. Default 64 KiB. */
  maxControlBytes?: number;
  /** Largest header length accepted, bytes. Default 256. */
  maxHeaderBytes?: number;
}

/** Reads smaller than this are merged in the parser's queue (see StreamParser.append). */
const SMALL_CHUNK = 16 * 1024;

/** Default limits. */
export const DEFAULT_LIMITS: Required<ParserLimits> = {
  maxFrameBytes: 16 * 1024 * 1024,
  maxControlBytes: 64 * 1024,
  maxHeaderBytes: 256,
};

/**
 * Decodes one complete message from `buf` (exactly one message, as a
 * WebSocket message or a test carries it). Throws a FramewireError on bad
 * input. The frame payload is a view into `buf`, not a copy.
 */
export function decodeMessage(buf: Uint8Array, limits: ParserLimits = {}): Message {
  const lim = { ...DEFAULT_LIMITS, ...limits };
  if (buf.length < FIXED_HEADER_BYTES) {
    throw new FramewireError(ErrorCodes.BAD_HEADER, `message of ${buf.length} bytes is shorter than a header`);
  }
  const h = checkHeader(buf, lim);
  if (buf.length !== h.headerLength + h.payloadLength) {
    throw new FramewireError(
      ErrorCodes.BAD_HEADER,
      `message is ${buf.length} bytes but its header says ${h.headerLength + h.payloadLength}`,
    );
  }
  return buildMessage(h, buf.subarray(0, h.headerLength), buf.subarray(h.headerLength));
}

interface CheckedHeader {
  type: number;
  flags: number;
  headerLength: number;
  payloadLength: number;
}

/** Validates a fixed header against the limits, before anything is allocated from its lengths. */
function checkHeader(buf: Uint8Array, lim: Required<ParserLimits>): CheckedHeader {
  const h = readFixedHeader(buf);
  if (h.magic !== MAGIC) {
    throw new FramewireError(ErrorCodes.BAD_MAGIC, `bad magic 0x${h.magic.toString(16).padStart(4, '0')}, expected 0x4657`);
  }
  if (h.version !== VERSION) {
    throw new FramewireError(ErrorCodes.BAD_VERSION, `protocol version ${h.version} is not supported (this side speaks ${VERSION})`);
  }
  const name = messageTypeName(h.type);
  if (name === undefined) throw new FramewireError(ErrorCodes.BAD_HEADER, `unknown message type 0x${h.type.toString(16)}`);
  const minHeader = name === 'frame' ? FRAME_HEADER_BYTES : FIXED_HEADER_BYTES;
  if (h.headerLength < minHeader || h.headerLength > lim.maxHeaderBytes) {
    throw new FramewireError(
      ErrorCodes.BAD_HEADER,
      `header length ${h.headerLength} out of range [${minHeader}, ${lim.maxHeaderBytes}] for ${name}`,
    );
  }
  if (name === 'frame') {
    if (h.payloadLength > lim.maxFrameBytes) {
      throw new FramewireError(ErrorCodes.FRAME_TOO_LARGE, `frame of ${h.payloadLength} bytes exceeds the limit of ${lim.maxFrameBytes}`);
    }
  } else if (h.payloadLength > lim.maxControlBytes) {
    throw new FramewireError(
      ErrorCodes.CONTROL_TOO_LARGE,
      `${name} body of ${h.payloadLength} bytes exceeds the limit of ${lim.maxControlBytes}`,
    );
  }
  return h;
}

function buildMessage(h: CheckedHeader, header: Uint8Array, payload: Uint8Array): Message {
  if (h.type === MessageType.frame) {
    const v = viewOf(header);
    const codecId = v.getUint8(28);
    const codec = codecFromId(codecId);
    if (codec === undefined) throw new FramewireError(ErrorCodes.BAD_HEADER, `unknown codec ${codecId}`);
    const width = v.getUint16(24);
    const height = v.getUint16(26);
    if (width === 0 || height === 0) throw new FramewireError(ErrorCodes.BAD_HEADER, 'frame width and height must be non-zero');
    return {
      type: 'frame',
      frame: {
        seq: v.getUint32(12),
        captureUs: getU64(v, 16),
        width,
        height,
        codec,
        key: (h.flags & FrameFlags.key) !== 0,
        data: payload,
      },
    };
  }
  const type = messageTypeName(h.type) as ControlMessage['type'];
  let text: string;
  try {
    text = utf8Decode(payload);
  } catch {
    throw new FramewireError(ErrorCodes.BAD_MESSAGE, `${type} body is not valid UTF-8`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new FramewireError(ErrorCodes.BAD_MESSAGE, `${type} body is not valid JSON`);
  }
  return validateControl(type, body);
}

/**
 * Incremental parser for a byte stream (TCP): feed it chunks of any size, get
 * whole messages back. No I/O inside. Frame payloads are views into the
 * chunk when a message lies in one chunk, and one exact-size copy when it
 * spans chunks. After it throws, the parser is dead (`failed` is set) and
 * every later `push` throws the same error: the connection must close.
 */
export class StreamParser {
  private readonly limits: Required<ParserLimits>;
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private pending: CheckedHeader | undefined;
  private framesAllowed = true;
  /** The error that killed this parser, if any. */
  failed: FramewireError | undefined;

  constructor(limits: ParserLimits = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Bytes held waiting for the rest of a message (bounded by the limits). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Whether frame messages are accepted now. When not, a frame is refused
   * (FW_UNEXPECTED_MESSAGE) as soon as its fixed header arrives, before any
   * of its payload is held.
   */
  acceptFrames(allowed: boolean): void {
    this.framesAllowed = allowed;
  }

  /**
   * Bytes the peer has made this parser hold or announced it will: the
   * whole of a message whose header has arrived, else what is buffered. A
   * memory budget charged with this learns of a 16 MiB frame from its
   * 12-byte header, before any of it is held.
   */
  get claimedBytes(): number {
    const p = this.pending;
    return p === undefined ? this.buffered : Math.max(this.buffered, p.headerLength + p.payloadLength);
  }

  /** Drops whatever is buffered and ignores all later input (the connection is closing). */
  discard(): void {
    this.chunks = [];
    this.buffered = 0;
    this.pending = undefined;
    this.failed ??= new FramewireError(ErrorCodes.CONNECTION_CLOSED, 'the parser was discarded: the connection is closing');
  }

  /**
   * Feeds a chunk; returns every message it completes, in order (while
   * frames are refused, at most one: push an empty chunk for the next).
   * Throws a FramewireError on bad input.
   */
  push(chunk: Uint8Array): Message[] {
    if (this.failed) throw this.failed;
    if (chunk.length > 0) this.append(chunk);
    const out: Message[] = [];
    try {
      for (;;) {
        if (this.pending === undefined) {
          // While frames are refused, stop after each message: the one just
          // parsed (a publisher's hello) may allow them (see acceptFrames).
          if (!this.framesAllowed && out.length > 0) break;
          if (this.buffered < FIXED_HEADER_BYTES) break;
          this.pending = checkHeader(this.peek(FIXED_HEADER_BYTES), this.limits);
          if (!this.framesAllowed && this.pending.type === MessageType.frame) {
            throw new FramewireError(
              ErrorCodes.UNEXPECTED_MESSAGE,
              'a frame is not accepted here: only a publisher sends frames, after its hello',
            );
          }
        }
        const total = this.pending.headerLength + this.pending.payloadLength;
        if (this.buffered < total) break;
        const header = this.consume(this.pending.headerLength);
        const payload = this.consume(this.pending.payloadLength);
        const h = this.pending;
        this.pending = undefined;
        out.push(buildMessage(h, header, payload));
      }
    } catch (err) {
      // Our own bug is not the peer's fault: only coded errors blame the peer.
      if (!(err instanceof FramewireError)) throw err;
      this.failed = err;
      this.chunks = [];
      this.buffered = 0;
      throw this.failed;
    }
    return out;
  }

  /**
   * Queues a chunk. Small chunks at the tail are merged binary-counter style
   * (equal-or-larger newcomer joins its smaller predecessor), so a peer that
   * trickles a big message a few bytes at a time leaves a few Buffer objects
   * per 16 KiB, not one per read, and each small byte is copied at most ~14
   * times. Chunks of 16 KiB or more are never copied here.
   */
  private append(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (let n = this.chunks.length; n >= 2; n--) {
      const a = this.chunks[n - 2] as Uint8Array;
      const b = this.chunks[n - 1] as Uint8Array;
      if (a.length >= SMALL_CHUNK || b.length >= SMALL_CHUNK || b.length < a.length) break;
      this.chunks.splice(n - 2, 2, concatBytes([a, b], a.length + b.length));
    }
  }

  /** The first `n` buffered bytes without consuming them (a view when possible). */
  private peek(n: number): Uint8Array {
    const first = this.chunks[0] as Uint8Array;
    if (first.length >= n) return first.subarray(0, n);
    const parts: Uint8Array[] = [];
    let got = 0;
    for (const c of this.chunks) {
      if (got >= n) break;
      parts.push(c);
      got += c.length;
    }
    // Copy only the n bytes asked for, not the whole of a big chunk behind a small one.
    return concatBytes(parts, n);
  }

  /** Removes and returns the next `n` bytes: a view if they lie in one chunk, else one copy. */
  private consume(n: number): Uint8Array {
    this.buffered -= n;
    const first = this.chunks[0];
    if (n === 0) return new Uint8Array(0);
    if (first !== undefined && first.length === n) {
      this.chunks.shift();
      return first;
    }
    if (first !== undefined && first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    // Spans chunks: one exact-size copy, then drop the used chunks in one splice
    // (a shift() per chunk would be quadratic in the number of chunks).
    const dst = new Uint8Array(n);
    let off = 0;
    let i = 0;
    while (off < n) {
      const c = this.chunks[i] as Uint8Array;
      const take = Math.min(c.length, n - off);
      dst.set(take === c.length ? c : c.subarray(0, take), off);
      off += take;
      if (take === c.length) i++;
      else this.chunks[i] = c.subarray(take);
    }
    this.chunks.splice(0, i);
    return dst;
  }
}
