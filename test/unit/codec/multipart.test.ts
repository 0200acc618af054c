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
      const stream = Buffer.concat([
        Buffer.from('preamble\r\n'),
        ...bodies.map((b) => part('frame', b, withLength)),
        Buffer.from('--frame--\r\n'),
      ]);
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
    assert.deepEqual(
      got.map((b) => b.toString()),
      ['AAAA', 'BBBB'],
    );
  });

  it('rejects an oversized Content-Length before reading the body', () => {
    const p = new MultipartParser('b', { maxPartBytes: 1000 });
    assert.throws(
      () => p.push(Buffer.from('--b\r\nContent-Length: 1000000\r\n\r\n')),
      (e) => isFramewireError(e, 'FW_FRAME_TOO_LARGE'),
    );
    assert.ok(p.failed);
  });

  it('bounds junk, headers and length-less bodies', () => {
    const junk = new MultipartParser('b', { maxSkipBytes: 100 });
    assert.throws(
      () => junk.push(Buffer.alloc(1000, 0x41)),
      (e) => isFramewireError(e, 'FW_BAD_MESSAGE'),
    );
    const hdr = new MultipartParser('b', { maxHeaderBytes: 100 });
    assert.throws(
      () => hdr.push(Buffer.from(`--b\r\n${'X: y\r\n'.repeat(50)}`)),
      (e) => isFramewireError(e, 'FW_BAD_MESSAGE'),
    );
    const body = new MultipartParser('b', { maxPartBytes: 100 });
    assert.throws(
      () => body.push(Buffer.concat([Buffer.from('--b\r\n\r\n'), Buffer.alloc(500)])),
      (e) => isFramewireError(e, 'FW_FRAME_TOO_LARGE'),
    );
  });

  it('survives random input: only parts or coded errors', () => {
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 300; i++) {
      const p = new MultipartParser('b', { maxSkipBytes: 4096, maxPartBytes: 4096 });
      const len = Math.floor(rand() * 600);
      const buf = Buffer.alloc(len);
      const alphabet = Buffer.from('--b\r\nContent-Length: 12\r\n\r\n');
      for (let k = 0; k < len; k++)
        buf[k] = rand() < 0.7 ? (alphabet[Math.floor(rand() * alphabet.length)] as number) : Math.floor(rand() * 256);
      try {
        for (let off = 0; off < len; off += 7) p.push(buf.subarray(off, off + 7));
      } catch (e) {
        assert.ok(isFramewireError(e), `seed run ${i}: ${String(e)}`);
      }
      assert.ok(p.bufferedBytes <= 4096 + 64 + 8192, `run ${i} buffered ${p.bufferedBytes}`);
    }
  });
});

/** Counts the bytes the parser copies (Buffer.concat, Buffer#copy) and searches (Buffer#indexOf) while `run` runs. */
function countWork(run: () => void): { copied: number; searched: number } {
  const proto = Buffer.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const { concat } = Buffer;
  const { copy, indexOf } = proto as unknown as { copy: Buffer['copy']; indexOf: Buffer['indexOf'] };
  const work = { copied: 0, searched: 0 };
  let inConcat = false;
  Buffer.concat = ((list: readonly Uint8Array[], total?: number) => {
    inConcat = true;
    try {
      const out = concat(list, total);
      work.copied += out.length;
      return out;
    } finally {
      inConcat = false;
    }
  }) as typeof Buffer.concat;
  proto.copy = function (this: Buffer, ...args: unknown[]): number {
    const n = (copy as (...a: unknown[]) => number).apply(this, args);
    if (!inConcat) work.copied += n;
    return n;
  };
  proto.indexOf = function (this: Buffer, needle: unknown, from?: unknown, ...rest: unknown[]): number {
    const start = typeof from === 'number' ? (from < 0 ? Math.max(0, this.length + from) : Math.min(from, this.length)) : 0;
    work.searched += this.length - start;
    return (indexOf as (...a: unknown[]) => number).apply(this, [needle, from, ...rest]);
  };
  try {
    run();
  } finally {
    Buffer.concat = concat;
    proto.copy = copy as unknown as (...args: unknown[]) => unknown;
    proto.indexOf = indexOf as unknown as (...args: unknown[]) => unknown;
  }
  return work;
}

