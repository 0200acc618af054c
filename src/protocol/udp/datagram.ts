/**
 * The UDP datagram format, network byte order (big-endian). Every datagram
 * starts with the same 8-byte header; the kind says what follows.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-------------------------------+---------------+---------------+
 * |      magic 0x4655 ("FU")      |  version (1)  |     kind      |  0
 * +-------------------------------+---------------+---------------+
 * |              session id (0 before the session exists)         |  4
 * +---------------------------------------------------------------+
 *   fragment (kind 0x20) and parity (kind 0x21) continue:
 * +---------------------------------------------------------------+
 * |            message seq (per session and direction)            |  8
 * +---------------------------------------------------------------+
 * |          message length (bytes, all fragments together)       | 12
 * +-------------------------------+-------------------------------+
 * |  fragment index (parity: group)|        fragment count        | 16
 * +-------------------------------+---------------+---------------+
 * |    fragment size P (bytes)    | FEC group K   |     flags     | 20
 * +-------------------------------+---------------+---------------+
 * |  payload: bytes [index*P, index*P+P) of the message; parity:   | 24
 * |  XOR of the group's K data payloads, each zero-padded to P     |
 * +---------------------------------------------------------------+
 * ```
 *
 * Flags: bit 0 = retransmission (sent again after a NACK); other bits 0.
 *
 * The message is a complete framewire frame message exactly as on TCP
 * (32-byte frame header with seq, capture time, width, height, codec, then
 * the JPEG). Fragment 0 therefore carries the frame metadata.
 *
 * Other kinds (payload after the 8-byte header):
 *
 * ```
 *  init     0x01  client nonce (8) + zero padding to at least 64 bytes
 *  cookie   0x02  client nonce (8) + cookie (20: time s u32 + MAC 16)
 *  open     0x03  client nonce (8) + cookie (20) + fragment size u16 and
 *                 FEC group u8 the client wants the server to send with
 *                 (0 = server default) + reserved u8
 *  opened   0x04  client nonce (8) + fragment size u16 and FEC group u8
 *                 the server granted (clamped) + reserved u8
 *                                                   (session id in header)
 *  control  0x10  control seq u32 + flags u8 (1 = reliable) + 3 reserved
 *                 + one framewire control message (TCP encoding)
 *  ack      0x11  control seq u32
 *  nack     0x22  entries: message seq u32 + n u16 + n fragment indexes u16;
 *                 n = 0xFFFF means "the whole message" (no indexes follow)
 *  keepalive 0x30 nothing
 *  close    0x31  nothing
 *  unknown session 0x32  nothing; server → client: "no session with the id
 *                 in this header exists here" (a restarted relay), sent
 *                 rate-limited, never larger than the datagram it answers
 * ```
 */
import { concatBytes, viewOf } from '../bytes.js';

/** "FU" as a big-endian u16. */
export const UDP_MAGIC = 0x4655;
/** UDP datagram format version. */
export const UDP_VERSION = 1;
/** Bytes in the common header. */
export const COMMON_HEADER_BYTES = 8;
/** Bytes in a fragment or parity header. */
export const FRAGMENT_HEADER_BYTES = 24;
/** Bytes after the common header in a control datagram before the message. */
export const CONTROL_PREFIX_BYTES = 8;
/** Smallest init datagram a server answers: never less than its cookie reply (no amplification). */
export const INIT_MIN_BYTES = 64;
/** Bytes of a cookie. */
export const COOKIE_BYTES = 20;
/** Bytes of a client nonce. */
export const NONCE_BYTES = 8;
/** NACK entry count meaning "the whole message". */
export const NACK_ALL = 0xffff;

/** Datagram kinds. */
export const Kind = {
  init: 0x01,
  cookie: 0x02,
  open: 0x03,
  opened: 0x04,
  control: 0x10,
  ack: 0x11,
  fragment: 0x20,
  parity: 0x21,
  nack: 0x22,
  keepalive: 0x30,
  close: 0x31,
  unknownSession: 0x32,
} as const;

/** A kind's number. */
export type KindId = (typeof Kind)[keyof typeof Kind];

const kinds: ReadonlySet<number> = new Set(Object.values(Kind));

/** Header fields of a fragment or parity datagram. */
export interface FragmentHeader {
  session: number;
  parity: boolean;
  seq: number;
  length: number;
  /** Fragment index, or the group number for parity. */
  index: number;
  count: number;
  size: number;
  fecGroup: number;
  /** Sent again after a NACK. */
  retransmit?: boolean;
}

/** Flag bit of a retransmitted fragment. */
export const FLAG_RETRANSMIT = 0x01;

/** A decoded datagram: its kind, session and the bytes after the common header. */
export interface Datagram {
  kind: KindId;
  session: number;
  body: Uint8Array;
}

/** Decodes the common header; undefined for anything that is not a framewire datagram (ignored, never answered). */
export function readDatagram(buf: Uint8Array): Datagram | undefined {
  if (buf.length < COMMON_HEADER_BYTES) return undefined;
  const v = viewOf(buf);
  if (v.getUint16(0) !== UDP_MAGIC || v.getUint8(2) !== UDP_VERSION) return undefined;
  const kind = v.getUint8(3);
  if (!kinds.has(kind)) return undefined;
  return { kind: kind as KindId, session: v.getUint32(4), body: buf.subarray(COMMON_HEADER_BYTES) };
}

