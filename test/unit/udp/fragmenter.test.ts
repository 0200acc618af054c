import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFramewireError } from '../../../src/errors.js';
import { FRAGMENT_HEADER_BYTES, decodeNack, encodeNacks, readFragmentHeader } from '../../../src/protocol/udp/datagram.js';
import { fragmentMessage, sliceParts } from '../../../src/protocol/udp/fragmenter.js';

const bytes = (n: number, seed = 1): Buffer => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
};

test('fragments carry seq, index, count and size; payloads rebuild the message', () => {
  for (const len of [1, 63, 64, 65, 200, 1000]) {
    const head = bytes(32, 2);
    const body = bytes(len, 3);
    const f = fragmentMessage([head, body], 7, { session: 0xabcdef01, fragmentSize: 64 });
    assert.equal(f.count, Math.ceil((len + 32) / 64));
    const joined: Buffer[] = [];
    f.data.forEach((parts, i) => {
      const dg = Buffer.concat(parts);
      const h = readFragmentHeader(dg);
      assert.ok(h);
      assert.deepEqual(
        { s: h.session, seq: h.seq, idx: h.index, n: h.count, p: h.parity },
        { s: 0xabcdef01, seq: 7, idx: i, n: f.count, p: false },
      );
      assert.ok(dg.length - FRAGMENT_HEADER_BYTES <= 64);
      joined.push(dg.subarray(FRAGMENT_HEADER_BYTES));
    });
    assert.deepEqual(Buffer.concat(joined), Buffer.concat([head, body]));
  }
});

test('fragments are views of the message, not copies', () => {
  const body = bytes(300);
  const f = fragmentMessage([body], 1, { session: 1, fragmentSize: 100 });
  const view = f.data[1]?.[1];
  assert.ok(view);
  assert.equal(view.buffer, body.buffer);
});

test('parity: one per group, in send order after its group', () => {
  const f = fragmentMessage([bytes(1000)], 1, { session: 1, fragmentSize: 100, fecGroup: 4 });
  assert.equal(f.count, 10);
  assert.equal(f.parity.length, 3);
  const kinds = f.order.map((p) => (readFragmentHeader(Buffer.concat(p))?.parity ? 'P' : 'D')).join('');
  assert.equal(kinds, 'DDDDPDDDDPDDP');
});

test('limits: bad sizes and oversize messages throw coded errors', () => {
  assert.throws(
    () => fragmentMessage([bytes(10)], 0, { session: 1, fragmentSize: 10 }),
    (e) => isFramewireError(e, 'FW_BAD_OPTION'),
  );
  assert.throws(
    () => fragmentMessage([bytes(10)], 0, { session: 1, fecGroup: 300 }),
    (e) => isFramewireError(e, 'FW_BAD_OPTION'),
  );
  assert.throws(
    () => fragmentMessage([Buffer.alloc(0)], 0, { session: 1 }),
    (e) => isFramewireError(e, 'FW_BAD_OPTION'),
  );
  assert.throws(
    () => fragmentMessage([Buffer.alloc(64 * 70_000)], 0, { session: 1, fragmentSize: 64 }),
    (e) => isFramewireError(e, 'FW_FRAME_TOO_LARGE'),
  );
});

test('inconsistent fragment headers are rejected', () => {
  const f = fragmentMessage([bytes(150)], 1, { session: 1, fragmentSize: 64 });
  const dg = Buffer.concat(f.data[0] as Buffer[]);
  assert.ok(readFragmentHeader(dg));
  assert.equal(readFragmentHeader(dg.subarray(0, 30)), undefined, 'short payload');
  const bad = Buffer.from(dg);
  bad.writeUInt16BE(9, 18);
  assert.equal(readFragmentHeader(bad), undefined, 'count disagrees with length');
  const bad2 = Buffer.from(dg);
  bad2.writeUInt16BE(5, 16);
  assert.equal(readFragmentHeader(bad2), undefined, 'index beyond count');
});

test('sliceParts spans part boundaries', () => {
  const parts = [Buffer.from('abc'), Buffer.from('defg'), Buffer.from('h')];
  assert.equal(Buffer.concat(sliceParts(parts, 2, 6)).toString(), 'cdef');
  assert.equal(Buffer.concat(sliceParts(parts, 0, 8)).toString(), 'abcdefgh');
});

test('NACKs round-trip and split to fit', () => {
  const entries = [
    { seq: 5, indexes: [1, 2, 3] },
    { seq: 6, indexes: [] },
    { seq: 0xffffffff, indexes: Array.from({ length: 700 }, (_, i) => i) },
  ];
  const dgs = encodeNacks(9, entries, 1200);
  assert.ok(dgs.length >= 2);
  const back = dgs.flatMap((d) => decodeNack(d.subarray(8)) ?? []);
  const merged = new Map<number, number[]>();
  for (const e of back) merged.set(e.seq, [...(merged.get(e.seq) ?? []), ...e.indexes]);
  assert.deepEqual(merged.get(5), [1, 2, 3]);
  assert.deepEqual(merged.get(6), []);
  assert.equal(merged.get(0xffffffff)?.length, 700);
  for (const d of dgs) assert.ok(d.length <= 1200);
  assert.equal(decodeNack(Buffer.from([0, 0, 0, 1, 0, 5, 0])), undefined);
});
