import { getU64, setU64, viewOf } from './bytes.js';

/**
 * The fixed message header, network byte order (big-endian).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-------------------------------+---------------+---------------+
 * |      magic 0x4657 ("FW")      |  version (1)  |     type      |  0
 * +---------------+---------------+-------------------------------+
 * |     flags     |  reserved (0) |     header length (bytes)     |  4
 * +---------------+---------------+-------------------------------+
 * |                    payload length (bytes)                     |  8
 * +---------------------------------------------------------------+
 *   frame messages (type 0x10) continue the header:
 * +---------------------------------------------------------------+
 * |                         sequence number                       | 12
 * +---------------------------------------------------------------+
 * |               capture time, microseconds (high 32)            | 16
 * +---------------------------------------------------------------+
 * |               capture time, microseconds (low 32)             | 20
 * +-------------------------------+-------------------------------+
 * |             width             |             height            | 24
 * +---------------+---------------+-------------------------------+
 * |     codec     |  reserved (0) |          reserved (0)         | 28
 * +---------------+---------------+-------------------------------+
 *   (header length may be larger: receivers skip bytes they do not know)
 *   then payload length bytes of payload
 * ```
 */

/** "FW" as a big-endian u16. */
export const MAGIC = 0x4657;
/** The protocol version this build speaks. */
export const VERSION = 1;
/** Bytes in the fixed part of every header. */
export const FIXED_HEADER_BYTES = 12;
/** Bytes in a frame message's header (fixed part + frame fields). */
export const FRAME_HEADER_BYTES = 32;

/** Message type numbers on the wire. */
export const MessageType = {
  hello: 0x01,
  welcome: 0x02,
  error: 0x03,
  ping: 0x04,
  pong: 0x05,
  stats: 0x06,
  bye: 0x07,
  ack: 0x08,
  frame: 0x10,
} as const;

/** Name of a message type. */
export type MessageTypeName = keyof typeof MessageType;

const typeNames = new Map<number, MessageTypeName>(
  (Object.entries(MessageType) as [MessageTypeName, number][]).map(([name, n]) => [n, name]),
);

/** The type name for a wire number, or undefined if unknown. */
export function messageTypeName(n: number): MessageTypeName | undefined {
  return typeNames.get(n);
}

/** Frame flag bits. */
export const FrameFlags = {
  /** The picture decodes on its own. */
  key: 0x01,
} as const;

/** Codec numbers on the wire. */
export const CodecId = { jpeg: 1, h264: 2 } as const;

/** The fixed header fields of one message. */
export interface Header {
  version: number;
  type: number;
  flags: number;
  headerLength: number;
  payloadLength: number;
}

/** Reads the fixed header at `offset` (no validation). `buf` must hold 12 bytes from there. */
export function readFixedHeader(buf: Uint8Array, offset = 0): Header & { magic: number } {
  const v = viewOf(buf);
  return {
    magic: v.getUint16(offset),
    version: v.getUint8(offset + 2),
    type: v.getUint8(offset + 3),
    flags: v.getUint8(offset + 4),
    headerLength: v.getUint16(offset + 6),
    payloadLength: v.getUint32(offset + 8),
  };
}

/** Writes a fixed header into `buf` at `offset`. */
export function writeFixedHeader(
  buf: Uint8Array,
  type: number,
  flags: number,
  headerLength: number,
  payloadLength: number,
  offset = 0,
): void {
  const v = viewOf(buf);
  v.setUint16(offset, MAGIC);
  v.setUint8(offset + 2, VERSION);
  v.setUint8(offset + 3, type);
  v.setUint8(offset + 4, flags);
  v.setUint8(offset + 5, 0);
  v.setUint16(offset + 6, headerLength);
  v.setUint32(offset + 8, payloadLength);
}

/** Writes a 53-bit non-negative integer as two big-endian u32 halves. */
export function writeU64(buf: Uint8Array, value: number, offset: number): void {
  setU64(viewOf(buf), offset, value);
}

/** Reads a u64 written by {@link writeU64} (exact up to 2^53). */
export function readU64(buf: Uint8Array, offset: number): number {
  return getU64(viewOf(buf), offset);
}
