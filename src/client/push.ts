import { jpegSize } from '../codec/jpeg.js';
import { encodeProfile, type Profile, type RawPicture } from '../codec/transcode.js';
import { ErrorCodes, FramewireError } from '../errors.js';
import { nowUs } from '../frame/clock.js';
import type { EncodedFrame } from '../frame/frame.js';
import type { VideoParams } from '../protocol/messages.js';
import { asBuffer } from '../transport/wire.js';
import type { ClientConnection } from './connection.js';
import { Publication, type PublicationStats, type PublishOptions } from './publication.js';
import type { StreamUrl } from './url.js';

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
    if (!size)
      throw new FramewireError(
        ErrorCodes.NOT_JPEG,
        `send() was given ${input.length} bytes that are not a JPEG (no SOI and SOF marker); raw pixels go as { data, width, height, format }`,
      );
    return { kind: 'jpeg', data: asBuffer(input), width: size.width, height: size.height, captureUs };
  }
  if (typeof input !== 'object' || input === null || !(input.data instanceof Uint8Array)) {
    throw new FramewireError(
      ErrorCodes.BAD_OPTION,
      'send() takes JPEG bytes (a Uint8Array) or { data: Uint8Array, width, height, format }',
    );
  }
  const { data, width, height, format } = input;
  const channels = Object.hasOwn(CHANNELS, format) ? CHANNELS[format] : undefined;
  if (channels === undefined)
    throw new FramewireError(ErrorCodes.BAD_OPTION, `format must be rgb, rgba, bgr or gray, got ${JSON.stringify(format)}`);
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_DIMENSION)
      throw new FramewireError(ErrorCodes.BAD_OPTION, `${name} must be a whole number in [1, ${MAX_DIMENSION}], got ${v}`);
  }
  const expected = width * height * channels;
  if (data.length !== expected) {
    throw new FramewireError(
      ErrorCodes.BAD_FRAME,
      `${width}x${height} ${format} is ${expected} bytes (${width} × ${height} × ${channels}), data has ${data.length}`,
    );
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

/** BGR → RGB in place (our own copy of the caller's pixels). */
function swapRedBlue(px: Buffer): void {
  for (let i = 0; i + 2 < px.length; i += 3) {
    const b = px[i] as number;
    px[i] = px[i + 2] as number;
    px[i + 2] = b;
  }
}

/**
 * Options for {@link publish} without a source (frames your code makes,
 * given to {@link PushPublication.send}). `width`, `height` and `fps` are
 * declared to the relay; raw pixels are encoded at `quality` (default 75)
 * and fitted inside `width`×`height` when given (never enlarged).
 */
export interface PushPublishOptions extends Omit<PublishOptions, 'closeSource'>, VideoParams {}

/** Figures of a {@link PushPublication}. */
export interface PushPublicationStats extends PublicationStats {
  /** Pictures `send()` took that a newer one replaced before they could go out (latest-frame-wins). */
  framesReplaced: number;
}

/** Quality raw pixels are encoded at when neither the options nor the relay say. */
const DEFAULT_QUALITY = 75;

/**
 * A publication of frames your own code makes (imagezmq's `send_image`,
 * vidgear's `NetGear.send`): call {@link send} whenever a picture is ready.
 * Latest-frame-wins: while a frame is being encoded or the socket is backed
 * up, the newest picture given waits in a single slot and each one it
 * replaces is counted (`framesReplaced`) — there is never a queue. While the
 * relay is away (reconnecting) frames are dropped and counted
 * (`framesNotSent`).
 */
export class PushPublication extends Publication {
  /** The one picture waiting for the wire, and the settle function of its `send()` promise. */
  private pending: { picture: PendingPicture; settle: (sent: boolean) => void } | undefined;
  private flushing = false;
  private replaced = 0;
  private readonly defaultQuality: number;

  /** @internal use {@link publish} without a source */
  constructor(url: StreamUrl, options: PushPublishOptions, params: VideoParams) {
    super(url, options, undefined, params);
    this.defaultQuality = params.quality ?? DEFAULT_QUALITY;
  }

  /**
   * Sends one picture: JPEG bytes as they are (keep them unchanged
   * afterwards), or raw pixels `{ data, width, height, format }` encoded
   * with sharp at the negotiated quality (and fitted inside the granted
   * size, if any); raw `data` is copied, so the buffer may be reused at once.
   *
   * Returns at once; the picture goes out as soon as the link can take it.
   * The promise (it never rejects) says what became of it: true once it
   * was written to the connection, false if a newer picture replaced it, the
   * relay was away, or the publication closed first. Awaiting it paces a
   * producer to the link; not awaiting it is latest-frame-wins.
   *
   * @param captureUs - when the picture was taken, µs on {@link nowUs}'s clock. Default: now.
   * @throws FramewireError (synchronously) `FW_NOT_JPEG` for bytes that are
   *   not a JPEG, `FW_BAD_FRAME` when `data.length` ≠ width × height ×
   *   channels, `FW_BAD_OPTION` for a bad size or format; after the
   *   publication ended, its fatal error or `FW_CONNECTION_CLOSED`.
   */
  send(picture: Uint8Array | RawImage, captureUs: number = nowUs()): Promise<boolean> {
    if (this.closed) throw this.fatalError ?? new FramewireError(ErrorCodes.CONNECTION_CLOSED, 'the publication is closed');
    const taken = takePicture(picture, captureUs);
    return new Promise<boolean>((settle) => {
      if (this.pending) {
        this.replaced++;
        this.pending.settle(false);
      }
      this.pending = { picture: taken, settle };
      void this.flush();
    });
  }

  /** Figures over the last second, with the pictures replaced before they went out. */
  override stats(): PushPublicationStats {
    return { ...super.stats(), framesReplaced: this.replaced };
  }

  /** Sends the pending picture, then the next one given meanwhile, until the slot is empty. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (let p = this.pending; p && !this.closed; p = this.pending) {
        const c = this.connection;
        if (!c) {
          this.pending = undefined;
          this.notSent++;
          p.settle(false);
          continue;
        }
        if (c.channel.backedUp) {
          // Wait with the picture in the slot: newer ones replace it meanwhile.
          await this.writable(c);
          continue;
        }
        this.pending = undefined;
        const g = c.welcome.granted;
        let frame: Omit<EncodedFrame, 'seq'>;
        try {
          frame = await encodePicture(p.picture, { width: g.width, height: g.height, quality: g.quality }, this.defaultQuality);
        } catch (err) {
          this.notSent++;
          p.settle(false);
          process.emitWarning(`framewire: encoding a ${p.picture.kind} picture failed: ${String(err)}`);
          continue;
        }
        const sent = this.sendFrame(frame);
        if (!sent) this.notSent++;
        p.settle(sent);
      }
    } finally {
      this.flushing = false;
    }
    if (this.closed && this.pending) {
      this.pending.settle(false);
      this.pending = undefined;
    }
  }

  /** Resolves when `c` can take more (drain), closes, or the publication ends. */
  private writable(c: ClientConnection): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        c.channel.off('drain', done);
        c.channel.off('close', done);
        this.off('close', done);
        resolve();
      };
      c.channel.on('drain', done);
      c.channel.on('close', done);
      this.on('close', done);
    });
  }
}
