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
export function readFixedHeader(buf: Buffer, offset = 0): Header & { magic: number } {
  return {
    magic: buf.readUInt16BE(offset),
    version: buf.readUInt8(offset + 2),
    type: buf.readUInt8(offset + 3),
    flags: buf.readUInt8(offset + 4),
    headerLength: buf.readUInt16BE(offset + 6),
    payloadLength: buf.readUInt32BE(offset + 8),
  };
}

/** Writes a fixed header into `buf` at `offset`. */
export function writeFixedHeader(
  buf: Buffer,
  type: number,
  flags: number,
  headerLength: number,
  payloadLength: number,
  offset = 0,
): void {
  buf.writeUInt16BE(MAGIC, offset);
  buf.writeUInt8(VERSION, offset + 2);
  buf.writeUInt8(type, offset + 3);
  buf.writeUInt8(flags, offset + 4);
  buf.writeUInt8(0, offset + 5);
  buf.writeUInt16BE(headerLength, offset + 6);
  buf.writeUInt32BE(payloadLength, offset + 8);
}

/** Writes a 53-bit non-negative integer as two big-endian u32 halves. */
export function writeU64(buf: Buffer, value: number, offset: number): void {
  const v = Math.max(0, Math.floor(value));
  buf.writeUInt32BE(Math.floor(v / 0x1_0000_0000) >>> 0, offset);
  buf.writeUInt32BE(v % 0x1_0000_0000 >>> 0, offset + 4);
}

/** Reads a u64 written by {@link writeU64} (exact up to 2^53). */
export function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32BE(offset) * 0x1_0000_0000 + buf.readUInt32BE(offset + 4);
}
