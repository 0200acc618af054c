/**
 * NACK repair logic with an injected clock: when a gap counts as a loss,
 * tail loss by the silence timer, repeated NACKs for lost retransmissions
 * (bounded, spaced by the measured repair round trip), the sender ignoring
 * NACKs for fragments it has not sent yet, and urgent datagrams jumping the
 * pacer queue.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plainBytes } from '../../helpers/bytes.js';
import { fragmentMessage, type Fragments } from '../../../src/protocol/udp/fragmenter.js';
import { Reassembler, type ReassemblerOptions } from '../../../src/protocol/udp/reassembler.js';
import { SendHistory } from '../../../src/protocol/udp/send-history.js';
import { Pacer, type Parts } from '../../../src/transport/udp-pacer.js';

const SIZE = 64;
const msg = (len: number, seed: number): Buffer => {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = (i * 7 + seed * 31) & 0xff;
  return b;
};
const flat = (f: Fragments): Buffer[] => f.order.map((p) => Buffer.concat(p));
const frag = (seq: number, n: number, fec = 0): { m: Buffer; f: Fragments; dgs: Buffer[] } => {
  const m = msg(n * SIZE - 5, seq + n);
  const f = fragmentMessage([m], seq, { session: 1, fragmentSize: SIZE, fecGroup: fec });
  return { m, f, dgs: flat(f) };
};
const indexOf = (dg: Uint8Array): number => Buffer.from(dg).readUInt16BE(16);
const nackedIndexes = (nacks: { seq: number; indexes: number[] }[]): number[] => nacks.flatMap((e) => e.indexes);

test('a gap is NACKed only once something sent after it has arrived; fragments not seen yet are not', () => {
  const r = new Reassembler({ minFragmentSize: SIZE, latencyBudgetMs: 100 });
  const { dgs } = frag(0, 8);
  r.push(dgs[0] as Buffer, 0);
  r.push(dgs[1] as Buffer, 100);
  r.push(dgs[3] as Buffer, 200); // 2 missing; 4..7 not sent yet
  const p = r.poll(300);
  assert.deepEqual(p.nacks, [{ seq: 0, indexes: [2] }]);
  // Still inside the tail wait: nothing more, however often it is polled.
  for (let t = 400; t < 3000; t += 100) assert.deepEqual(r.poll(t).nacks, []);
  assert.equal(r.stats.nacked, 1);
});

test('tail loss: the last fragments are NACKed after the silence timer, with no later message needed', () => {
  const r = new Reassembler({ minFragmentSize: SIZE, latencyBudgetMs: 100, tailTimeoutMs: 3 });
  const { m, dgs } = frag(0, 6);
  for (let i = 0; i < 4; i++) r.push(dgs[i] as Buffer, i * 100); // 4 and 5 (the tail) lost
  assert.deepEqual(r.poll(400).nacks, []);
  const wake = r.nextWakeUs(400);
  assert.equal(wake, 300 + 3000, 'wakes when the tail is overdue');
  const p = r.poll(wake as number);
  assert.deepEqual(p.nacks, [{ seq: 0, indexes: [4, 5] }]);
  for (const i of [4, 5]) {
    const re = Buffer.from(dgs[i] as Buffer);
    re.writeUInt8(1, 23); // retransmission flag
    r.push(re, 4000 + i);
  }
  const q = r.poll(4200);
  assert.deepEqual(plainBytes(q.messages), plainBytes([m]));
  assert.equal(r.stats.fragmentsLost, 2);
});

test('the tail wait stretches to twice the largest gap of a bursty sender', () => {
  const r = new Reassembler({ minFragmentSize: SIZE, latencyBudgetMs: 100, tailTimeoutMs: 3 });
  const { dgs } = frag(0, 6);
  r.push(dgs[0] as Buffer, 0);
  r.push(dgs[1] as Buffer, 5000); // the sender paused 5 ms between bursts
  r.push(dgs[2] as Buffer, 5100);
  assert.deepEqual(r.poll(5200).nacks, []);
  assert.deepEqual(r.poll(5100 + 9000).nacks, [], 'not yet: 2 × 5 ms of silence is normal for this sender');
  assert.deepEqual(nackedIndexes(r.poll(5100 + 10_000).nacks), [3, 4, 5]);
});

test('a later message makes every missing fragment of an older one a loss at once', () => {
  const r = new Reassembler({ minFragmentSize: SIZE, latencyBudgetMs: 100 });
  const a = frag(0, 5);
  const b = frag(1, 2);
  r.push(a.dgs[0] as Buffer, 0);
  r.push(a.dgs[1] as Buffer, 100);
  r.push(b.dgs[0] as Buffer, 200);
  assert.deepEqual(r.poll(300).nacks, [{ seq: 0, indexes: [2, 3, 4] }]);
});

test('a lost retransmission is asked for again one retry interval later, at most maxNacksPerFragment times', () => {
  const r = new Reassembler({ minFragmentSize: SIZE, latencyBudgetMs: 200, maxNacksPerFragment: 4, nackRetryMs: 5 });
  const { dgs } = frag(0, 4);
  r.push(dgs[0] as Buffer, 0);
  r.push(dgs[2] as Buffer, 100);
  r.push(dgs[3] as Buffer, 200);
  const times: number[] = [];
  let t = 300;
  for (let step = 0; step < 50; step++) {
    const p = r.poll(t);
    if (nackedIndexes(p.nacks).includes(1)) times.push(t);
    const w = r.nextWakeUs(t);
    if (w === undefined) break;
    t = w;
  }
  assert.equal(times.length, 4, `NACK times ${times}`);
  for (let k = 1; k < times.length; k++) assert.equal((times[k] as number) - (times[k - 1] as number), 5000);
  assert.equal(r.stats.framesLost, 1, 'given up at the budget');
  assert.equal(r.stats.fragmentsLost, 1);
  assert.equal(r.inFlight, 0);
});

test('NACK spacing follows the measured repair round trip (Karn: only repairs asked for once are timed)', () => {
  const r = new Reassembler({ minFragmentSize: SIZE, latencyBudgetMs: 100 });
  assert.equal(r.repairRttUs, undefined);
  let t = 0;
  for (let seq = 0; seq < 30; seq++) {
    const { dgs } = frag(seq, 3);
    r.push(dgs[0] as Buffer, (t += 100));
    r.push(dgs[2] as Buffer, (t += 100));
    const p = r.poll((t += 10));
    assert.deepEqual(p.nacks, [{ seq, indexes: [1] }]);
    const re = Buffer.from(dgs[1] as Buffer);
    re.writeUInt8(1, 23); // retransmission flag
    r.push(re, (t += 800));
    assert.equal(r.poll(t).messages.length, 1);
  }
  const rtt = Number(r.repairRttUs);
  assert.ok(Math.abs(rtt - 800) < 1, `rtt ${rtt}`);
  // Variation has decayed to ~0: retry = rtt + 1 ms floor.
  assert.ok(Math.abs(r.retryUs - 1800) < 50, `retry ${r.retryUs}`);
  // Now the retransmission is lost: the repeat comes one retry interval after the NACK, not before.
  const { dgs } = frag(30, 3);
  r.push(dgs[0] as Buffer, (t += 100));
  r.push(dgs[2] as Buffer, (t += 100));
  const first = (t += 10);
  assert.deepEqual(nackedIndexes(r.poll(first).nacks), [1]);
  assert.deepEqual(r.poll(first + 1700).nacks, []);
  assert.equal(Math.round(r.nextWakeUs(first + 1700) as number), Math.round(first + r.retryUs));
  assert.deepEqual(nackedIndexes(r.poll(first + 1800).nacks), [1]);
});

test('the sender ignores NACKs for fragments still queued, and resends each fragment a bounded number of times', () => {
  const h = new SendHistory({ maxRetransmits: 2 });
  const { f } = frag(0, 6);
  h.add(f, 0);
  for (let i = 0; i < 3; i++) h.markSent(0, i);
  const got = h.lookup([{ seq: 0, indexes: [1, 4, 5] }], 10).map((d) => indexOf(d[0] as Buffer));
  assert.deepEqual(got, [1]);
  assert.equal(h.notYetSent, 2);
  assert.equal(h.retransmitted, 1);
  // A whole-message NACK resends only what was sent; the rest is on its way anyway.
  assert.deepEqual(
    h.lookup([{ seq: 0, indexes: [] }], 20).map((d) => indexOf(d[0] as Buffer)),
    [0, 1, 2],
  );
  assert.equal(h.notYetSent, 2);
  // Fragment 1 has now been resent twice: the third request is refused and counted.
  assert.deepEqual(h.lookup([{ seq: 0, indexes: [1] }], 30), []);
  assert.equal(h.missed, 1);
  // Retransmissions carry the flag; originals do not.
  const again = h.lookup([{ seq: 0, indexes: [2] }], 40)[0] as Parts;
  assert.equal(((again[0] as Uint8Array)[23] as number) & 1, 1);
  assert.equal((((f.data[2] as Uint8Array[])[0] as Uint8Array)[23] as number) & 1, 0);
  // Unknown messages are counted, never thrown.
  assert.deepEqual(h.lookup([{ seq: 99, indexes: [0, 1] }], 50), []);
  assert.equal(h.missed, 3);
});

/**
 * One message through a simulated path with an injected clock: originals
 * sent 100 µs apart, some dropped; NACKs reach the sender after `owdUs`
 * and retransmissions come back after as long again, some of those dropped
 * too. No later message follows, so a lost tail must be found by the
 * silence timer. Runs event by event until nothing is pending.
 */
