/**
 * Fuzzing the UDP layer without sockets: the datagram and handshake
 * decoders, the NACK codec and send history, reliable control, the
 * reassembler and a whole UdpChannel on a fake link, fed every kind's
 * fields at boundary values, every truncation, mutations and random bytes.
 * Nothing may throw; what is delivered must be what was sent (when the
 * input was not corrupted); memory stays within the limits.
 * FW_FUZZ_SEED=<seed> replays a failing case.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReliableControl } from '../../../src/protocol/udp/control.js';
import { Kind, decodeNack, encodeNacks, readDatagram, readFragmentHeader, seqDiff } from '../../../src/protocol/udp/datagram.js';
import {
  fragmentMessage,
  grantFecGroup,
  grantFragmentSize,
  MAX_FRAGMENT_SIZE,
  MIN_FRAGMENT_SIZE,
} from '../../../src/protocol/udp/fragmenter.js';
import { readCookie, readInit, readOpen, readOpened } from '../../../src/protocol/udp/handshake.js';
import { Reassembler } from '../../../src/protocol/udp/reassembler.js';
import { SendHistory } from '../../../src/protocol/udp/send-history.js';
import { TokenBucket } from '../../../src/protocol/udp/token-bucket.js';
import { UdpChannel } from '../../../src/transport/udp.js';
import { fuzzSeed, runFuzzCases, type Prng } from '../../helpers/proto-prng.js';
import { hostileDatagrams, templates } from '../../helpers/udp-fuzz-cases.js';

const SEED = fuzzSeed(0x0dd_f00d);
const NONCE = Buffer.from('0123456789abcdef', 'hex');

/** Every decoder on one datagram: none throws; what they accept is consistent. */
function decodeAll(b: Buffer): void {
  const dg = readDatagram(b);
  const h = readFragmentHeader(b);
  if (h) {
    assert.ok(h.size > 0 && h.count > 0 && h.length > 0);
    assert.equal(Math.ceil(h.length / h.size), h.count);
    if (!h.parity) assert.ok(h.index < h.count);
  }
  if (!dg) return;
  assert.equal(dg.body.length, b.length - 8);
  const nacks = decodeNack(dg.body);
  if (nacks) assert.ok(nacks.length <= 256);
  readInit(dg);
  readCookie(dg, NONCE);
  const open = readOpen(dg);
  if (open) assert.ok(open.fragmentSize <= 0xffff && open.fecGroup <= 0xff);
  const opened = readOpened(dg, NONCE);
  if (opened) assert.notEqual(opened.session, 0);
  const c = new ReliableControl(() => dg.session);
  c.onControl(dg.body);
  c.onAck(dg.body, 0);
}

test('decoders: every kind, every field at its boundaries, every truncation, mutations and random bytes', () => {
  runFuzzCases(20, SEED, (rng) => {
    let n = 0;
    for (const { datagram } of hostileDatagrams(templates(rng.int(0, 0xffff_ffff)), rng, rng.int(1, 5))) {
      decodeAll(datagram);
      n++;
    }
    assert.ok(n > 1000);
  });
});

test('granted fragment sizes and FEC groups stay in range whatever the open asked', () => {
  const g = { min: MIN_FRAGMENT_SIZE, max: 8948, dflt: 1200 };
  for (let asked = 0; asked <= 0xffff; asked++) {
    const s = grantFragmentSize(asked, g);
    assert.ok(s >= g.min && s <= g.max, `asked ${asked} → ${s}`);
    if (asked >= g.min && asked <= g.max) assert.equal(s, asked);
  }
  assert.equal(grantFragmentSize(0, g), 1200);
  for (let k = 0; k <= 255; k++) {
    const got = grantFecGroup(k);
    assert.ok(k === 0 ? got === 0 : got >= 4 && got <= 255);
  }
  assert.ok(MAX_FRAGMENT_SIZE <= 0xffff);
});

