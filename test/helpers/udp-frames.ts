import { nowUs } from '../../src/frame/clock.js';
import type { EncodedFrame, FrameSource } from '../../src/frame/frame.js';
import sharp from 'sharp';

/**
 * Encodes `count` noisy JPEGs once (sharp), to be replayed without encoding
 * cost. Sensor-like noise makes them as large as a real camera's: about
 * 125 KB at 1920x1080, q75 (a test pattern compresses to under 64 KB).
 */
export async function encodeFrames(width: number, height: number, count: number, quality = 75, sigma = 6): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const background = { r: 60 + ((i * 37) % 120), g: 110, b: 150 };
    out.push(
      await sharp({ create: { width, height, channels: 3, background, noise: { type: 'gaussian', mean: 128, sigma } } })
        .jpeg({ quality })
        .toBuffer(),
    );
  }
  return out;
}

/**
 * A source that replays pre-encoded pictures at `fps` with fresh seq and
 * capture time, for `frames` frames. Paced on an absolute schedule.
 */
export function replaySource(pictures: readonly Buffer[], width: number, height: number, fps: number, frames: number): FrameSource {
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const intervalUs = 1e6 / fps;
  return {
    info: { width, height, fps },
    close() {
      closed = true;
      clearTimeout(timer);
      wake?.();
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<EncodedFrame> {
      const start = nowUs();
      for (let seq = 0; seq < frames && !closed; seq++) {
        const due = start + seq * intervalUs;
        const ms = (due - nowUs()) / 1000;
        if (ms > 0.5) {
          await new Promise<void>((r) => {
            wake = r;
            timer = setTimeout(r, ms);
          });
        }
        if (closed) return;
        const data = pictures[seq % pictures.length] as Buffer;
        yield { seq, captureUs: nowUs(), width, height, codec: 'jpeg', key: true, data };
      }
    },
  };
}
