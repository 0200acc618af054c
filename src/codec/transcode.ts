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

/** Decodes a JPEG once to raw pixels (libjpeg-turbo through sharp, off the main thread). */
export async function decodeJpeg(jpeg: Uint8Array, maxPixels = 8192 * 8192): Promise<RawPicture> {
  const { data, info } = await sharp(jpeg, { limitInputPixels: maxPixels }).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/**
 * Resizes a decoded picture to fit inside the profile's box (aspect kept,
 * never enlarged) and encodes it to JPEG.
 */
export async function encodeProfile(pic: RawPicture, p: Profile, defaultQuality: number): Promise<{ data: Buffer; width: number; height: number }> {
  let img = sharp(pic.data, { raw: { width: pic.width, height: pic.height, channels: pic.channels } });
  if (p.width !== undefined || p.height !== undefined) {
    img = img.resize(p.width ?? null, p.height ?? null, { fit: 'inside', withoutEnlargement: true });
  }
  const { data, info } = await img
    .jpeg({ ...LIVE_JPEG, quality: p.quality ?? defaultQuality })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