test('NACK codec: random entries round-trip; random bodies decode or are refused, never throw', () => {
  runFuzzCases(300, SEED + 1, (rng) => {
    const entries = Array.from({ length: rng.int(0, 40) }, () => ({
      seq: rng.int(0, 0xffff_ffff),
      indexes: rng.chance(0.2) ? [] : Array.from({ length: rng.int(1, 30) }, () => rng.int(0, 0xfffe)),
    }));
    const dgs = encodeNacks(9, entries, rng.pick([64, 512, 1200]));
    const back = dgs.flatMap((d) => {
      const got = decodeNack(d.subarray(8));
      assert.ok(got, 'own NACKs decode');
      return got;
    });
    // Entries may be split in pieces across datagrams; the indexes per seq survive in order.
    const flatten = (es: { seq: number; indexes: number[] }[]): string[] =>
      es.flatMap((e) => (e.indexes.length === 0 ? [`${e.seq}:*`] : e.indexes.map((i) => `${e.seq}:${i}`)));
    assert.deepEqual(flatten(back), flatten(entries));
    for (let i = 0; i < 5; i++) decodeNack(rng.bytes(rng.int(0, 300)));
  });
});

test('send history: hostile NACKs never resend a fragment more than 8 times nor anything it does not hold', () => {
  runFuzzCases(50, SEED + 2, (rng) => {
    const h = new SendHistory();
    const f = fragmentMessage([rng.bytes(rng.int(1, 5000))], 3, { session: 1, fragmentSize: 512 });
    h.add(f, 0);
    h.markAllSent(3);
    const resent = new Map<number, number>();
    for (let i = 0; i < 40; i++) {
      const entries = Array.from({ length: rng.int(1, 5) }, () => ({
        seq: rng.pick([3, 2, 4, rng.int(0, 0xffff_ffff)]),
        indexes: rng.chance(0.3)
          ? []
          : Array.from({ length: rng.int(1, 10) }, () => rng.pick([0, 1, f.count - 1, f.count, 0xffff, rng.int(0, 0xffff)])),
      }));
      for (const d of h.lookup(entries, i * 1000)) {
        const idx = Buffer.from(d[0] as Uint8Array).readUInt16BE(16);
        assert.ok(idx < f.count);
        resent.set(idx, (resent.get(idx) ?? 0) + 1);
      }
    }
    for (const n of resent.values()) assert.ok(n <= 8);
  });
});

interface Sent {
  seq: number;
  message: Buffer;
  datagrams: Buffer[];
}

function someMessages(rng: Prng, count: number): Sent[] {
  const size = rng.pick([512, 700, 1200]);
  const fec = rng.pick([0, 0, 2, 4]);
  const first = rng.chance(0.2) ? 0xffff_fff0 : 0;
  return Array.from({ length: count }, (_, i) => {
    const message = rng.bytes(rng.int(1, 6000));
    const seq = (first + i) >>> 0;
    const f = fragmentMessage([message], seq, { session: 5, fragmentSize: size, fecGroup: fec });
    return { seq, message, datagrams: f.order.map((p) => Buffer.concat(p)) };
  });
}

test('reassembler: shuffled, duplicated, dropped and truncated datagrams give back only the messages sent, in order, within its limits', () => {
  runFuzzCases(150, SEED + 3, (rng) => {
    const sent = someMessages(rng, rng.int(1, 12));
    const byContent = new Map(sent.map((s) => [s.message.toString('base64'), s.seq]));
    const r = new Reassembler({ maxFramesInFlight: 8, maxBytes: 40_000, latencyBudgetMs: 20 });
    let pool = sent.flatMap((s) => s.datagrams);
    pool = pool.filter(() => !rng.chance(0.1));
    for (let i = 0, n = pool.length; i < n / 5; i++) pool.push(pool[rng.int(0, n - 1)] as Buffer);
    for (let i = pool.length - 1; i > 0 && rng.chance(0.7); i--) {
      const j = rng.int(Math.max(0, i - 6), i);
      [pool[i], pool[j]] = [pool[j] as Buffer, pool[i] as Buffer];
    }
    pool = pool.map((d) => (rng.chance(0.05) ? d.subarray(0, rng.int(0, d.length - 1)) : d));
    let now = 0;
    let last: number | undefined;
    const check = (messages: Uint8Array[]): void => {
      for (const m of messages) {
        const seq = byContent.get(Buffer.from(m).toString('base64'));
        assert.ok(seq !== undefined, 'a delivered message is one that was sent, intact');
        if (last !== undefined) assert.ok(seqDiff(seq, last) > 0, 'in order, no repeats');
        last = seq;
      }
    };
    for (const d of pool) {
      r.push(d, now);
      now += rng.int(0, 3000);
      if (rng.chance(0.3)) check(r.poll(now).messages);
      assert.ok(r.bytesHeld <= 40_000 && r.bytesHeld >= 0);
      assert.ok(r.inFlight <= 8 + 1);
    }
    check(r.poll(now + 1_000_000).messages);
    const s = r.stats;
    assert.ok(s.framesComplete + s.framesLost >= 0);
  });
});

