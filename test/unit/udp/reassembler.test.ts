import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plainBytes } from '../../helpers/bytes.js';
import { fragmentMessage, type Fragments } from '../../../src/protocol/udp/fragmenter.js';
import { Reassembler, type ReassemblerOptions } from '../../../src/protocol/udp/reassembler.js';
import { SendHistory } from '../../../src/protocol/udp/send-history.js';

const SIZE = 64;
const msg = (len: number, seed: number): Buffer => {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = (i * 13 + seed * 101) & 0xff;
  return b;
};
const flat = (f: Fragments): Buffer[] => f.order.map((p) => Buffer.concat(p));

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

/**
 * Runs one message (seq 0) through a reassembler with a drop set and an
 * order, then a second one (seq 1, intact, so even a wholly lost first one
 * is noticed); repairs from the send history; returns what was delivered.
 */
function run(len: number, drop: Set<number>, order: number[] | undefined, opts: ReassemblerOptions & { fec?: number } = {}) {
  const m = msg(len, len);
  const f = fragmentMessage([m], 0, { session: 1, fragmentSize: SIZE, fecGroup: opts.fec ?? 0 });
  const tail = msg(10, 99);
  const f2 = fragmentMessage([tail], 1, { session: 1, fragmentSize: SIZE });
  const hist = new SendHistory();
  hist.add(f, 0);
  hist.add(f2, 0);
  hist.markAllSent(0);
  hist.markAllSent(1);
  const r = new Reassembler({ minFragmentSize: SIZE, latencyBudgetMs: 50, ...opts });
  const dgs = flat(f);
  let t = 0;
  const out: Uint8Array[] = [];
  for (const i of order ?? dgs.map((_, k) => k)) {
    if (!drop.has(i)) r.push(dgs[i] as Buffer, (t += 10));
  }
  r.push(flat(f2)[0] as Buffer, (t += 10));
  // Repair rounds: time passes, NACKs come back with retransmissions.
  for (let round = 0; round < 6; round++) {
    const { messages, nacks } = r.poll((t += 6000));
    out.push(...messages);
    for (const d of hist.lookup(nacks, t)) r.push(Buffer.concat(d), (t += 10));
  }
  out.push(...r.poll((t += 1_000_000)).messages);
  assert.deepEqual(plainBytes(out.at(-1)), plainBytes(tail), 'the following message always arrives');
  out.pop();
  return { out, m, r, f };
}

test('every drop pattern of 1–5 fragment messages is repaired by NACK', () => {
  for (let n = 1; n <= 5; n++) {
    const len = n * SIZE - 7;
    for (let mask = 0; mask < 1 << n; mask++) {
      const drop = new Set([...Array(n).keys()].filter((i) => mask & (1 << i)));
      const { out, m, r } = run(len, drop, undefined);
      assert.equal(out.length, 1, `n=${n} drop=${[...drop]}`);
      assert.deepEqual(plainBytes(out[0]), plainBytes(m));
      assert.equal(r.stats.repairedByNack, drop.size);
      assert.equal(r.stats.fragmentsLost, drop.size);
      assert.equal(r.stats.framesRepaired, drop.size > 0 ? 1 : 0);
      assert.equal(r.inFlight, 0);
      assert.equal(r.bytesHeld, 0);
    }
  }
});

test('every drop pattern without NACK: whole or counted lost, never wrong', () => {
  for (let n = 1; n <= 5; n++) {
    for (let mask = 0; mask < 1 << n; mask++) {
      const drop = new Set([...Array(n).keys()].filter((i) => mask & (1 << i)));
      const { out, m, r } = run(n * SIZE, drop, undefined, { nack: false });
      if (drop.size === 0) assert.deepEqual(plainBytes(out), plainBytes([m]));
      else {
        assert.equal(out.length, 0);
        assert.equal(r.stats.framesLost, 1);
        assert.equal(r.stats.nacked, 0);
      }
    }
  }
});

