import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MultipartParser, boundaryFromContentType } from '../../../src/codec/multipart.js';
import { isFramewireError } from '../../../src/errors.js';

function part(boundary: string, body: Buffer, withLength: boolean): Buffer {
  const head = `--${boundary}\r\nContent-Type: image/jpeg\r\n${withLength ? `Content-Length: ${body.length}\r\n` : ''}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body, Buffer.from('\r\n')]);
}

const bodies = [Buffer.from('first-jpeg-\r\n--not-it'), Buffer.alloc(3000, 7), Buffer.from([0xff, 0xd8, 0xff, 0xd9])];

function parseAll(p: MultipartParser, chunks: Buffer[]): Buffer[] {
  return chunks.flatMap((c) => p.push(c).map((x) => Buffer.from(x.body)));
}

describe('MultipartParser', () => {
  it('extracts the boundary from Content-Type', () => {
    assert.equal(boundaryFromContentType('multipart/x-mixed-replace;boundary=ffmpeg'), 'ffmpeg');
    assert.equal(boundaryFromContentType('multipart/x-mixed-replace; boundary="a b"'), 'a b');
    assert.equal(boundaryFromContentType('image/jpeg'), undefined);
  });

  for (const withLength of [true, false]) {
    it(`parses parts ${withLength ? 'with' : 'without'} Content-Length at every split point`, () => {
      const stream = Buffer.concat([Buffer.from('preamble\r\n'), ...bodies.map((b) => part('frame', b, withLength)), Buffer.from('--frame--\r\n')]);
      // Without Content-Length a body cannot contain "\r\n--frame", so the first body is only valid with it.
      const expected = withLength ? bodies : bodies;
      for (let split = 0; split <= stream.length; split++) {
        const p = new MultipartParser('frame');
        const got = parseAll(p, [stream.subarray(0, split), stream.subarray(split)]);
        assert.equal(got.length, expected.length, `split ${split}`);
        got.forEach((g, i) => assert.ok(g.equals(expected[i] as Buffer), `split ${split} part ${i}`));
        assert.ok(p.done);
      }
    });
  }

  it('accepts a boundary parameter that already starts with --, and LF-only lines', () => {
    const p = new MultipartParser('--myboundary');
    const s = Buffer.from('--myboundary\nContent-Type: image/jpeg\n\nAAAA\n--myboundary\nContent-Type: image/jpeg\n\nBBBB\n--myboundary');
    const got = parseAll(p, [s]);
    assert.deepEqual(got.map((b) => b.toString()), ['AAAA', 'BBBB']);
  });

  it('rejects an oversized Content-Length before reading the body', () => {
    const p = new MultipartParser('b', { maxPartBytes: 1000 });
    assert.throws(() => p.push(Buffer.from('--b\r\nContent-Length: 1000000\r\n\r\n')), (e) => isFramewireError(e, 'FW_FRAME_TOO_LARGE'));
    assert.ok(p.failed);
  });

  it('bounds junk, headers and length-less bodies', () => {
    const junk = new MultipartParser('b', { maxSkipBytes: 100 });
    assert.throws(() => junk.push(Buffer.alloc(1000, 0x41)), (e) => isFramewireError(e, 'FW_BAD_MESSAGE'));
    const hdr = new MultipartParser('b', { maxHeaderBytes: 100 });
    assert.throws(() => hdr.push(Buffer.from(`--b\r\n${'X: y\r\n'.repeat(50)}`)), (e) => isFramewireError(e, 'FW_BAD_MESSAGE'));
    const body = new MultipartParser('b', { maxPartBytes: 100 });
    assert.throws(() => body.push(Buffer.concat([Buffer.from('--b\r\n\r\n'), Buffer.alloc(500)])), (e) => isFramewireError(e, 'FW_FRAME_TOO_LARGE'));
  });

  it('survives random input: only parts or coded errors', () => {
    let seed = 12345;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 300; i++) {
      const p = new MultipartParser('b', { maxSkipBytes: 4096, maxPartBytes: 4096 });
      const len = Math.floor(rand() * 600);
      const buf = Buffer.alloc(len);
      const alphabet = Buffer.from('--b\r\nContent-Length: 12\r\n\r\n');
      for (let k = 0; k < len; k++) buf[k] = rand() < 0.7 ? (alphabet[Math.floor(rand() * alphabet.length)] as number) : Math.floor(rand() * 256);
      try {
        for (let off = 0; off < len; off += 7) p.push(buf.subarray(off, off + 7));
      } catch (e) {
        assert.ok(isFramewireError(e), `seed run ${i}: ${String(e)}`);
      }
      assert.ok(p.bufferedBytes <= 4096 + 64 + 8192, `run ${i} buffered ${p.bufferedBytes}`);
    }
  });
});