test('reassembler: corrupted and random datagrams never throw and never hold more than the limits', () => {
  runFuzzCases(100, SEED + 4, (rng) => {
    const r = new Reassembler({ maxFramesInFlight: 6, maxBytes: 100_000, maxMessageBytes: 50_000 });
    const base = someMessages(rng, 4).flatMap((s) => s.datagrams);
    let now = 0;
    for (const { datagram } of hostileDatagrams(templates(5), rng, 5, 5, 50)) {
      r.push(rng.chance(0.5) ? datagram : (base[rng.int(0, base.length - 1)] as Buffer), now);
      now += rng.int(0, 2000);
      for (const m of r.poll(now).messages) assert.ok(m.length <= 50_000);
      assert.ok(r.bytesHeld <= 100_000);
      assert.ok(r.inFlight <= 7);
    }
  });
});

test('reliable control: hostile bodies never throw; the duplicate window stays bounded', () => {
  runFuzzCases(200, SEED + 5, (rng) => {
    const c = new ReliableControl(() => 1, { dedupWindow: 16 });
    for (let i = 0; i < 100; i++) {
      const body = rng.bytes(rng.int(0, 40));
      const { ack } = c.onControl(body);
      if (body.length >= 8 && (body[4] as number) & 1) assert.ok(ack && ack.length === 12);
      c.onAck(rng.bytes(rng.int(0, 8)), i);
    }
    assert.equal(c.pending, 0);
  });
});

test('token bucket: never more than burst + rate × time', () => {
  const b = new TokenBucket(100, 10);
  let taken = 0;
  for (let t = 0; t <= 1_000_000; t += 100) if (b.take(t)) taken++;
  assert.ok(taken <= 10 + 100 + 1, `took ${taken}`);
  assert.ok(taken >= 100);
  assert.ok(b.refused > 0);
});

test('a UdpChannel on a fake link survives every hostile datagram: no throw, no internal error', () => {
  runFuzzCases(6, SEED + 6, (rng) => {
    const session = rng.int(1, 0xffff_ffff);
    let closedBy: Error | undefined;
    let sent = 0;
    const ch = new UdpChannel('fuzz', session, { send: () => void sent++, closed: () => undefined }, { maxFrameBytes: 20_000 });
    ch.on('close', (e) => (closedBy = e));
    ch.on('protocolError', () => undefined);
    ch.on('message', () => undefined);
    let n = 0;
    for (const { name, datagram } of hostileDatagrams(templates(session), rng, session)) {
      const dg = readDatagram(datagram);
      // The server hands a channel only datagrams of its session; close and unknown-session would end it.
      if (!dg || dg.session !== session || dg.kind === Kind.close || dg.kind === Kind.unknownSession) continue;
      try {
        ch.receive(dg, datagram);
      } catch (err) {
        assert.fail(`${name}: ${String(err)}`);
      }
      n++;
    }
    assert.ok(n > 500);
    assert.equal(ch.stats().internalErrors, 0);
    assert.equal(ch.closed, false, `still open (${String(closedBy)})`);
    ch.receive({ kind: Kind.unknownSession, session, body: Buffer.alloc(0) }, Buffer.alloc(8));
    assert.equal(ch.closed, true, 'unknown session ends the channel');
  });
});

test('a fragment 2^31 − 1 messages ahead moves the window in one step (it used to walk the gap one seq at a time)', {
  timeout: 10_000,
}, () => {
  const r = new Reassembler();
  const one = (seq: number): Buffer =>
    Buffer.concat(fragmentMessage([Buffer.alloc(600, seq & 0xff)], seq, { session: 1, fragmentSize: 512 }).order[0] as Buffer[]);
  const whole = (seq: number): Buffer[] =>
    fragmentMessage([Buffer.alloc(300, 1)], seq, { session: 1, fragmentSize: 512 }).order.map((p) => Buffer.concat(p));
  r.push(one(0), 0);
  const far = 0x7fff_ffff;
  for (const d of whole(far)) r.push(d, 1);
  const { messages } = r.poll(2_000_000);
  assert.equal(messages.length, 1, 'the far message is delivered once the placeholders before it are given up');
  assert.equal(r.stats.framesLost, far, 'everything before it counted lost');
  assert.equal(r.inFlight, 0);
});
