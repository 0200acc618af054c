import { jpegSize } from '../codec/jpeg.js';
import { encodeProfile, type Profile, type RawPicture } from '../codec/transcode.js';
import { ErrorCodes, FramewireError } from '../errors.js';
import type { EncodedFrame } from '../frame/frame.js';

/** Pixel layouts {@link PushPublication.send} takes: bytes per pixel 3, 4, 3 and 1. */
export type PixelFormat = 'rgb' | 'rgba' | 'bgr' | 'gray';

/**
 * Raw pixels for {@link PushPublication.send}: `width × height` pixels, row
 * by row with no padding, `data.length === width × height × channels`
 * (rgb and bgr 3, rgba 4, gray 1). `bgr` is OpenCV's order.
 */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  format: PixelFormat;
}

const CHANNELS: Readonly<Record<PixelFormat, 1 | 3 | 4>> = { rgb: 3, rgba: 4, bgr: 3, gray: 1 };
/** Largest width or height the frame header can carry. */
const MAX_DIMENSION = 65_535;

/** A picture accepted by `send()`, waiting for its turn on the wire. */
export type PendingPicture =
  | { kind: 'jpeg'; data: Buffer; width: number; height: number; captureUs: number }
  | { kind: 'raw'; picture: RawPicture; captureUs: number; bgr: boolean };

/**
 * Checks what the caller passed to `send()` and takes it in: JPEG bytes are
 * kept as they are (not copied: do not change them after `send()`); raw
 * pixels are copied (one memcpy), so the caller may reuse its buffer at
 * once. BGR is swapped to RGB only when the picture is encoded, so a
 * picture replaced before its turn costs no more than its copy.
 *
 * @throws FramewireError `FW_NOT_JPEG` for bytes that are not a JPEG with a
 *   readable size, `FW_BAD_FRAME` when `data.length` is not
 *   `width × height × channels`, `FW_BAD_OPTION` for a bad size, format or
 *   argument.
 */
export function takePicture(input: Uint8Array | RawImage, captureUs: number): PendingPicture {
  if (input instanceof Uint8Array) {
    const size = jpegSize(input);
    if (!size) throw new FramewireError(ErrorCodes.NOT_JPEG, `send() was given ${input.length} bytes that are not a JPEG (no SOI and SOF marker); raw pixels go as { data, width, height, format }`);
    return { kind: 'jpeg', data: asBuffer(input), width: size.width, height: size.height, captureUs };
  }
  if (typeof input !== 'object' || input === null || !(input.data instanceof Uint8Array)) {
    throw new FramewireError(ErrorCodes.BAD_OPTION, 'send() takes JPEG bytes (a Uint8Array) or { data: Uint8Array, width, height, format }');
  }
  const { data, width, height, format } = input;
  const channels = Object.hasOwn(CHANNELS, format) ? CHANNELS[format] : undefined;
  if (channels === undefined) throw new FramewireError(ErrorCodes.BAD_OPTION, `format must be rgb, rgba, bgr or gray, got ${JSON.stringify(format)}`);
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_DIMENSION) throw new FramewireError(ErrorCodes.BAD_OPTION, `${name} must be a whole number in [1, ${MAX_DIMENSION}], got ${v}`);
  }
  const expected = width * height * channels;
  if (data.length !== expected) {
    throw new FramewireError(ErrorCodes.BAD_FRAME, `${width}x${height} ${format} is ${expected} bytes (${width} × ${height} × ${channels}), data has ${data.length}`);
  }
  const pixels = Buffer.allocUnsafe(data.length);
  pixels.set(data);
  return { kind: 'raw', picture: { data: pixels, width, height, channels }, captureUs, bgr: format === 'bgr' };
}

/** Encodes a pending picture for the wire: JPEG as it is, raw pixels with sharp at `profile` (quality, and fit inside its size). */
export async function encodePicture(p: PendingPicture, profile: Profile, defaultQuality: number): Promise<Omit<EncodedFrame, 'seq'>> {
  if (p.kind === 'jpeg') return { captureUs: p.captureUs, width: p.width, height: p.height, codec: 'jpeg', key: true, data: p.data };
  if (p.bgr) {
    swapRedBlue(p.picture.data);
    p.bgr = false;
  }
  const out = await encodeProfile(p.picture, profile, defaultQuality);
  return { captureUs: p.captureUs, width: out.width, height: out.height, codec: 'jpeg', key: true, data: out.data };
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** BGR → RGB in place (our own copy of the caller's pixels). */
function swapRedBlue(px: Buffer): void {
  for (let i = 0; i + 2 < px.length; i += 3) {
    const b = px[i] as number;
    px[i] = px[i + 2] as number;
    px[i + 2] = b;
  }
}
