import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeFrameHeader } from '../../../src/protocol/messages.js';
import { asBuffer, frameHeader } from '../../../src/transport/wire.js';
import { sampleFrame } from '../../helpers/proto-samples.js';

describe('transport wire helpers', () => {
  it("frameHeader encodes a frame's header once and hands the same bytes to every caller", () => {
    const f = sampleFrame(5, 300);
    const h = frameHeader(f);
    assert.deepEqual(Buffer.from(h), Buffer.from(encodeFrameHeader(f)));
    assert.equal(frameHeader(f), h, 'the second viewer gets the same object');
    const g = { ...f, seq: 6 };
    assert.notEqual(frameHeader(g), h, 'another frame object has its own header');
    assert.equal(Buffer.from(frameHeader(g)).readUInt32BE(12), 6);
  });

  it('asBuffer is a view of the same memory, never a copy', () => {
    const u8 = new Uint8Array([1, 2, 3, 4]).subarray(1, 3);
    const b = asBuffer(u8);
    assert.ok(Buffer.isBuffer(b));
    b[0] = 9;
    assert.equal(u8[0], 9);
    const buf = Buffer.from([1]);
    assert.equal(asBuffer(buf), buf);
  });
});
