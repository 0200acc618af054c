import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { decodeJpeg, encodeProfile, renditionSize } from '../../../src/codec/transcode.js';

describe('renditionSize', () => {
  it('fits the box, keeps the aspect ratio, never enlarges; the side that sets the scale is exact', () => {
    assert.deepEqual(renditionSize({ width: 320 }, 1280, 720), { width: 320, height: 180 });
    assert.deepEqual(renditionSize({ height: 360 }, 1280, 720), { width: 640, height: 360 });
    assert.deepEqual(renditionSize({ width: 640, height: 640 }, 1280, 720), { width: 640, height: 360 });
    assert.deepEqual(renditionSize({ width: 200 }, 640, 480), { width: 200, height: 150 });
    assert.deepEqual(renditionSize({ width: 333 }, 1920, 1080), { width: 333, height: 187 });
    assert.deepEqual(renditionSize({ width: 4000 }, 640, 480), { width: 640, height: 480 }, 'never enlarged');
    assert.deepEqual(renditionSize({ quality: 40 }, 640, 480), { width: 640, height: 480 });
    assert.deepEqual(renditionSize({ width: 1 }, 1000, 10), { width: 1, height: 1 }, 'at least a pixel');
  });

  it('is the size encodeProfile makes', async () => {
    const jpeg = await sharp({ create: { width: 1920, height: 1080, channels: 3, background: '#369' } })
      .jpeg()
      .toBuffer();
    const pic = await decodeJpeg(jpeg);
    for (const p of [{ width: 333 }, { height: 100 }, { width: 500, height: 500 }]) {
      const out = await encodeProfile(pic, p, 75);
      assert.deepEqual({ width: out.width, height: out.height }, renditionSize(p, 1920, 1080), JSON.stringify(p));
      const meta = await sharp(out.data).metadata();
      assert.deepEqual([meta.width, meta.height], [out.width, out.height]);
    }
  });
});
