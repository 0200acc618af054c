import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, type FramewireError, isFramewireError, type ErrorCode } from '../../../src/errors.js';
import { writeFixedHeader } from '../../../src/protocol/header.js';
import { encodeControl, encodeFrame, type Message } from '../../../src/protocol/messages.js';
import { DEFAULT_LIMITS, StreamParser, decodeMessage, type ParserLimits } from '../../../src/protocol/parser.js';
import { assertSameMessages, encode, rawControl, sampleControls, sampleFrame } from '../../helpers/proto-samples.js';

function throwsCode(fn: () => unknown, code: ErrorCode, label: string = code): FramewireError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(isFramewireError(caught, code), `${label}: expected ${code}, got ${String(caught)}`);
  return caught;
}

/** A bare 12-byte header with any field values. */
function fixedHeader(fields: {
  magic?: number;
  version?: number;
  type?: number;
  flags?: number;
  headerLength?: number;
  payloadLength?: number;
}): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(fields.magic ?? 0x4657, 0);
  b.writeUInt8(fields.version ?? 1, 2);
  b.writeUInt8(fields.type ?? 0x10, 3);
  b.writeUInt8(fields.flags ?? 0, 4);
  b.writeUInt16BE(fields.headerLength ?? 32, 6);
  b.writeUInt32BE(fields.payloadLength ?? 0, 8);
  return b;
}

/** Feeds chunks in order, collecting every message. */
function feed(p: StreamParser, chunks: readonly Buffer[]): Message[] {
  const out: Message[] = [];
  for (const c of chunks) out.push(...p.push(c));
  return out;
}

/** Several controls and frames back to back, including one frame bigger than the rest of the stream. */
function sequence(bigFrameBytes: number): { wire: Buffer; messages: Message[]; boundaries: number[] } {
  const messages: Message[] = [
    sampleControls[0] as Message,
    { type: 'frame', frame: sampleFrame(1, 300) },
    sampleControls[6] as Message,
    { type: 'frame', frame: sampleFrame(2, bigFrameBytes) },
    { type: 'frame', frame: sampleFrame(3, 0, { width: 16, height: 16 }) },
    sampleControls[7] as Message,
    { type: 'frame', frame: sampleFrame(4, 1, { codec: 'h264', key: false }) },
    sampleControls[9] as Message,
  ];
  const parts = messages.map(encode);
  const boundaries: number[] = [];
  let off = 0;
  for (const p of parts) boundaries.push((off += p.length));
  return { wire: Buffer.concat(parts), messages, boundaries };
}

