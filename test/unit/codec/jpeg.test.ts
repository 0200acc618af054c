import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { JpegSplitter, jpegSize } from '../../../src/codec/jpeg.js';
import { isFramewireError } from '../../../src/errors.js';

/** A hand-made JPEG exercising every tricky byte: fill, stuffing, RSTn, a second scan. */
function synthetic(tag: number): Buffer {
  const seg = (code: number, body: number[]): number[] => [0xff, code, ((body.length + 2) >> 8) & 0xff, (body.length + 2) & 0xff, ...body];
  return Buffer.from([
    0xff,
    0xd8,
    ...seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 0xff, 0xd9, 0xff, 0xd8]), // APP0 whose body holds fake EOI/SOI
    0xff,
    0xff, // fill before a marker
    ...seg(0xdb, new Array<number>(65).fill(tag)),
    ...seg(0xc0, [8, 0, 48, 0, 64, 1, 1, 0x11, 0]), // SOF0 64x48
    ...seg(0xdd, [0, 4]), // DRI
    ...seg(0xda, [1, 1, 0, 0, 63, 0]),
    1,
    2,
    0xff,
    0x00,
    3,
    0xff,
    0xd0,
    4,
    0xff,
    0xff,
    0xd1,
    tag,
    0xff,
    0x00, // entropy with stuffing, RST, fill
    ...seg(0xc4, [0, 1, 2]), // a marker between scans
    ...seg(0xda, [1, 1, 0, 0, 63, 0]),
    tag,
    0xff,
    0x00,
    0xff,
    0xd7,
    0xff,
    0xd9,
  ]);
}

async function real(progressive: boolean, w: number, h: number): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919) & 0xff;
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 90, progressive })
    .toBuffer();
}

function splitAll(s: JpegSplitter, chunks: Buffer[]): Buffer[] {
  return chunks.flatMap((c) => s.push(c).map((b) => Buffer.from(b)));
}

