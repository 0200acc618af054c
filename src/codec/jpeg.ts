/**
 * Reads a JPEG's picture size from its SOF marker without decoding.
 *
 * ```
 * FF D8                                   SOI
 * FF xx  len(2)  <len-2 bytes>            any marker segment (APPn, DQT, DHT, ...)
 * FF C0..CF (not C4, C8, CC)  len(2)      SOFn:
 *        precision(1) height(2) width(2) components(1) ...
 * ```
 *
 * Pure and bounded: it walks segment headers only, never scans entropy data.
 */
export interface JpegSize {
  width: number;
  height: number;
}

/** True if `buf` starts like a JPEG (SOI then a marker). */
export function looksLikeJpeg(buf: Buffer): boolean {
  return buf.length >= 4 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
}

/** The size in the first SOF marker, or undefined if `buf` is not a JPEG or has none before the scan. */
export function jpegSize(buf: Buffer): JpegSize | undefined {
  if (!looksLikeJpeg(buf)) return undefined;
  let i = 2;
  while (i + 4 <= buf.length) {
    if (buf[i] !== 0xff) return undefined;
    const marker = buf[i + 1] as number;
    // Fill bytes and standalone markers (RSTn, TEM) carry no length.
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // EOI or start of scan before any SOF
    const len = buf.readUInt16BE(i + 2);
    if (len < 2) return undefined;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (i + 9 > buf.length || len < 7) return undefined;
      const height = buf.readUInt16BE(i + 5);
      const width = buf.readUInt16BE(i + 7);
      return width > 0 && height > 0 ? { width, height } : undefined;
    }
    i += 2 + len;
  }
  return undefined;
}