describe('StreamParser: split points', () => {
  const small = sequence(8 * 1024);

  it('decodes the whole sequence in one chunk, payloads as views into it', () => {
    const out = new StreamParser().push(small.wire);
    assertSameMessages(out, small.messages, 'one chunk');
    const f = out[3];
    assert.ok(f?.type === 'frame' && f.frame.data.buffer === small.wire.buffer);
  });

  it(`gives identical output for a single split at every byte offset (${small.wire.length + 1} offsets)`, () => {
    for (let s = 0; s <= small.wire.length; s++) {
      const p = new StreamParser();
      const out = feed(p, [small.wire.subarray(0, s), small.wire.subarray(s)]);
      assertSameMessages(out, small.messages, `split at ${s}`);
      assert.equal(p.bufferedBytes, 0, `split at ${s}: nothing left over`);
    }
  });

  it('gives identical output for two split points around every message boundary', () => {
    const w = small.wire;
    for (const b of small.boundaries) {
      for (let s1 = Math.max(0, b - 40); s1 <= Math.min(w.length, b + 40); s1++) {
        for (let s2 = s1; s2 <= Math.min(w.length, s1 + 40); s2++) {
          const out = feed(new StreamParser(), [w.subarray(0, s1), w.subarray(s1, s2), w.subarray(s2)]);
          assertSameMessages(out, small.messages, `splits at ${s1}, ${s2}`);
        }
      }
    }
  });

  it('gives identical output fed byte by byte, returning each message exactly when its last byte arrives', () => {
    const p = new StreamParser();
    const out: Message[] = [];
    const ends = new Set(small.boundaries);
    for (let i = 0; i < small.wire.length; i++) {
      const got = p.push(small.wire.subarray(i, i + 1));
      assert.equal(got.length, ends.has(i + 1) ? 1 : 0, `byte ${i}`);
      out.push(...got);
    }
    assertSameMessages(out, small.messages, 'byte by byte');
  });

  it('handles a 1 MiB frame byte by byte, in 64 KiB chunks, and split near every boundary', () => {
    const big = sequence(1024 * 1024);
    const w = big.wire;
    const one = new StreamParser();
    const bytewise: Message[] = [];
    for (let i = 0; i < w.length; i++) bytewise.push(...one.push(w.subarray(i, i + 1)));
    assertSameMessages(bytewise, big.messages, 'byte by byte');
    const chunked: Buffer[] = [];
    for (let i = 0; i < w.length; i += 65536) chunked.push(w.subarray(i, i + 65536));
    assertSameMessages(feed(new StreamParser(), chunked), big.messages, '64 KiB chunks');
    // Every offset within 48 bytes of a message boundary (so every header byte), plus the first and last 512.
    const offsets = new Set<number>();
    for (const b of [0, ...big.boundaries]) for (let d = -48; d <= 48; d++) offsets.add(b + d);
    for (let s = 0; s < 512; s++) offsets.add(s).add(w.length - s);
    for (const s of offsets) {
      if (s < 0 || s > w.length) continue;
      assertSameMessages(feed(new StreamParser(), [w.subarray(0, s), w.subarray(s)]), big.messages, `split at ${s}`);
    }
  });

  it('merges tiny reads: a 1 MiB frame trickled byte by byte is held in a few Buffers, not a million', () => {
    const wire = encodeFrame(sampleFrame(7, 1024 * 1024));
    const p = new StreamParser();
    const queue = (p as unknown as { chunks: Buffer[] }).chunks;
    assert.ok(Array.isArray(queue), 'the parser keeps its chunks in `chunks`');
    let most = 0;
    for (let i = 0; i < wire.length - 1; i++) {
      p.push(wire.subarray(i, i + 1));
      most = Math.max(most, (p as unknown as { chunks: Buffer[] }).chunks.length);
    }
    assert.equal(p.bufferedBytes, wire.length - 1);
    assert.ok(most <= 64 + 16, `at most ${most} chunks held for ${wire.length} one-byte reads`);
    assert.equal(p.push(wire.subarray(wire.length - 1)).length, 1);
  });

  it('keeps a half-received message buffered and nothing else', () => {
    const wire = encodeControl({ type: 'bye', body: { reason: 'x' } });
    const p = new StreamParser();
    assert.deepEqual(p.push(wire.subarray(0, 5)), []);
    assert.equal(p.bufferedBytes, 5);
    assert.deepEqual(p.push(Buffer.alloc(0)), []);
    assert.equal(p.bufferedBytes, 5);
    assert.deepEqual(p.push(wire.subarray(5)), [{ type: 'bye', body: { reason: 'x' } }]);
    assert.equal(p.bufferedBytes, 0);
  });
});

