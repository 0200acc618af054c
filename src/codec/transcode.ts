import sharp from 'sharp';

/**
 * sharp's JPEG settings for live frames: 4:2:0 chroma and the standard
 * Huffman tables. Optimised tables (sharp's default) save about a tenth of
 * the bytes but nearly double the encode time (7.3 → 3.9 ms for a noisy
 * 720p frame on our 2-core test machine), and encode time is latency.
 */
export const LIVE_JPEG = { chromaSubsampling: '4:2:0', optimiseCoding: false } as const;

/** A rendition profile: what a viewer asked for that differs from the source. */
export interface Profile {
  /** Target width; with only one of width/height the other keeps the aspect ratio. */
  width?: number;
  height?: number;
  /** JPEG quality 1–100. */
  quality?: number;
}

/** A decoded picture (RGB or RGBA, as sharp decoded it). */
export interface RawPicture {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** A stable key for a profile ("640x360q60", "640x?q75"). */
export function profileKey(p: Profile, defaultQuality: number): string {
  return `${p.width ?? '?'}x${p.height ?? '?'}q${p.quality ?? defaultQuality}`;
}

/** True if delivering `src` as it is already satisfies `p` (no upscaling, no quality change asked). */
export function satisfiedBySource(p: Profile, srcWidth: number, srcHeight: number): boolean {
  if (p.quality !== undefined) return false;
  const w = p.width ?? srcWidth;
  const h = p.height ?? srcHeight;
  return w >= srcWidth && h >= srcHeight;
}

/**
 * The size a rendition of a `srcWidth`×`srcHeight` source has: the largest
 * that fits inside the profile's box with the source's aspect ratio (one
 * side given: that side, the other in proportion), never enlarged, each
 * side rounded to the nearest pixel and at least 1. What the relay grants
 * and what {@link encodeProfile} makes.
 */
export function renditionSize(p: Profile, srcWidth: number, srcHeight: number): { width: number; height: number } {
  const sx = p.width !== undefined ? p.width / srcWidth : 1;
  const sy = p.height !== undefined ? p.height / srcHeight : 1;
  const s = Math.min(1, sx, sy);
  if (s === 1) return { width: srcWidth, height: srcHeight };
  // The side that sets the scale is exactly what was asked (no floating-point drift).
  const width = s === sx && p.width !== undefined ? p.width : Math.max(1, Math.round(srcWidth * s));
  const height = s === sy && p.height !== undefined ? p.height : Math.max(1, Math.round(srcHeight * s));
  return { width, height };
}

/** Decodes a JPEG once to raw pixels (libjpeg-turbo through sharp, off the main thread). */
export async function decodeJpeg(jpeg: Uint8Array, maxPixels = 8192 * 8192): Promise<RawPicture> {
  const { data, info } = await sharp(jpeg, { limitInputPixels: maxPixels }).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/**
 * Resizes a decoded picture to {@link renditionSize} (fits inside the
 * profile's box, aspect kept, never enlarged) and encodes it to JPEG.
 */
export async function encodeProfile(
  pic: RawPicture,
  p: Profile,
  defaultQuality: number,
): Promise<{ data: Buffer; width: number; height: number }> {
  let img = sharp(pic.data, { raw: { width: pic.width, height: pic.height, channels: pic.channels } });
  const size = renditionSize(p, pic.width, pic.height);
  if (size.width !== pic.width || size.height !== pic.height) img = img.resize(size.width, size.height, { fit: 'fill' });
  const { data, info } = await img.jpeg({ ...LIVE_JPEG, quality: p.quality ?? defaultQuality }).toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
