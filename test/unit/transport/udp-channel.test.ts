/**
 * UdpChannel on a fake link (no sockets), with a clock that stands still so
 * the pacer sends one burst and holds the rest: which originals have left
 * is known from the pacer itself (no re-reading of its own datagrams), so a
 * NACK resends exactly those and ignores the ones still queued.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Kind, encodeNacks, readDatagram, readFragmentHeader } from '../../../src/protocol/udp/datagram.js';
import { fragmentMessage } from '../../../src/protocol/udp/fragmenter.js';
import { UdpChannel, dataIndexAt } from '../../../src/transport/udp.js';
import type { Parts } from '../../../src/transport/udp-pacer.js';
import { sampleFrame } from '../../helpers/proto-samples.js';
import { until } from '../../helpers/relay.js';

const SESSION = 77;

function fakeLink(): { sent: Buffer[]; link: { send: (p: Parts) => void; closed: () => void }; closedCalls: () => number } {
  const sent: Buffer[] = [];
  let closedCalls = 0;
  return {
    sent,
    link: { send: (p) => void sent.push(Buffer.concat(p)), closed: () => void closedCalls++ },
    closedCalls: () => closedCalls,
  };
}

describe('UdpChannel', () => {
  it("dataIndexAt maps every position of the fragmenter's send order to its data fragment (or parity)", () => {
    for (const k of [0, 1, 3, 4, 7]) {
      for (const count of [1, 3, 4, 5, 9, 16]) {
        const f = fragmentMessage([Buffer.alloc(count * 64 - 1, 1)], 0, { session: 1, fragmentSize: 64, fecGroup: k });
        assert.equal(f.count, count);
        for (let at = 0; at < f.order.length; at++) {
          assert.equal(dataIndexAt(at, k, count), f.data.indexOf(f.order[at] as Buffer[]), `k=${k} count=${count} at=${at}`);
        }
      }
    }
  });

  for (const fecGroup of [0, 4]) {
    it(`a NACK resends the originals that left the pacer and ignores those still queued (FEC group ${fecGroup})`, async () => {
      const { sent, link } = fakeLink();
      const now = 1_000_000;
      const ch = new UdpChannel('fake:1', SESSION, link, { fragmentSize: 512, fecGroup, pacingMbps: 1, clock: () => now });
      const frame = sampleFrame(1, 100 * 512);
      ch.send({ type: 'frame', frame });
      await until(() => sent.length > 0, 'the first burst');
      await new Promise((r) => setImmediate(r));
      const left = sent.map((d) => readFragmentHeader(d)).filter((h) => h !== undefined && !h.parity);
      const count = Math.ceil((32 + frame.data.length) / 512);
      assert.ok(left.length > 0 && left.length < count, `only part of the frame left (${left.length} of ${count})`);
      const before = sent.length;
      const indexes = [...Array(count).keys()];
      for (const nack of encodeNacks(SESSION, [{ seq: 0, indexes }], 1200))
        ch.receive(readDatagram(nack) as NonNullable<ReturnType<typeof readDatagram>>, nack);
      const stats = ch.stats();
      assert.equal(stats.retransmitted, left.length, 'every original that left is resent');
      assert.equal(stats.nackedNotYetSent, count - left.length, 'the queued ones are not');
      await until(() => sent.length >= before + left.length, 'the retransmissions on the link');
      const resent = sent.slice(before).map((d) => readFragmentHeader(d));
      assert.deepEqual(
        resent.map((h) => h?.index),
        left.map((h) => h?.index),
      );
      assert.ok(resent.every((h) => h?.retransmit === true));
      ch.destroy();
    });
  }

  it('control messages ride in one datagram; destroy sends close, drops the queue, tells the link once, emits close once', async () => {
    const { sent, link, closedCalls } = fakeLink();
    const now = 1_000_000;
    const ch = new UdpChannel('fake:1', SESSION, link, { fragmentSize: 512, pacingMbps: 1, clock: () => now });
    const closes: unknown[] = [];
    ch.on('close', (e) => closes.push(e));
    ch.send({ type: 'ping', body: { id: 1, t0: 2 } });
    ch.send({ type: 'frame', frame: sampleFrame(1, 100 * 512) });
    await until(() => sent.length > 1, 'the ping and a first burst');
    assert.ok(ch.queuedBytes > 0, 'most of the frame waits in the pacer');
    ch.destroy();
    ch.destroy();
    ch.end();
    assert.equal(ch.closed, true);
    assert.equal(ch.queuedBytes, 0, 'the queue is dropped');
    assert.equal(closedCalls(), 1);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(closes, [undefined]);
    const kinds = sent.map((d) => readDatagram(d)?.kind);
    assert.ok(kinds.includes(Kind.control), 'the ping went out');
    assert.ok(kinds.includes(Kind.close), 'a close datagram went out');
  });
});
