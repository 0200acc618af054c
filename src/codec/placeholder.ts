import sharp from 'sharp';
import { fillRect, type Raster } from './draw.js';
import { LIVE_JPEG } from './transcode.js';

/** Sizes of "no live video" pictures kept at once (each is a few KB). */
const MAX_CACHED = 8;
const cache = new Map<string, Promise<Buffer>>();

/**
 * A "no live video" JPEG of the given size: a dark picture with a pause
 * sign (no fonts needed), what MJPEG clients see while a stream has no
 * publisher, as ustreamer shows "NO SIGNAL". Made once per size; a few
 * sizes are cached.
 */
export function noLiveVideoJpeg(width: number, height: number): Promise<Buffer> {
  const w = Math.min(Math.max(16, Math.round(width)), 3840);
  const h = Math.min(Math.max(16, Math.round(height)), 2160);
  const key = `${w}x${h}`;
  let jpeg = cache.get(key);
  if (!jpeg) {
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
    jpeg = draw(w, h);
    cache.set(key, jpeg);
    jpeg.catch(() => cache.delete(key));
  }
  return jpeg;
}

async function draw(width: number, height: number): Promise<Buffer> {
  const r: Raster = { width, height, data: Buffer.alloc(width * height * 3, 0x22) };
  const unit = Math.max(2, Math.round(Math.min(width, height) / 12));
  const cx = Math.round(width / 2);
  const cy = Math.round(height / 2);
  // A rounded-looking panel and two bars: ❚❚.
  fillRect(r, cx - 3 * unit, cy - 3 * unit, 6 * unit, 6 * unit, [0x33, 0x33, 0x3a]);
  fillRect(r, cx - 2 * unit, cy - 2 * unit, unit + Math.round(unit / 3), 4 * unit, [0xd0, 0xd0, 0xd0]);
  fillRect(r, cx + unit - Math.round(unit / 3), cy - 2 * unit, unit + Math.round(unit / 3), 4 * unit, [0xd0, 0xd0, 0xd0]);
  // A red bar along the bottom, as a "not live" badge.
  fillRect(r, 0, height - Math.max(2, Math.round(unit / 3)), width, Math.max(2, Math.round(unit / 3)), [0xc0, 0x30, 0x30]);
  return sharp(r.data, { raw: { width, height, channels: 3 } })
    .jpeg({ ...LIVE_JPEG, quality: 70 })
    .toBuffer();
}