describe('StreamParser: limits', () => {
  const cases: [string, ParserLimits, number, number, ErrorCode][] = [
    ['a 1 GiB frame (default limits)', {}, 0x10, 2 ** 30, ErrorCodes.FRAME_TOO_LARGE],
    ['a 4 GiB - 1 frame (default limits)', {}, 0x10, 0xffff_ffff, ErrorCodes.FRAME_TOO_LARGE],
    ['a frame one byte over the default 16 MiB', {}, 0x10, DEFAULT_LIMITS.maxFrameBytes + 1, ErrorCodes.FRAME_TOO_LARGE],
    ['a frame one byte over maxFrameBytes: 1000', { maxFrameBytes: 1000 }, 0x10, 1001, ErrorCodes.FRAME_TOO_LARGE],
    ['a hello one byte over the default 64 KiB', {}, 0x01, DEFAULT_LIMITS.maxControlBytes + 1, ErrorCodes.CONTROL_TOO_LARGE],
    ['a 4 GiB - 1 stats body', {}, 0x06, 0xffff_ffff, ErrorCodes.CONTROL_TOO_LARGE],
    ['a ping one byte over maxControlBytes: 100', { maxControlBytes: 100 }, 0x04, 101, ErrorCodes.CONTROL_TOO_LARGE],
  ];
  for (const [label, limits, type, payloadLength, code] of cases) {
    it(`rejects ${label} with ${code} as soon as the 12-byte header is in, allocating nothing from the length`, () => {
      const header = fixedHeader({ type, headerLength: type === 0x10 ? 32 : 12, payloadLength });
      const p = new StreamParser(limits);
      const allocs = spyAllocations(() => {
        for (let i = 0; i < 11; i++) {
          assert.deepEqual(p.push(header.subarray(i, i + 1)), []);
          assert.equal(p.bufferedBytes, i + 1);
        }
        throwsCode(() => p.push(header.subarray(11, 12)), code, label);
      });
      assert.ok(Math.max(0, ...allocs) <= 12, `largest allocation was ${Math.max(...allocs)} bytes`);
      assert.equal(p.bufferedBytes, 0);
      throwsCode(() => decodeMessage(header, limits), code, `${label} (decodeMessage)`);
    });
  }

  it('accepts a frame of exactly maxFrameBytes, buffering only what has arrived', () => {
    const p = new StreamParser({ maxFrameBytes: 1000 });
    const wire = encodeFrame(sampleFrame(1, 1000));
    assert.deepEqual(p.push(wire.subarray(0, 40)), []);
    assert.equal(p.bufferedBytes, 40);
    const out = p.push(wire.subarray(40));
    assert.equal(out.length, 1);
  });

  it('accepts a control body of exactly maxControlBytes', () => {
    const body = `{"reason":"${'r'.repeat(100 - 13)}"}`;
    assert.equal(body.length, 100);
    assert.equal(new StreamParser({ maxControlBytes: 100 }).push(rawControl('bye', body)).length, 1);
    throwsCode(() => new StreamParser({ maxControlBytes: 99 }).push(rawControl('bye', body)), ErrorCodes.CONTROL_TOO_LARGE);
  });

  it('applies maxHeaderBytes to the header length', () => {
    const json = Buffer.from('{"reason":"x"}');
    const ext = (hl: number): Buffer => {
      const b = Buffer.alloc(hl + json.length);
      writeFixedHeader(b, 0x07, 0, hl, json.length);
      json.copy(b, hl);
      return b;
    };
    assert.equal(new StreamParser().push(ext(256)).length, 1);
    throwsCode(() => new StreamParser().push(ext(257)), ErrorCodes.BAD_HEADER);
    assert.equal(new StreamParser({ maxHeaderBytes: 64 }).push(ext(64)).length, 1);
    throwsCode(() => new StreamParser({ maxHeaderBytes: 64 }).push(ext(65)), ErrorCodes.BAD_HEADER);
  });
});

