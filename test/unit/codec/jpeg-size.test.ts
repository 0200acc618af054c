import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { jpegSize, looksLikeJpeg } from '../../../src/codec/jpeg.js';

describe('jpegSize', () => {
  it('reads the size from the SOF marker of real JPEGs (baseline and progressive, with EXIF)', async () => {
    const raw = { raw: { width: 123, height: 45, channels: 3 as const } };
    const pixels = Buffer.alloc(123 * 45 * 3, 128);
    const baseline = await sharp(pixels, raw).jpeg().toBuffer();
    const progressive = await sharp(pixels, raw).jpeg({ progressive: true }).withMetadata({ orientation: 1 }).toBuffer();
    assert.deepEqual(jpegSize(baseline), { width: 123, height: 45 });
    assert.deepEqual(jpegSize(progressive), { width: 123, height: 45 });
  });

  it('returns undefined for non-JPEGs and truncated input, never throws', async () => {
    const good = await sharp(Buffer.alloc(16 * 16 * 3), { raw: { width: 16, height: 16, channels: 3 } }).jpeg().toBuffer();
    assert.equal(jpegSize(Buffer.from('GIF89a....')), undefined);
    assert.equal(looksLikeJpeg(Buffer.from([0xff, 0xd8])), false);
    for (let n = 0; n < 200; n++) {
      const r = jpegSize(good.subarray(0, n));
      assert.ok(r === undefined || (r.width === 16 && r.height === 16));
    }
    for (let i = 0; i < 500; i++) {
      const junk = Buffer.from(Array.from({ length: 64 }, () => Math.floor(Math.random() * 256)));
      junk[0] = 0xff;
      junk[1] = 0xd8;
      junk[2] = 0xff;
      jpegSize(junk);
    }
  });
});