/** Writes the common header at the start of `buf`. */
export function writeCommonHeader(buf: Uint8Array, kind: KindId, session: number): void {
  const v = viewOf(buf);
  v.setUint16(0, UDP_MAGIC);
  v.setUint8(2, UDP_VERSION);
  v.setUint8(3, kind);
  v.setUint32(4, session >>> 0);
}

/** A datagram of `kind` with `bodyBytes` zeroed bytes after the header. */
export function makeDatagram(kind: KindId, session: number, bodyBytes = 0): Uint8Array {
  const buf = new Uint8Array(COMMON_HEADER_BYTES + bodyBytes);
  writeCommonHeader(buf, kind, session);
  return buf;
}

/** Writes a 24-byte fragment/parity header. */
export function writeFragmentHeader(buf: Uint8Array, h: FragmentHeader): void {
  const v = viewOf(buf);
  writeCommonHeader(buf, h.parity ? Kind.parity : Kind.fragment, h.session);
  v.setUint32(8, h.seq >>> 0);
  v.setUint32(12, h.length >>> 0);
  v.setUint16(16, h.index);
  v.setUint16(18, h.count);
  v.setUint16(20, h.size);
  v.setUint8(22, h.fecGroup);
  v.setUint8(23, h.retransmit ? FLAG_RETRANSMIT : 0);
}

/**
 * Reads and checks a fragment/parity header from a whole datagram. Returns
 * undefined when the fields contradict each other (the datagram is dropped
 * and counted, never trusted).
 */
export function readFragmentHeader(buf: Uint8Array): FragmentHeader | undefined {
  if (buf.length < FRAGMENT_HEADER_BYTES) return undefined;
  const v = viewOf(buf);
  const parity = v.getUint8(3) === Kind.parity;
  const h: FragmentHeader = {
    session: v.getUint32(4),
    parity,
    seq: v.getUint32(8),
    length: v.getUint32(12),
    index: v.getUint16(16),
    count: v.getUint16(18),
    size: v.getUint16(20),
    fecGroup: v.getUint8(22),
    retransmit: (v.getUint8(23) & FLAG_RETRANSMIT) !== 0,
  };
  if (h.size === 0 || h.count === 0 || h.length === 0) return undefined;
  if (Math.ceil(h.length / h.size) !== h.count) return undefined;
  const payload = buf.length - FRAGMENT_HEADER_BYTES;
  if (parity) {
    if (h.fecGroup === 0 || h.index >= Math.ceil(h.count / h.fecGroup) || payload !== h.size) return undefined;
  } else {
    if (h.index >= h.count) return undefined;
    const expected = h.index === h.count - 1 ? h.length - h.index * h.size : h.size;
    if (payload !== expected) return undefined;
  }
  return h;
}

/** One NACK entry: a message seq and the fragment indexes missing (empty = the whole message). */
export interface NackEntry {
  seq: number;
  indexes: number[];
}

/** Encodes NACK entries into as few datagrams as fit in `maxBytes` each. */
export function encodeNacks(session: number, entries: readonly NackEntry[], maxBytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let parts: Uint8Array[] = [];
  let size = COMMON_HEADER_BYTES;
  const flush = (): void => {
    if (parts.length === 0) return;
    const head = makeDatagram(Kind.nack, session);
    out.push(concatBytes([head, ...parts]));
    parts = [];
    size = COMMON_HEADER_BYTES;
  };
  const perEntryMax = Math.max(1, Math.floor((maxBytes - COMMON_HEADER_BYTES - 6) / 2));
  for (const e of entries) {
    const chunks: (number[] | undefined)[] = [];
    if (e.indexes.length === 0) chunks.push(undefined);
    for (let i = 0; i < e.indexes.length; i += perEntryMax) chunks.push(e.indexes.slice(i, i + perEntryMax));
    for (const c of chunks) {
      const bytes = 6 + (c ? c.length * 2 : 0);
      if (size + bytes > maxBytes) flush();
      const b = new Uint8Array(bytes);
      const v = viewOf(b);
      v.setUint32(0, e.seq >>> 0);
      v.setUint16(4, c ? c.length : NACK_ALL);
      if (c) c.forEach((idx, k) => v.setUint16(6 + 2 * k, idx));
      parts.push(b);
      size += bytes;
    }
  }
  flush();
  return out;
}

/** Decodes the body of a NACK datagram; undefined if malformed. At most `maxEntries` entries. */
export function decodeNack(body: Uint8Array, maxEntries = 256): NackEntry[] | undefined {
  const v = viewOf(body);
  const out: NackEntry[] = [];
  let off = 0;
  while (off < body.length) {
    if (off + 6 > body.length || out.length >= maxEntries) return undefined;
    const seq = v.getUint32(off);
    const n = v.getUint16(off + 4);
    off += 6;
    if (n === NACK_ALL) {
      out.push({ seq, indexes: [] });
      continue;
    }
    if (off + 2 * n > body.length) return undefined;
    const indexes: number[] = [];
    for (let k = 0; k < n; k++) indexes.push(v.getUint16(off + 2 * k));
    off += 2 * n;
    out.push({ seq, indexes });
  }
  return out;
}

/** Serial-number comparison for u32 sequence numbers: a - b as a signed distance. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}