function simulate(
  n: number,
  dropOriginal: (i: number) => boolean,
  dropRetransmit: (i: number, attempt: number) => boolean,
  opts: ReassemblerOptions & { fec?: number } = {},
) {
  const { m, f, dgs } = frag(0, n, opts.fec ?? 0);
  const r = new Reassembler({ minFragmentSize: SIZE, latencyBudgetMs: 100, ...opts });
  const hist = new SendHistory({ maxRetransmits: 8 });
  hist.add(f, 0);
  const owdUs = 400;
  const arrivals: { t: number; dg: Buffer }[] = [];
  const attempts = new Map<number, number>();
  const out: Uint8Array[] = [];
  let t = 0;
  dgs.forEach((dg, pos) => {
    const isParity = dg.readUInt8(3) === 0x21;
    if (!isParity) hist.markSent(0, indexOf(dg));
    if (isParity || !dropOriginal(indexOf(dg))) arrivals.push({ t: pos * 100 + owdUs, dg });
  });
  for (let step = 0; step < 10_000; step++) {
    arrivals.sort((a, b) => a.t - b.t);
    const wake = r.nextWakeUs(t);
    const nextArrival = arrivals[0]?.t;
    if (wake === undefined && nextArrival === undefined) break;
    t = Math.min(wake ?? Infinity, nextArrival ?? Infinity);
    while (arrivals.length > 0 && (arrivals[0] as { t: number }).t <= t) r.push((arrivals.shift() as { dg: Buffer }).dg, t);
    const p = r.poll(t);
    out.push(...p.messages);
    for (const d of hist.lookup(p.nacks, t + owdUs)) {
      const dg = Buffer.concat(d);
      const i = indexOf(dg);
      const k = attempts.get(i) ?? 0;
      attempts.set(i, k + 1);
      if (!dropRetransmit(i, k)) arrivals.push({ t: t + 2 * owdUs, dg });
    }
  }
  return { out, m, r, attempts };
}