test('every arrival order of 1–5 fragments rebuilds the message; reorders counted', () => {
  for (let n = 1; n <= 5; n++) {
    for (const order of permutations([...Array(n).keys()])) {
      const { out, m, r } = run(n * SIZE - 1, new Set(), order, { nack: false });
      assert.deepEqual(plainBytes(out), plainBytes([m]), `order ${order}`);
      const inversions = order.filter((v, i) => order.slice(0, i).some((u) => u > v)).length;
      assert.equal(r.stats.reordered, inversions);
    }
  }
});

test('every reorder with every single drop is repaired', () => {
  for (const order of permutations([0, 1, 2, 3])) {
    for (let d = 0; d < 4; d++) {
      const { out, m } = run(4 * SIZE, new Set([order[d] as number]), order);
      assert.deepEqual(plainBytes(out), plainBytes([m]));
    }
  }
});

test('FEC repairs one loss per group without a NACK; two losses fall back to NACK', () => {
  // 8 fragments, groups of 4: send order D0 D1 D2 D3 P0 D4 D5 D6 D7 P1 (positions 0..9).
  for (let d = 0; d < 10; d++) {
    const { out, m, r } = run(8 * SIZE, new Set([d]), undefined, { fec: 4 });
    assert.deepEqual(plainBytes(out), plainBytes([m]));
    const isParity = d === 4 || d === 9;
    assert.equal(r.stats.repairedByFec, isParity ? 0 : 1, `drop ${d}`);
    assert.equal(r.stats.repairedByNack, 0);
  }
  const { out, m, r } = run(8 * SIZE, new Set([0, 1]), undefined, { fec: 4 });
  assert.deepEqual(plainBytes(out), plainBytes([m]));
  assert.equal(r.stats.repairedByFec + r.stats.repairedByNack, 2);
  assert.ok(r.stats.repairedByNack >= 1);
});

test('FEC recovers a short last fragment exactly', () => {
  // Send order: D0 D1 D2 D3 P0 D4 D5 P1; D5 (position 6) is the short last fragment.
  const res = run(5 * SIZE + 3, new Set([6]), undefined, { fec: 4, nack: false });
  assert.deepEqual(plainBytes(res.out), plainBytes([res.m]));
  assert.equal(res.r.stats.repairedByFec, 1);
});

test('duplicates are counted and ignored', () => {
  const f = fragmentMessage([msg(200, 1)], 0, { session: 1, fragmentSize: SIZE });
  const r = new Reassembler({ minFragmentSize: SIZE });
  const dgs = flat(f);
  r.push(dgs[0] as Buffer, 1);
  r.push(dgs[0] as Buffer, 2);
  for (const d of dgs.slice(1)) r.push(d, 3);
  r.push(dgs[1] as Buffer, 4); // after delivery: late
  const { messages } = r.poll(5);
  assert.equal(messages.length, 1);
  r.push(dgs[2] as Buffer, 6);
  assert.equal(r.stats.duplicates, 2);
  assert.equal(r.stats.fragmentsLate, 1);
});

test('messages are released in order; a late one is dropped, never delivered after a newer one', () => {
  const r = new Reassembler({ minFragmentSize: SIZE, latencyBudgetMs: 20, nack: false });
  const a = flat(fragmentMessage([msg(100, 1)], 0, { session: 1, fragmentSize: SIZE }));
  const b = flat(fragmentMessage([msg(100, 2)], 1, { session: 1, fragmentSize: SIZE }));
  r.push(a[0] as Buffer, 0);
  for (const d of b) r.push(d, 1000);
  assert.equal(r.poll(2000).messages.length, 0, 'seq 1 waits for seq 0');
  const { messages } = r.poll(21_000);
  assert.equal(messages.length, 1, 'seq 0 given up, seq 1 released');
  assert.deepEqual(plainBytes(messages[0]), plainBytes(msg(100, 2)));
  r.push(a[1] as Buffer, 22_000);
  assert.equal(r.poll(23_000).messages.length, 0);
  assert.equal(r.stats.framesLost, 1);
  assert.equal(r.stats.fragmentsLate, 1);
});

