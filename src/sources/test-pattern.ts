import sharp from 'sharp';
import { LIVE_JPEG } from '../codec/transcode.js';
import { ErrorCodes, FramewireError } from '../errors.js';
import { nowUs, type Clock } from '../frame/clock.js';
import type { EncodedFrame, FrameSource } from '../frame/frame.js';
import { drawText, fillDisc, fillRect, textWidth, type Raster, type Rgb } from '../codec/draw.js';

/** Options for {@link testPattern}. */
export interface TestPatternOptions {
  /** Default 1280. */
  width?: number;
  /** Default 720. */
  height?: number;
  /** Frames per second; 0 means as fast as the encoder goes. Default 30. */
  fps?: number;
  /** JPEG quality 1–100. Default 75. */
  quality?: number;
  /** Stop after this many frames. Default: never. */
  frames?: number;
  /** Clock for capture stamps and pacing (µs). */
  clock?: Clock;
}

const BARS: Rgb[] = [
  [192, 192, 192],
  [192, 192, 0],
  [0, 192, 192],
  [0, 192, 0],
  [192, 0, 192],
  [192, 0, 0],
  [0, 0, 192],
];
const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [16, 16, 16];

/**
 * An animated test pattern drawn in-process and encoded to JPEG with sharp
 * (libjpeg-turbo): colour bars, a bouncing ball, a sweeping bar, a large
 * frame counter and the wall-clock time as seven-segment digits. Needs no
 * camera and no ffmpeg. Frames are paced on an absolute schedule (no drift);
 * when the consumer falls behind, missed ticks are skipped, never queued.
 */
export function testPattern(options: TestPatternOptions = {}): FrameSource {
  const width = intOption(options.width, 1280, 16, 8192, 'width');
  const height = intOption(options.height, 720, 16, 8192, 'height');
  const fps = numOption(options.fps, 30, 0, 1000, 'fps');
  const quality = intOption(options.quality, 75, 1, 100, 'quality');
  const limit = options.frames ?? Infinity;
  const clock = options.clock ?? nowUs;
  const intervalUs = fps > 0 ? 1e6 / fps : 0;

  const background = drawBackground(width, height);
  // Two rasters: one may still be read by sharp while the next is drawn.
  const rasters: Raster[] = [0, 1].map(() => ({ width, height, data: Buffer.allocUnsafe(width * height * 3) }));
  let seq = 0;
  let startUs: number | undefined;
  let tick = 0;
  let closed = false;
  let wakeClosed: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;

  const waitUntil = (dueUs: number): Promise<void> =>
    new Promise((resolve) => {
      const ms = (dueUs - clock()) / 1000;
      if (ms <= 0.5) return resolve();
      wakeClosed = resolve;
      timer = setTimeout(
        () => {
          wakeClosed = undefined;
          resolve();
        },
        Math.max(0, ms - 0.5),
      );
    });

  async function next(): Promise<IteratorResult<EncodedFrame>> {
    if (closed || seq >= limit) return { value: undefined, done: true };
    if (intervalUs > 0) {
      startUs ??= clock();
      let due = startUs + tick * intervalUs;
      const now = clock();
      // Behind by more than a tick: skip the missed ticks instead of bursting.
      if (now - due > intervalUs) {
        tick = Math.floor((now - startUs) / intervalUs);
        due = startUs + tick * intervalUs;
      }
      await waitUntil(due);
      tick++;
      if (closed) return { value: undefined, done: true };
    }
    const captureUs = clock();
    const raster = rasters[seq % 2] as Raster;
    background.copy(raster.data);
    drawFrame(raster, seq, captureUs);
    let data: Buffer;
    try {
      data = await sharp(raster.data, { raw: { width, height, channels: 3 } })
        .jpeg({ ...LIVE_JPEG, quality })
        .toBuffer();
    } catch (err) {
      throw FramewireError.sourceFailed(`JPEG encoding failed: ${String(err)}`, err);
    }
    if (closed) return { value: undefined, done: true };
    const frame: EncodedFrame = { seq: seq >>> 0, captureUs, width, height, codec: 'jpeg', key: true, data };
    seq++;
    return { value: frame, done: false };
  }

  const source: FrameSource = {
    info: { width, height, fps },
    close(): void {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      wakeClosed?.();
    },
    [Symbol.asyncIterator](): AsyncIterator<EncodedFrame> {
      return {
        next,
        return: async () => {
          source.close();
          return { value: undefined, done: true };
        },
      };
    },
  };
  return source;
}

function drawBackground(width: number, height: number): Buffer {
  const r: Raster = { width, height, data: Buffer.alloc(width * height * 3) };
  const barW = width / BARS.length;
  BARS.forEach((c, i) => fillRect(r, Math.round(i * barW), 0, Math.ceil(barW), Math.round(height * 0.62), c));
  // A grey ramp below the bars.
  const steps = 16;
  for (let i = 0; i < steps; i++) {
    const v = Math.round((255 * i) / (steps - 1));
    fillRect(r, Math.round((i * width) / steps), Math.round(height * 0.62), Math.ceil(width / steps), height, [v, v, v]);
  }
  return r.data;
}

function drawFrame(r: Raster, seq: number, captureUs: number): void {
  const { width: w, height: h } = r;
  // A bar sweeping left to right, once every 2 s at 30 fps.
  const barX = Math.round(((seq % 60) / 60) * w);
  fillRect(r, barX, 0, Math.max(4, Math.round(w / 80)), Math.round(h * 0.62), WHITE);
  // Frame counter, large, centred on a dark plate.
  const counter = String(seq).padStart(6, '0');
  const ch = Math.round(h / 5);
  const cw = textWidth(ch, counter);
  const cx = Math.round((w - cw) / 2);
  const cy = Math.round(h * 0.2);
  fillRect(r, cx - ch / 5, cy - ch / 5, cw + (ch * 2) / 5, ch + (ch * 2) / 5, BLACK);
  drawText(r, cx, cy, ch, counter, WHITE);
  // Wall-clock time HH:MM:SS.mmm (UTC), smaller, at the bottom.
  const d = new Date(captureUs / 1000);
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
  const th = Math.round(h / 12);
  const tw = textWidth(th, time);
  const tx = Math.round((w - tw) / 2);
  const ty = Math.round(h * 0.8);
  fillRect(r, tx - th / 4, ty - th / 4, tw + th / 2, th + th / 2, BLACK);
  drawText(r, tx, ty, th, time, [96, 255, 96]);
  // A ball bouncing around the frame, over everything else.
  const radius = Math.max(4, Math.round(h / 14));
  const bx = bounce(seq * 7, w - 2 * radius) + radius;
  const by = bounce(seq * 5, h - 2 * radius) + radius;
  fillDisc(r, bx, by, radius, [255, 64, 32]);
}

function bounce(t: number, span: number): number {
  if (span <= 0) return 0;
  const p = t % (2 * span);
  return p < span ? p : 2 * span - p;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

function intOption(v: number | undefined, dflt: number, min: number, max: number, name: string): number {
  const n = numOption(v, dflt, min, max, name);
  if (!Number.isInteger(n)) throw new FramewireError(ErrorCodes.BAD_OPTION, `${name} must be an integer, got ${v}`);
  return n;
}

function numOption(v: number | undefined, dflt: number, min: number, max: number, name: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new FramewireError(ErrorCodes.BAD_OPTION, `${name} must be a number in [${min}, ${max}], got ${v}`);
  }
  return v;
}
