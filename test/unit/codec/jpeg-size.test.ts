import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { checkJpegFrame, jpegSize, looksLikeJpeg } from '../../../src/codec/jpeg.js';

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
    const good = await sharp(Buffer.alloc(16 * 16 * 3), { raw: { width: 16, height: 16, channels: 3 } })
      .jpeg()
      .toBuffer();
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

describe('checkJpegFrame: a frame is what its header says, without decoding', () => {
  const sof = (w: number, h: number): Buffer => {
    const b = Buffer.from([
      0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0, 0, 0xff, 0xc0, 0x00, 0x11, 0x08, 0, 0, 0, 0, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xff,
      0xd9,
    ]);
    b.writeUInt16BE(h, 13);
    b.writeUInt16BE(w, 15);
    return b;
  };
  it('accepts a JPEG whose SOF size is the header size', () => {
    assert.equal(checkJpegFrame(sof(640, 480), 640, 480), undefined);
  });
  it('refuses non-JPEG bytes, a missing SOF, a size mismatch, and pictures past the limits', () => {
    assert.match(String(checkJpegFrame(Buffer.from('hello world'), 640, 480)), /not a JPEG/);
    assert.match(String(checkJpegFrame(Buffer.from([0xff, 0xd8, 0xff, 0xd9]), 640, 480)), /SOF/);
    assert.match(String(checkJpegFrame(sof(16, 16), 65535, 65535)), /8192/);
    assert.match(String(checkJpegFrame(sof(16, 16), 640, 480)), /16x16 but its frame header says 640x480/);
    assert.match(String(checkJpegFrame(sof(8000, 8000), 8000, 8000, { maxPixels: 1e6 })), /pixels/);
  });
  it('never throws on random or truncated input', () => {
    const good = sof(320, 240);
    for (let n = 0; n <= good.length; n++) checkJpegFrame(good.subarray(0, n), 320, 240);
    let seed = 3;
    for (let i = 0; i < 5000; i++) {
      const b = Buffer.alloc(1 + (i % 64));
      for (let j = 0; j < b.length; j++) b[j] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
      if (i % 2 === 0 && b.length >= 2) b.set([0xff, 0xd8], 0);
      checkJpegFrame(b, 320, 240);
    }
  });
});
