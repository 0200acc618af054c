/**
 * Per-frame costs in this process alone (nothing else of the bench running),
 * to explain the latency figures: producing a test-pattern frame (draw +
 * sharp JPEG q75), sharp encode alone at q75 and at q15 (seed003's quality),
 * and sharp decode to raw RGB.
 */
import sharp from 'sharp';
import { LIVE_JPEG } from '../src/codec/transcode.js';
import { testPattern } from '../src/index.js';
import { median } from './stats.js';

export interface CostResult {
  width: number;
  height: number;
  produceMs: number;
  encodeQ75Ms: number;
  encodeQ15Ms: number;
  decodeMs: number;
  jpegQ75Kb: number;
  jpegQ15Kb: number;
}

async function timeIt(n: number, fn: () => Promise<unknown>): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  return median(t);
}

export async function measureCosts(width: number, height: number, n = 30): Promise<CostResult> {
  sharp.cache(false);
  const produce: number[] = [];
  let last: Uint8Array | undefined;
  let s = performance.now();
  for await (const f of testPattern({ width, height, fps: 0, frames: n + 5 })) {
    const now = performance.now();
    if (f.seq >= 5) produce.push(now - s);
    last = f.data;
    s = performance.now();
  }
  const jpeg = last as Buffer;
  const raw = await sharp(jpeg).raw().toBuffer();
  const rawOpts = { raw: { width, height, channels: 3 as const } };
  const q15 = await sharp(raw, rawOpts)
    .jpeg({ ...LIVE_JPEG, quality: 15 })
    .toBuffer();
  return {
    width,
    height,
    produceMs: median(produce),
    encodeQ75Ms: await timeIt(n, () =>
      sharp(raw, rawOpts)
        .jpeg({ ...LIVE_JPEG, quality: 75 })
        .toBuffer(),
    ),
    encodeQ15Ms: await timeIt(n, () =>
      sharp(raw, rawOpts)
        .jpeg({ ...LIVE_JPEG, quality: 15 })
        .toBuffer(),
    ),
    decodeMs: await timeIt(n, () => sharp(jpeg).raw().toBuffer()),
    jpegQ75Kb: jpeg.length / 1000,
    jpegQ15Kb: q15.length / 1000,
  };
}
