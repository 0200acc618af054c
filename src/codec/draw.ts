/**
 * Tiny RGB raster helpers for the pictures framewire makes itself (the test
 * pattern, the "no live video" placeholder): filled rectangles, discs and
 * seven-segment digits. No fonts, no dependencies, no I/O; pixels are 3
 * bytes (RGB).
 */

/** An RGB image in a Buffer, 3 bytes a pixel, rows packed. */
export interface Raster {
  readonly width: number;
  readonly height: number;
  readonly data: Buffer;
}

/** An RGB colour. */
export type Rgb = readonly [number, number, number];

/** Fills a rectangle, clipped to the raster. */
export function fillRect(r: Raster, x: number, y: number, w: number, h: number, c: Rgb): void {
  const x0 = Math.max(0, Math.floor(x));
  const y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(r.width, Math.floor(x + w));
  const y1 = Math.min(r.height, Math.floor(y + h));
  if (x1 <= x0 || y1 <= y0) return;
  const rowBytes = (x1 - x0) * 3;
  // Paint the first row pixel by pixel, then copy it down: memcpy is far faster than a JS loop.
  const first = (y0 * r.width + x0) * 3;
  for (let i = first; i < first + rowBytes; i += 3) {
    r.data[i] = c[0];
    r.data[i + 1] = c[1];
    r.data[i + 2] = c[2];
  }
  for (let y = y0 + 1; y < y1; y++) r.data.copy(r.data, (y * r.width + x0) * 3, first, first + rowBytes);
}

/** Fills a disc centred at (cx, cy). */
export function fillDisc(r: Raster, cx: number, cy: number, radius: number, c: Rgb): void {
  for (let dy = -radius; dy <= radius; dy++) {
    const half = Math.floor(Math.sqrt(radius * radius - dy * dy));
    fillRect(r, cx - half, cy + dy, half * 2 + 1, 1, c);
  }
}

// Segments a..g of each digit as bits: a=top, b=top right, c=bottom right, d=bottom, e=bottom left, f=top left, g=middle.
const SEGMENTS = [0x3f, 0x06, 0x5b, 0x4f, 0x66, 0x6d, 0x7d, 0x07, 0x7f, 0x6f];

/** Width of one digit cell (including spacing) for a digit height `h`. */
export function digitAdvance(h: number): number {
  return Math.round(h * 0.62);
}

/** Draws one seven-segment digit with its top-left at (x, y), `h` pixels tall. */
export function drawDigit(r: Raster, x: number, y: number, h: number, digit: number, c: Rgb): void {
  const w = Math.round(h * 0.5);
  const t = Math.max(2, Math.round(h * 0.1));
  const half = Math.round(h / 2);
  const bits = SEGMENTS[digit] ?? 0;
  if (bits & 0x01) fillRect(r, x, y, w, t, c);
  if (bits & 0x02) fillRect(r, x + w - t, y, t, half, c);
  if (bits & 0x04) fillRect(r, x + w - t, y + half, t, h - half, c);
  if (bits & 0x08) fillRect(r, x, y + h - t, w, t, c);
  if (bits & 0x10) fillRect(r, x, y + half, t, h - half, c);
  if (bits & 0x20) fillRect(r, x, y, t, half, c);
  if (bits & 0x40) fillRect(r, x, y + half - Math.floor(t / 2), w, t, c);
}

/**
 * Draws a string of digits, ':' and '.' with its top-left at (x, y). Returns
 * the x after the last character. Other characters leave a gap.
 */
export function drawText(r: Raster, x: number, y: number, h: number, text: string, c: Rgb): number {
  const t = Math.max(2, Math.round(h * 0.1));
  for (const ch of text) {
    if (ch >= '0' && ch <= '9') {
      drawDigit(r, x, y, h, ch.charCodeAt(0) - 48, c);
      x += digitAdvance(h);
    } else if (ch === ':') {
      fillRect(r, x, y + Math.round(h * 0.25), t, t, c);
      fillRect(r, x, y + Math.round(h * 0.7), t, t, c);
      x += t * 3;
    } else if (ch === '.') {
      fillRect(r, x, y + h - t, t, t, c);
      x += t * 3;
    } else {
      x += digitAdvance(h);
    }
  }
  return x;
}

/** Width `drawText` would use for `text`. */
export function textWidth(h: number, text: string): number {
  const t = Math.max(2, Math.round(h * 0.1));
  let w = 0;
  for (const ch of text) w += ch === ':' || ch === '.' ? t * 3 : digitAdvance(h);
  return w;
}