// (A message of which nothing arrives, with nothing after it, cannot be noticed by anyone: the all-lost
// pattern is left to the whole-message test in reassembler.test.ts, where a later message follows.)
test('every drop pattern of 1–7 fragments, tail losses included, is repaired by NACK without a later message', () => {
  for (let n = 1; n <= 7; n++) {
    for (let mask = 1; mask < (1 << n) - 1; mask++) {
      const lost = (i: number): boolean => (mask & (1 << i)) !== 0;
      const { out, m, r } = simulate(n, lost, () => false);
      const dropped = [...Array(n).keys()].filter(lost).length;
      assert.deepEqual(plainBytes(out), plainBytes([m]), `n=${n} mask=${mask.toString(2)}`);
      assert.equal(r.stats.repairedByNack, dropped);
      assert.equal(r.stats.fragmentsLost, dropped);
      assert.equal(r.stats.framesRepaired, 1);
      assert.equal(r.stats.duplicates, 0, 'no repeat NACK before the retransmission could arrive');
      assert.equal(r.inFlight, 0);
    }
  }
});

test('every drop pattern with the first one or two retransmissions lost too is repaired by repeated NACKs', () => {
  for (let n = 1; n <= 6; n++) {
    for (let mask = 1; mask < (1 << n) - 1; mask++) {
      for (const lostTries of [1, 2]) {
        const lost = (i: number): boolean => (mask & (1 << i)) !== 0;
        const { out, m, r, attempts } = simulate(n, lost, (_i, k) => k < lostTries);
        assert.deepEqual(plainBytes(out), plainBytes([m]), `n=${n} mask=${mask.toString(2)} lost tries ${lostTries}`);
        const dropped = [...Array(n).keys()].filter(lost).length;
        assert.equal(r.stats.repairedByNack, dropped);
        assert.equal(r.stats.fragmentsLost, dropped);
        for (const [i, k] of attempts) assert.equal(k, lostTries + 1, `fragment ${i} resent ${k} times`);
      }
    }
  }
});

