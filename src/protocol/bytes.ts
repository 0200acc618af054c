/**
 * Byte helpers for the pure core: plain `Uint8Array` and `DataView`, so the
 * same code runs in Node (a `Buffer` is a `Uint8Array`) and in a browser.
 * Nothing here copies unless it says so.
 */

/** A DataView over exactly the bytes of `u8` (no copy). */
export function viewOf(u8: Uint8Array): DataView {
  return new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** Joins `parts` into one new array of `total` bytes (default: their sum). One copy. */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  let n = total;
  if (n === undefined) {
    n = 0;
    for (const p of parts) n += p.length;
  }
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    if (off >= n) break;
    const take = Math.min(p.length, n - off);
    out.set(take === p.length ? p : p.subarray(0, take), off);
    off += take;
  }
  return out;
}

/** True when both hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const encoder = new TextEncoder();
/** Strict decoder: invalid UTF-8 throws instead of becoming U+FFFD. */
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of `s`. */
export function utf8Encode(s: string): Uint8Array {
  return encoder.encode(s);
}

/** The text of UTF-8 `bytes`; throws a TypeError on invalid UTF-8. */
export function utf8Decode(bytes: Uint8Array): string {
  return strictDecoder.decode(bytes);
}

/** Writes a 53-bit non-negative integer as two big-endian u32 halves at `offset`. */
export function setU64(v: DataView, offset: number, value: number): void {
  const x = Math.max(0, Math.floor(value));
  v.setUint32(offset, Math.floor(x / 0x1_0000_0000) >>> 0);
  v.setUint32(offset + 4, (x % 0x1_0000_0000) >>> 0);
}

/** Reads a u64 written by {@link setU64} (exact up to 2^53). */
export function getU64(v: DataView, offset: number): number {
  return v.getUint32(offset) * 0x1_0000_0000 + v.getUint32(offset + 4);
}