/** A deterministic byte source for fuzzing. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
}

describe('MultipartParser on huge and finely split parts (linear parsing)', () => {
  // A part body that cannot hold the delimiter "--frame" but is full of its first bytes ("-"), the worst case for a search.
  const huge = (n: number): Buffer => {
    const b = Buffer.alloc(n, 0x2d);
    for (let i = 0; i < n; i += 997) b[i] = 0x41 + (i % 26);
    return b;
  };

  for (const withLength of [false, true]) {
    it(`an 8 MB part ${withLength ? 'with' : 'without'} Content-Length in 4 KB chunks: right bytes, work linear in its size`, () => {
      const body = huge(8 * 1000 * 1000);
      const stream = Buffer.concat([
        part('frame', body, withLength),
        part('frame', Buffer.from('next'), withLength),
        Buffer.from('--frame--\r\n'),
      ]);
      const p = new MultipartParser('frame');
      const got: Buffer[] = [];
      const work = countWork(() => {
        for (let off = 0; off < stream.length; off += 4096) for (const x of p.push(stream.subarray(off, off + 4096))) got.push(x.body);
      });
      assert.equal(got.length, 2);
      assert.ok((got[0] as Buffer).equals(body), 'the 8 MB body');
      assert.equal((got[1] as Buffer).toString(), 'next');
      assert.ok(p.done);
      // Before the resumable search and the growable store: ~n²/8 KiB bytes each (8 GB for 8 MB), here a few × n.
      assert.ok(work.copied <= 4 * stream.length, `copied ${work.copied} bytes for a ${stream.length}-byte body`);
      assert.ok(work.searched <= 4 * stream.length, `searched ${work.searched} bytes for a ${stream.length}-byte body`);
    });
  }

  it('a 64 KB part without Content-Length in 1-byte chunks: right bytes, work linear in its size', () => {
    const body = huge(64 * 1024);
    const stream = Buffer.concat([
      Buffer.from('junk before\r\n'),
      part('frame', body, false),
      part('frame', Buffer.from('x'), false),
      Buffer.from('--frame--\r\n'),
    ]);
    const p = new MultipartParser('frame');
    const got: Buffer[] = [];
    const work = countWork(() => {
      for (let off = 0; off < stream.length; off++) for (const x of p.push(stream.subarray(off, off + 1))) got.push(x.body);
    });
    assert.equal(got.length, 2);
    assert.ok((got[0] as Buffer).equals(body));
    assert.equal((got[1] as Buffer).toString(), 'x');
    // Each 1-byte chunk may re-search the few bytes a delimiter could straddle: a constant per byte.
    assert.ok(work.copied <= 4 * stream.length, `copied ${work.copied}`);
    assert.ok(work.searched <= 16 * stream.length, `searched ${work.searched}`);
  });

  it('part bodies handed out stay intact while later chunks arrive (views into the store are never overwritten)', () => {
    const rand = prng(7);
    for (let run = 0; run < 40; run++) {
      const withLength = run % 2 === 0;
      // Parts of every size, from empty to several chunks long; bodies tagged so a later overwrite shows.
      const bodies = Array.from({ length: 30 }, (_, i) => {
        const n = Math.floor(rand() ** 3 * 40_000);
        const b = Buffer.alloc(n);
        for (let k = 0; k < n; k++) b[k] = 0x41 + ((i * 7 + k) % 26); // letters only: never a delimiter
        return b;
      });
      const stream = Buffer.concat([...bodies.map((b) => part('frame', b, withLength)), Buffer.from('--frame--\r\n')]);
      const p = new MultipartParser('frame');
      const kept: Buffer[] = [];
      for (let off = 0; off < stream.length; ) {
        const size = 1 + Math.floor(rand() ** 2 * 20_000);
        for (const x of p.push(stream.subarray(off, off + size))) kept.push(x.body); // the views themselves, not copies
        off += size;
      }
      assert.equal(kept.length, bodies.length, `run ${run}`);
      kept.forEach((k, i) =>
        assert.ok(k.equals(bodies[i] as Buffer), `run ${run}: part ${i} (${(bodies[i] as Buffer).length} bytes) changed after later input`),
      );
      assert.ok(p.done);
    }
  });

  it('the input chunks are never written to', () => {
    const stream = Buffer.concat([
      part('b', Buffer.alloc(10_000, 0x61), false),
      part('b', Buffer.alloc(3000, 0x62), true),
      Buffer.from('--b--\r\n'),
    ]);
    const chunks: Buffer[] = [];
    for (let off = 0; off < stream.length; off += 777) chunks.push(Buffer.from(stream.subarray(off, off + 777)));
    const copies = chunks.map((c) => Buffer.from(c));
    const p = new MultipartParser('b');
    const got = chunks.flatMap((c) => p.push(c).map((x) => x.body));
    assert.deepEqual(
      got.map((g) => g.length),
      [10_000, 3000],
    );
    chunks.forEach((c, i) => assert.ok(c.equals(copies[i] as Buffer), `chunk ${i}`));
  });

  it('a small multi-part body split at every pair of points (parts spanning three chunks) parses the same', () => {
    const small = [Buffer.from('ab'), Buffer.alloc(0), Buffer.from('0123456789')];
    for (const withLength of [true, false]) {
      const stream = Buffer.concat([Buffer.from('pre\r\n'), ...small.map((b) => part('fr', b, withLength)), Buffer.from('--fr--\r\n')]);
      for (let i = 0; i <= stream.length; i++) {
        for (let j = i; j <= stream.length; j++) {
          const p = new MultipartParser('fr');
          const got = [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)].flatMap((c) => p.push(c).map((x) => x.body));
          assert.deepEqual(
            got.map((g) => g.toString('latin1')),
            small.map((b) => b.toString('latin1')),
            `${withLength} split ${i}/${j}`,
          );
          assert.ok(p.done, `split ${i}/${j}`);
        }
      }
    }
  });

  it('random chunking of random valid streams gives the parts of a one-chunk parse; random bytes give parts or coded errors, bounded', () => {
    const rand = prng(99);
    for (let run = 0; run < 200; run++) {
      const bodies = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => {
        const n = Math.floor(rand() * 3000);
        const b = Buffer.alloc(n);
        for (let k = 0; k < n; k++) b[k] = rand() < 0.2 ? 0x2d : Math.floor(rand() * 256);
        return b;
      });
      const withLength = rand() < 0.5;
      const stream = Buffer.concat([...bodies.map((b) => part('b', b, withLength)), Buffer.from('--b--\r\n')]);
      const whole = new MultipartParser('b');
      let expected: Buffer[] | string;
      try {
        expected = whole.push(stream).map((x) => Buffer.from(x.body));
      } catch (e) {
        assert.ok(isFramewireError(e));
        expected = e.code;
      }
      const p = new MultipartParser('b');
      const got: Buffer[] = [];
      let error: string | undefined;
      try {
        for (let off = 0; off < stream.length; ) {
          const size = 1 + Math.floor(rand() * 700);
          for (const x of p.push(stream.subarray(off, off + size))) got.push(x.body);
          off += size;
        }
      } catch (e) {
        assert.ok(isFramewireError(e), String(e));
        error = e.code;
      }
      if (typeof expected === 'string') assert.equal(error, expected, `run ${run}`);
      else {
        assert.equal(error, undefined, `run ${run}`);
        assert.deepEqual(
          got.map((g) => g.toString('hex')),
          expected.map((g) => g.toString('hex')),
          `run ${run}`,
        );
      }
      // With Content-Length, random bodies are taken whole, and must match the input exactly.
      if (withLength)
        assert.deepEqual(
          got.map((g) => g.toString('hex')),
          bodies.map((g) => g.toString('hex')),
          `run ${run}`,
        );
    }
  });
});
