import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { encodePicture, takePicture, type RawImage } from '../../../src/client/push.js';
import { jpegSize } from '../../../src/codec/jpeg.js';
import { isFramewireError } from '../../../src/errors.js';
import { jpegHeader } from '../../helpers/relay.js';

const code = (c: string) => (e: unknown) => isFramewireError(e) && e.code === c;

describe('push publisher input (takePicture)', () => {
  it('takes a JPEG as it is, with the size from its SOF', () => {
    const jpeg = jpegHeader(64, 48);
    const p = takePicture(jpeg, 5);
    assert.equal(p.kind, 'jpeg');
    assert.ok(p.kind === 'jpeg' && p.data.buffer === jpeg.buffer, 'not copied');
    assert.deepEqual(p.kind === 'jpeg' && [p.width, p.height, p.captureUs], [64, 48, 5]);
  });

  it('refuses bytes that are not a JPEG with FW_NOT_JPEG', () => {
    assert.throws(() => takePicture(new Uint8Array(100), 0), code('FW_NOT_JPEG'));
    // SOI but no SOF before the data: no size to put in the header.
    assert.throws(() => takePicture(Uint8Array.of(0xff, 0xd8, 0xff, 0xd9), 0), code('FW_NOT_JPEG'));
  });

  it('refuses raw pixels whose length is not width × height × channels with FW_BAD_FRAME', () => {
    for (const [format, channels] of [
      ['rgb', 3],
      ['bgr', 3],
      ['rgba', 4],
      ['gray', 1],
    ] as const) {
      const ok: RawImage = { data: new Uint8Array(4 * 2 * channels), width: 4, height: 2, format };
      assert.equal(takePicture(ok, 0).kind, 'raw');
      assert.throws(() => takePicture({ ...ok, data: new Uint8Array(4 * 2 * channels - 1) }, 0), code('FW_BAD_FRAME'), format);
      assert.throws(() => takePicture({ ...ok, data: new Uint8Array(4 * 2 * channels + channels) }, 0), code('FW_BAD_FRAME'), format);
    }
  });

  it('refuses a bad format, size or argument with FW_BAD_OPTION', () => {
    const data = new Uint8Array(12);
    assert.throws(() => takePicture({ data, width: 2, height: 2, format: 'yuv' as 'rgb' }, 0), code('FW_BAD_OPTION'));
    assert.throws(() => takePicture({ data, width: 0, height: 2, format: 'rgb' }, 0), code('FW_BAD_OPTION'));
    assert.throws(() => takePicture({ data, width: 1.5, height: 2, format: 'rgb' }, 0), code('FW_BAD_OPTION'));
    assert.throws(() => takePicture({ data, width: 70_000, height: 2, format: 'rgb' }, 0), code('FW_BAD_OPTION'));
    assert.throws(
      () => takePicture({ data: [1, 2, 3] as unknown as Uint8Array, width: 1, height: 1, format: 'rgb' }, 0),
      code('FW_BAD_OPTION'),
    );
    assert.throws(() => takePicture('jpeg' as unknown as Uint8Array, 0), code('FW_BAD_OPTION'));
    assert.throws(() => takePicture({ data, width: 2, height: 2, format: 'toString' as 'rgb' }, 0), code('FW_BAD_OPTION'));
  });

  it('copies raw pixels (the caller may reuse its buffer) and swaps BGR to RGB when it encodes', async () => {
    const bgr = Uint8Array.of(1, 2, 3, 4, 5, 6);
    const p = takePicture({ data: bgr, width: 2, height: 1, format: 'bgr' }, 0);
    bgr.fill(0);
    assert.ok(p.kind === 'raw');
    assert.deepEqual([...p.picture.data], [1, 2, 3, 4, 5, 6]);
    assert.equal(p.picture.channels, 3);
    await encodePicture(p, {}, 75);
    assert.deepEqual([...p.picture.data], [3, 2, 1, 6, 5, 4]);
    // Encoding it again (it is not: each picture is encoded once) would not swap twice.
    await encodePicture(p, {}, 75);
    assert.deepEqual([...p.picture.data], [3, 2, 1, 6, 5, 4]);
    const rgb = Uint8Array.of(9, 8, 7);
    const q = takePicture({ data: rgb, width: 1, height: 1, format: 'rgb' }, 0);
    rgb.fill(0);
    assert.ok(q.kind === 'raw');
    assert.deepEqual([...q.picture.data], [9, 8, 7]);
  });

  it('encodes raw pixels to a JPEG at the asked quality, fitted inside the granted size', async () => {
    const width = 64;
    const height = 48;
    const data = new Uint8Array(width * height * 3).map((_, i) => (i * 7) & 0xff);
    const p = takePicture({ data, width, height, format: 'rgb' }, 42);
    const full = await encodePicture(p, {}, 90);
    assert.deepEqual([full.width, full.height, full.codec, full.captureUs], [64, 48, 'jpeg', 42]);
    assert.deepEqual(jpegSize(full.data), { width: 64, height: 48 });
    const small = await encodePicture(p, { width: 32, height: 32, quality: 20 }, 90);
    assert.deepEqual([small.width, small.height], [32, 24]);
    assert.ok(small.data.length < full.data.length);
    const meta = await sharp(small.data).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 32, 24]);
    // Pure blue in OpenCV's BGR order decodes as pure blue.
    const blueBgr = new Uint8Array(8 * 8 * 3).map((_, i) => (i % 3 === 0 ? 255 : 0));
    const blue = await encodePicture(takePicture({ data: blueBgr, width: 8, height: 8, format: 'bgr' }, 0), {}, 95);
    const rgb = await sharp(blue.data).raw().toBuffer();
    assert.ok(
      (rgb[0] as number) < 16 && (rgb[1] as number) < 16 && (rgb[2] as number) > 235,
      `first pixel ${[...rgb.subarray(0, 3)].join(',')}`,
    );
    const gray = await encodePicture(takePicture({ data: new Uint8Array(16 * 8), width: 16, height: 8, format: 'gray' }, 0), {}, 75);
    assert.deepEqual(jpegSize(gray.data), { width: 16, height: 8 });
  });
});
