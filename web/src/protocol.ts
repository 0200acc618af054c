/**
 * The native framewire protocol for the browser: the same bytes as
 * src/protocol (see docs/protocol.md and src/protocol/header.ts for the
 * diagram), written with DataView instead of Node's Buffer.
 *
 * ```
 *  0: magic "FW" (u16) | version (u8) | type (u8)
 *  4: flags (u8) | reserved (u8) | header length (u16)
 *  8: payload length (u32)
 *  frames: 12 seq (u32) | 16 capture µs (u64) | 24 width (u16) | 26 height (u16) | 28 codec (u8) ...
 * ```
 */
export const MAGIC = 0x4657;
export const VERSION = 1;
export const FIXED = 12;
export const FRAME_HEADER = 32;
export const T = { hello: 1, welcome: 2, error: 3, ping: 4, pong: 5, stats: 6, bye: 7, ack: 8, frame: 0x10 } as const;
const NAMES = new Map<number, ControlType>(Object.entries(T).filter(([n]) => n !== 'frame').map(([n, v]) => [v, n as ControlType]));

/** Control message names. */
export type ControlType = Exclude<keyof typeof T, 'frame'>;

/** A decoded frame: the payload is a view into the received message. */
export interface WireFrame {
  seq: number;
  captureUs: number;
  width: number;
  height: number;
  key: boolean;
  data: Uint8Array<ArrayBuffer>;
}

/** A decoded message. Control bodies are plain JSON objects. */
export type WireMessage = { type: 'frame'; frame: WireFrame } | { type: ControlType; body: Record<string, unknown> };

/** Microseconds on this page's wall clock (same definition as the Node side's `nowUs`). */
export function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function writeFixed(v: DataView, type: number, flags: number, headerLength: number, payloadLength: number): void {
  v.setUint16(0, MAGIC);
  v.setUint8(2, VERSION);
  v.setUint8(3, type);
  v.setUint8(4, flags);
  v.setUint8(5, 0);
  v.setUint16(6, headerLength);
  v.setUint32(8, payloadLength);
}

/** Encodes a control message: 12-byte header + UTF-8 JSON. */
export function encodeControl(type: ControlType, body: object): Uint8Array<ArrayBuffer> {
  const json = enc.encode(JSON.stringify(body));
  const out = new Uint8Array(FIXED + json.length);
  writeFixed(new DataView(out.buffer), T[type], 0, FIXED, json.length);
  out.set(json, FIXED);
  return out;
}

/** Encodes a whole frame message (header + JPEG) into one buffer. */
export function encodeFrame(f: Omit<WireFrame, 'key'>): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(FRAME_HEADER + f.data.length);
  const v = new DataView(out.buffer);
  writeFixed(v, T.frame, 1, FRAME_HEADER, f.data.length);
  v.setUint32(12, f.seq >>> 0);
  const us = Math.max(0, Math.floor(f.captureUs));
  v.setUint32(16, Math.floor(us / 0x1_0000_0000) >>> 0);
  v.setUint32(20, us % 0x1_0000_0000 >>> 0);
  v.setUint16(24, f.width);
  v.setUint16(26, f.height);
  v.setUint8(28, 1);
  out.set(f.data, FRAME_HEADER);
  return out;
}

/** Decodes one whole message (one WebSocket message). Throws an Error with a reason on bad input. */
export function decodeMessage(buf: ArrayBuffer): WireMessage {
  if (buf.byteLength < FIXED) throw new Error(`message of ${buf.byteLength} bytes is shorter than a header`);
  const v = new DataView(buf);
  if (v.getUint16(0) !== MAGIC) throw new Error('bad magic');
  if (v.getUint8(2) !== VERSION) throw new Error(`protocol version ${v.getUint8(2)} is not supported`);
  const type = v.getUint8(3);
  const headerLength = v.getUint16(6);
  const payloadLength = v.getUint32(8);
  if (headerLength + payloadLength !== buf.byteLength) throw new Error('length mismatch');
  if (type === T.frame) {
    if (headerLength < FRAME_HEADER) throw new Error('short frame header');
    return {
      type: 'frame',
      frame: {
        seq: v.getUint32(12),
        captureUs: v.getUint32(16) * 0x1_0000_0000 + v.getUint32(20),
        width: v.getUint16(24),
        height: v.getUint16(26),
        key: (v.getUint8(4) & 1) !== 0,
        data: new Uint8Array(buf, headerLength, payloadLength),
      },
    };
  }
  const name = NAMES.get(type);
  if (!name) throw new Error(`unknown message type ${type}`);
  const body: unknown = JSON.parse(dec.decode(new Uint8Array(buf, headerLength, payloadLength)));
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error(`${name} body is not an object`);
  return { type: name, body: body as Record<string, unknown> };
}

/** Reads a number field of a control body (NaN if absent). */
export function num(body: Record<string, unknown>, key: string): number {
  const v = body[key];
  return typeof v === 'number' ? v : NaN;
}