describe('JpegSplitter', () => {
  it('splits a synthetic stream (fill, stuffing, RSTn, two scans, junk between) at every split point', () => {
    const pics = [synthetic(1), synthetic(2), synthetic(3)];
    const stream = Buffer.concat([
      Buffer.from('junk\xff'),
      pics[0] as Buffer,
      Buffer.from([0, 0xff, 0xff]),
      pics[1] as Buffer,
      pics[2] as Buffer,
      Buffer.from([0xff]),
    ]);
    for (let a = 0; a <= stream.length; a++) {
      const got = splitAll(new JpegSplitter(), [stream.subarray(0, a), stream.subarray(a)]);
      assert.equal(got.length, 3, `split ${a}`);
      got.forEach((g, i) => assert.ok(g.equals(pics[i] as Buffer), `split ${a} picture ${i}`));
    }
  });

  it('splits at every pair of split points and byte by byte', () => {
    const pics = [synthetic(4), synthetic(5)];
    const stream = Buffer.concat(pics);
    for (let a = 0; a <= stream.length; a += 3) {
      for (let b = a; b <= stream.length; b += 5) {
        const got = splitAll(new JpegSplitter(), [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]);
        assert.deepEqual(got, pics, `splits ${a},${b}`);
      }
    }
    const bytes = [...stream].map((x) => Buffer.from([x]));
    assert.deepEqual(splitAll(new JpegSplitter(), bytes), pics);
  });

  it('splits real baseline and progressive JPEGs in random chunks, each decodable', async () => {
    const pics = [await real(false, 64, 48), await real(true, 100, 30), await real(false, 33, 17)];
    const stream = Buffer.concat(pics);
    let seed = 42;
    const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
    for (let round = 0; round < 200; round++) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < stream.length; ) {
        const len = 1 + rnd(round % 2 ? 50 : 3000);
        chunks.push(stream.subarray(i, i + len));
        i += len;
      }
      assert.deepEqual(splitAll(new JpegSplitter(), chunks), pics, `round ${round}`);
    }
    for (const p of pics) assert.ok((await sharp(p).metadata()).width);
  });

  it('returns a view (no copy) when a picture lies inside one chunk', () => {
    const chunk = Buffer.concat([synthetic(1), synthetic(2)]);
    const [a, b] = new JpegSplitter().push(chunk);
    assert.equal(a?.buffer, chunk.buffer);
    assert.equal(b?.buffer, chunk.buffer);
  });

  it('drops a truncated picture when a new SOI starts inside it (between segments or in entropy data)', () => {
    const full = synthetic(7);
    const sof = full.indexOf(Buffer.from([0xff, 0xc0]));
    // Cuts at a segment boundary and at each point of the last entropy data.
    for (const cutAt of [sof, full.length - 2, full.length - 3, full.length - 4, full.length - 5, full.length - 6]) {
      const stream = Buffer.concat([full.subarray(0, cutAt), full]);
      for (let a = 0; a <= stream.length; a += 5) {
        const t = new JpegSplitter();
        const got = splitAll(t, [stream.subarray(0, a), stream.subarray(a)]);
        assert.deepEqual(got, [full], `cut ${cutAt} split ${a}`);
        assert.equal(t.dropped, 1);
      }
    }
  });

  it('enforces the frame size and skip limits with coded errors', () => {
    const big = new JpegSplitter({ maxFrameBytes: 50 });
    assert.throws(
      () => big.push(synthetic(1)),
      (e) => isFramewireError(e, 'FW_FRAME_TOO_LARGE'),
    );
    assert.throws(
      () => big.push(synthetic(1)),
      (e) => isFramewireError(e, 'FW_FRAME_TOO_LARGE'),
      'dead after a throw',
    );
    const junk = new JpegSplitter({ maxSkipBytes: 100 });
    assert.throws(
      () => junk.push(Buffer.alloc(200, 0x41)),
      (e) => isFramewireError(e, 'FW_BAD_MESSAGE'),
    );
    const huge = new JpegSplitter({ maxFrameBytes: 1000 });
    huge.push(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 2]));
    assert.throws(
      () => {
        for (let i = 0; i < 100; i++) huge.push(Buffer.alloc(100, 1));
      },
      (e) => isFramewireError(e, 'FW_FRAME_TOO_LARGE'),
    );
    assert.ok(huge.bufferedBytes <= 1000);
  });

  it('survives random bytes: only coded errors, bounded memory', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let round = 0; round < 300; round++) {
      const s = new JpegSplitter({ maxFrameBytes: 4096, maxSkipBytes: 4096 });
      const base = synthetic(round & 0xff);
      try {
        for (let k = 0; k < 20; k++) {
          const c = Buffer.from(base);
          for (let j = 0; j < 1 + (round % 8); j++) c[rnd() % c.length] = rnd() % 3 === 0 ? 0xff : rnd();
          const fr = s.push(round % 3 === 0 ? Buffer.from(Array.from({ length: 64 }, rnd)) : c);
          for (const f of fr) assert.ok(f[0] === 0xff && f[1] === 0xd8 && f[f.length - 2] === 0xff && f[f.length - 1] === 0xd9);
          assert.ok(s.bufferedBytes <= 4096);
        }
      } catch (err) {
        assert.ok(isFramewireError(err), `round ${round}: ${String(err)}`);
      }
    }
  });
});

describe('jpegSize', () => {
  it('reads width and height from SOF, baseline and progressive', async () => {
    assert.deepEqual(jpegSize(synthetic(1)), { width: 64, height: 48 });
    assert.deepEqual(jpegSize(await real(false, 123, 45)), { width: 123, height: 45 });
    assert.deepEqual(jpegSize(await real(true, 20, 300)), { width: 20, height: 300 });
  });

  it('returns undefined for non-JPEG and truncated input, never throws', () => {
    const j = synthetic(1);
    assert.equal(jpegSize(Buffer.from('hello world')), undefined);
    for (let n = 0; n < 40; n++) assert.equal(jpegSize(j.subarray(0, n)), undefined, `length ${n}`);
    let seed = 3;
    for (let r = 0; r < 2000; r++) {
      const b = Buffer.from(j);
      b[2 + (r % (b.length - 2))] = (seed = (seed * 69069 + 1) >>> 0) & 0xff;
      const s = jpegSize(b);
      assert.ok(s === undefined || (s.width > 0 && s.height > 0));
    }
  });
});
