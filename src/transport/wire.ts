import type { EncodedFrame } from '../frame/frame.js';
import { encodeFrameHeader } from '../protocol/messages.js';

/**
 * Frame headers already encoded, by frame. The relay hands the same frame
 * object to every viewer of a stream (hundreds of them): its 32-byte header
 * is encoded for the first and reused for the rest. Weak: an entry goes with
 * its frame.
 */
const headers = new WeakMap<EncodedFrame, Uint8Array>();

/**
 * The native header of a frame message, encoded once per frame object and
 * shared by every channel that sends it. Frames are immutable once made
 * (see `EncodedFrame`), so the cached bytes stay right.
 */
export function frameHeader(frame: EncodedFrame): Uint8Array {
  let h = headers.get(frame);
  if (h === undefined) {
    // A Buffer view of the core's bytes: a socket writes a Buffer as it is, where a plain Uint8Array is wrapped on every write.
    h = asBuffer(encodeFrameHeader(frame));
    headers.set(frame, h);
  }
  return h;
}

/**
 * A Buffer view of `u8` (the same memory, no copy), for the Node and
 * protocol APIs that still take a Buffer.
 */
export function asBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}