describe('StreamParser: bad headers', () => {
  const good = encodeFrame(sampleFrame(5, 10));
  const patched = (offset: number, bytes: number[]): Buffer => {
    const b = Buffer.from(good);
    Buffer.from(bytes).copy(b, offset);
    return b;
  };
  const cases: [string, Buffer, ErrorCode][] = [
    ['wrong magic "GE"', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), ErrorCodes.BAD_MAGIC],
    ['byte-swapped magic', patched(0, [0x57, 0x46]), ErrorCodes.BAD_MAGIC],
    ['zero magic', Buffer.alloc(40), ErrorCodes.BAD_MAGIC],
    ['version 2', patched(2, [2]), ErrorCodes.BAD_VERSION],
    ['version 0', patched(2, [0]), ErrorCodes.BAD_VERSION],
    [
      'version 255 on a control',
      (() => {
        const b = rawControl('bye', '{"reason":"x"}');
        b[2] = 255;
        return b;
      })(),
      ErrorCodes.BAD_VERSION,
    ],
    ['type 0x00', patched(3, [0x00]), ErrorCodes.BAD_HEADER],
    ['type 0x09', patched(3, [0x09]), ErrorCodes.BAD_HEADER],
    ['type 0x11', patched(3, [0x11]), ErrorCodes.BAD_HEADER],
    ['type 0xff', patched(3, [0xff]), ErrorCodes.BAD_HEADER],
    ['frame header length 12', patched(6, [0, 12]), ErrorCodes.BAD_HEADER],
    ['frame header length 31', patched(6, [0, 31]), ErrorCodes.BAD_HEADER],
    ['frame header length 0', patched(6, [0, 0]), ErrorCodes.BAD_HEADER],
    ['frame header length 65535', patched(6, [0xff, 0xff]), ErrorCodes.BAD_HEADER],
    [
      'control header length 11',
      (() => {
        const b = rawControl('bye', '{"reason":"x"}');
        b.writeUInt16BE(11, 6);
        return b;
      })(),
      ErrorCodes.BAD_HEADER,
    ],
    ['codec 0', patched(28, [0]), ErrorCodes.BAD_HEADER],
    ['codec 3', patched(28, [3]), ErrorCodes.BAD_HEADER],
    ['codec 255', patched(28, [255]), ErrorCodes.BAD_HEADER],
    ['width 0', patched(24, [0, 0]), ErrorCodes.BAD_HEADER],
    ['height 0', patched(26, [0, 0]), ErrorCodes.BAD_HEADER],
  ];
  for (const [label, wire, code] of cases) {
    it(`${label} → ${code}`, () => {
      throwsCode(() => new StreamParser().push(wire), code, label);
      throwsCode(() => decodeMessage(wire), code, `${label} (decodeMessage)`);
    });
  }

  it('decodeMessage rejects short, long and truncated buffers with FW_BAD_HEADER', () => {
    throwsCode(() => decodeMessage(Buffer.alloc(0)), ErrorCodes.BAD_HEADER, 'empty');
    throwsCode(() => decodeMessage(good.subarray(0, 11)), ErrorCodes.BAD_HEADER, '11 bytes');
    throwsCode(() => decodeMessage(good.subarray(0, good.length - 1)), ErrorCodes.BAD_HEADER, 'one short');
    throwsCode(() => decodeMessage(Buffer.concat([good, Buffer.alloc(1)])), ErrorCodes.BAD_HEADER, 'one over');
  });

  it('stays failed after a throw: the same error again, even for good input, nothing buffered', () => {
    const p = new StreamParser();
    const first = throwsCode(
      () => p.push(Buffer.concat([encodeControl(sampleControls[5] as never), Buffer.from('garbage garbage')])),
      ErrorCodes.BAD_MAGIC,
    );
    assert.equal(p.failed, first);
    assert.equal(p.bufferedBytes, 0);
    for (const next of [good, Buffer.alloc(0), encodeControl(sampleControls[9] as never)]) {
      assert.throws(
        () => p.push(next),
        (err) => err === first,
      );
    }
  });

  it('fails on the first bad message after good ones; the good ones before it come out of earlier pushes', () => {
    const p = new StreamParser();
    const hello = encode(sampleControls[0] as Message);
    assert.equal(p.push(hello).length, 1);
    throwsCode(() => p.push(patched(28, [9])), ErrorCodes.BAD_HEADER);
    throwsCode(() => p.push(hello), ErrorCodes.BAD_HEADER, 'still failed');
  });
});