test('a wholly lost message is asked for whole and repaired', () => {
  const hist = new SendHistory();
  const r = new Reassembler({ minFragmentSize: SIZE, latencyBudgetMs: 50 });
  const fs = [0, 1, 2].map((s) => fragmentMessage([msg(150, s)], s, { session: 1, fragmentSize: SIZE }));
  fs.forEach((f) => {
    hist.add(f, 0);
    hist.markAllSent(f.seq);
  });
  for (const d of flat(fs[0] as Fragments)) r.push(d, 1);
  for (const d of flat(fs[2] as Fragments)) r.push(d, 2);
  const p = r.poll(3);
  assert.equal(p.messages.length, 1);
  assert.deepEqual(p.nacks, [{ seq: 1, indexes: [] }]);
  for (const d of hist.lookup(p.nacks, 4)) r.push(Buffer.concat(d), 5);
  const q = r.poll(6);
  assert.deepEqual(plainBytes(q.messages), plainBytes([msg(150, 1), msg(150, 2)]));
  assert.equal(r.stats.framesLost, 0);
});

test('timeouts: an incomplete message is given up after the budget; NACKs stop', () => {
  const r = new Reassembler({ minFragmentSize: SIZE, latencyBudgetMs: 30, maxNacksPerFragment: 3, nackRetryMs: 5 });
  const dgs = flat(fragmentMessage([msg(300, 1)], 0, { session: 1, fragmentSize: SIZE }));
  r.push(dgs[0] as Buffer, 0);
  r.push(dgs[2] as Buffer, 10);
  let nacks = 0;
  for (let t = 100; t < 40_000; t += 1000) nacks += r.poll(t).nacks.reduce((s, e) => s + e.indexes.length, 0);
  assert.ok(nacks > 0 && nacks <= 3 * 3, `nacks ${nacks}`);
  assert.equal(r.stats.framesLost, 1);
  assert.equal(r.inFlight, 0);
  assert.equal(r.bytesHeld, 0);
  assert.equal(r.nextWakeUs(40_000), undefined);
});

test('limits: frames in flight and bytes are bounded; oversize messages are refused', () => {
  const r = new Reassembler({ minFragmentSize: SIZE, maxFramesInFlight: 4, maxBytes: 1000, maxMessageBytes: 600, nack: false });
  for (let s = 0; s < 50; s++) {
    const dgs = flat(fragmentMessage([msg(300, s)], s, { session: 1, fragmentSize: SIZE }));
    r.push(dgs[0] as Buffer, s * 10); // never complete
    assert.ok(r.inFlight <= 4, `in flight ${r.inFlight}`);
    assert.ok(r.bytesHeld <= 1000, `bytes ${r.bytesHeld}`);
  }
  const big = flat(fragmentMessage([msg(700, 1)], 60, { session: 1, fragmentSize: SIZE }));
  r.push(big[0] as Buffer, 1000);
  assert.ok(r.stats.invalid >= 1);
  assert.ok(r.stats.framesLost >= 40);
});

test('garbage datagrams are counted as invalid, never thrown', () => {
  const r = new Reassembler({ minFragmentSize: SIZE });
  for (let i = 0; i < 500; i++) {
    const b = Buffer.allocUnsafe(Math.floor(Math.random() * 100));
    for (let j = 0; j < b.length; j++) b[j] = Math.floor(Math.random() * 256);
    r.push(b, i);
  }
  assert.equal(r.poll(1000).messages.length, 0);
  assert.equal(r.stats.invalid, 500);
});

test('sequence numbers wrap at 2^32', () => {
  const r = new Reassembler({ minFragmentSize: SIZE, nack: false });
  const seqs = [0xfffffffe, 0xffffffff, 0, 1];
  const got: Uint8Array[] = [];
  seqs.forEach((s, k) => {
    for (const d of flat(fragmentMessage([msg(100, k)], s, { session: 1, fragmentSize: SIZE }))) r.push(d, k * 1000);
    got.push(...r.poll(k * 1000 + 1).messages);
  });
  assert.equal(got.length, 4);
});