test('a fragment whose every retransmission is lost: NACKs stop at the bound, the message is given up and counted', () => {
  const { out, r, attempts } = simulate(
    5,
    (i) => i === 4,
    () => true,
    { maxNacksPerFragment: 3 },
  );
  assert.deepEqual(plainBytes(out), plainBytes([]));
  assert.equal(attempts.get(4), 3);
  assert.equal(r.stats.nacked, 3);
  assert.equal(r.stats.framesLost, 1);
  assert.equal(r.stats.fragmentsLost, 1);
  assert.equal(r.inFlight, 0);
  assert.equal(r.bytesHeld, 0);
});

test('with FEC, single losses per group need no NACK, a lost tail parity falls back to NACK, double losses are repaired', () => {
  // 8 fragments, groups of 4: D0 D1 D2 D3 P0 D4 D5 D6 D7 P1.
  for (let d = 0; d < 8; d++) {
    const { out, m, r } = simulate(
      8,
      (i) => i === d,
      () => false,
      { fec: 4 },
    );
    assert.deepEqual(plainBytes(out), plainBytes([m]));
    assert.equal(r.stats.repairedByFec, 1);
    assert.equal(r.stats.nacked, 0, `drop ${d}: FEC alone`);
  }
  const both = simulate(
    8,
    (i) => i === 6 || i === 7,
    () => false,
    { fec: 4 },
  );
  assert.deepEqual(plainBytes(both.out), plainBytes([both.m]));
  assert.equal(both.r.stats.repairedByFec + both.r.stats.repairedByNack, 2);
});

test('urgent datagrams (NACKs, retransmissions) jump queued bulk fragments and do not wait for tokens', async () => {
  const written: string[] = [];
  const now = 0;
  const pacer = new Pacer(
    (p) => written.push((p[0] as Buffer).toString()),
    () => now,
    { rateMbps: 1, burstBytes: 1000 },
  );
  const bulk = Array.from({ length: 10 }, (_, i) => [Buffer.from(`b${i}`.padEnd(400, '.'))]);
  pacer.pushBulk(bulk, 4000);
  await new Promise((r) => setImmediate(r));
  const sentBefore = written.length;
  assert.ok(sentBefore < 10, 'the bucket ran dry');
  pacer.pushUrgent([[Buffer.from('urgent')]]);
  await new Promise((r) => setImmediate(r));
  assert.equal(written[sentBefore], 'urgent', 'the urgent datagram left next, without waiting for tokens');
  assert.equal(written.length, sentBefore + 1, 'bulk still waits for tokens');
  pacer.close();
});

test('the pacer is bounded: bulk past maxQueueBytes is refused whole, urgent keeps only the newest 4096', () => {
  const pacer = new Pacer(
    () => undefined,
    () => 0,
    { rateMbps: 1, burstBytes: 1000, maxQueueBytes: 10_000 },
  );
  const msg = (n: number): Uint8Array[][] => Array.from({ length: n }, () => [new Uint8Array(1000)]);
  assert.equal(pacer.pushBulk(msg(6), 6000), true);
  assert.equal(pacer.pushBulk(msg(6), 6000), false, 'a message that would pass the limit is refused');
  assert.equal(pacer.queuedBytes, 6000, 'nothing of the refused message is queued');
  assert.equal(pacer.pushBulk(msg(4), 4000), true, 'one that fits still goes in');
  assert.equal(pacer.queuedBytes, 10_000);
  pacer.pushUrgent(Array.from({ length: 5000 }, () => [new Uint8Array(1)]));
  assert.equal(pacer.queuedDatagrams, 4096 + 10, 'urgent datagrams past 4096 drop the oldest');
  pacer.close();
  assert.equal(pacer.queuedDatagrams, 0);
  assert.equal(pacer.queuedBytes, 0);
});