/**
 * Runs `fn` while recording the size of every Buffer allocation made through
 * Buffer.alloc / allocUnsafe / concat (the ways the parser can allocate).
 */
function spyAllocations(fn: () => void): number[] {
  const sizes: number[] = [];
  const { alloc, allocUnsafe, concat } = Buffer;
  const B = Buffer as unknown as Record<'alloc' | 'allocUnsafe' | 'concat', (...a: unknown[]) => Buffer>;
  B.alloc = (...a) => (sizes.push(Number(a[0])), alloc.apply(Buffer, a as Parameters<typeof alloc>));
  B.allocUnsafe = (...a) => (sizes.push(Number(a[0])), allocUnsafe.apply(Buffer, a as Parameters<typeof allocUnsafe>));
  B.concat = (...a) => {
    const r = concat.apply(Buffer, a as Parameters<typeof concat>);
    sizes.push(r.length);
    return r;
  };
  try {
    fn();
  } finally {
    Object.assign(Buffer, { alloc, allocUnsafe, concat });
  }
  return sizes;
}

describe('StreamParser: frames refused where none belong (before the hello, from a viewer)', () => {
  const hello = encodeControl({ type: 'hello', body: { role: 'publish', stream: 'cam' } });
  const frame = encodeFrame(sampleFrame(1, 5000));

  it('a frame header is refused with FW_UNEXPECTED_MESSAGE as soon as its 12 bytes arrive, before its payload is held', () => {
    for (let n = 12; n <= 32; n++) {
      const p = new StreamParser();
      p.acceptFrames(false);
      throwsCode(() => p.push(frame.subarray(0, n)), ErrorCodes.UNEXPECTED_MESSAGE, `${n} bytes`);
      assert.equal(p.bufferedBytes, 0);
    }
    const p = new StreamParser();
    p.acceptFrames(false);
    assert.deepEqual(p.push(frame.subarray(0, 11)), []);
  });

  it('stops after each message while frames are refused, so a hello can allow the frame right behind it, at every split point', () => {
    const wire = Buffer.concat([hello, frame, hello]);
    for (let s = 0; s <= wire.length; s++) {
      const p = new StreamParser();
      p.acceptFrames(false);
      const out: Message[] = [];
      for (const chunk of [wire.subarray(0, s), wire.subarray(s)]) {
        let input = chunk;
        for (;;) {
          const got = p.push(input);
          input = Buffer.alloc(0);
          for (const m of got) {
            out.push(m);
            if (m.type === 'hello') p.acceptFrames(true);
          }
          if (got.length === 0) break;
        }
      }
      assert.deepEqual(
        out.map((m) => m.type),
        ['hello', 'frame', 'hello'],
        `split at ${s}`,
      );
    }
  });

  it("claims a message's whole size from its header; discard() lets go of everything and ignores what follows", () => {
    const p = new StreamParser();
    p.push(frame.subarray(0, 100));
    assert.equal(p.bufferedBytes, 100);
    assert.equal(p.claimedBytes, frame.length);
    p.discard();
    assert.equal(p.bufferedBytes, 0);
    assert.equal(p.claimedBytes, 0);
    throwsCode(() => p.push(frame), ErrorCodes.CONNECTION_CLOSED);
  });
});

describe('control bodies must be UTF-8', () => {
  it('a lone lead byte or an overlong encoding inside a JSON string → FW_BAD_MESSAGE', () => {
    for (const bad of [[0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff]]) {
      const json = Buffer.concat([Buffer.from('{"role":"view","stream":"x","client":"'), Buffer.from(bad), Buffer.from('"}')]);
      throwsCode(() => decodeMessage(rawControl('hello', json)), ErrorCodes.BAD_MESSAGE, bad.join(','));
    }
    const ok = Buffer.from('{"role":"view","stream":"x","client":"Zoë 📷"}');
    assert.equal(decodeMessage(rawControl('hello', ok)).type, 'hello');
  });
});
