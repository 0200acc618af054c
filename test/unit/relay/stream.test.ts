import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RelayStream, ViewerSlot, toRelayFrame } from '../../../src/relay/stream.js';
import { frameHeader } from '../../../src/transport/wire.js';
import { FakeChannel } from '../../helpers/fake-channel.js';
import { fakeFrame } from '../../helpers/relay.js';

describe('RelayStream fan-out', () => {
  it('hands every viewer the very same frame object, whose header is encoded once (no copies)', () => {
    const s = new RelayStream('x');
    const chans = [new FakeChannel(), new FakeChannel(), new FakeChannel()];
    chans.forEach((c, i) => s.viewers.set(String(i), new ViewerSlot(c, String(i))));
    const rf = toRelayFrame(fakeFrame(7));
    s.fanOut(rf, 0);
    for (const c of chans) {
      assert.equal(c.sent.length, 1);
      const m = c.sent[0];
      assert.ok(m?.type === 'frame');
      assert.equal(m.frame, rf.frame);
      assert.equal(frameHeader(m.frame), rf.header, 'the header every transport writes is the one encoded with the relay frame');
    }
    assert.equal(rf.frame.seq, 7);
  });

  it('latest-frame-wins: a backed-up viewer keeps one pending frame and skips the older ones', () => {
    const s = new RelayStream('x');
    const slow = new FakeChannel();
    const fast = new FakeChannel();
    s.viewers.set('slow', new ViewerSlot(slow, 'slow'));
    s.viewers.set('fast', new ViewerSlot(fast, 'fast'));
    s.fanOut(toRelayFrame(fakeFrame(0)), 0);
    slow.full = true;
    for (let i = 1; i <= 10; i++) s.fanOut(toRelayFrame(fakeFrame(i)), 0);
    assert.deepEqual(fast.frameSeqs(), [...Array(11).keys()]);
    assert.deepEqual(slow.frameSeqs(), [0]);
    const slot = s.viewers.get('slow') as ViewerSlot;
    assert.equal(slot.pending?.frame.seq, 10);
    assert.equal(slot.skipped, 9);
    slow.drain();
    // The newest frame goes out on drain, preceded by a stats message with the skip count.
    assert.deepEqual(slow.frameSeqs(), [0, 10]);
    const stats = slow.sent.filter((m) => m.type === 'stats');
    assert.equal(stats.length, 1);
    assert.equal(stats[0]?.type === 'stats' && stats[0].body.framesSkipped, 9);
    s.fanOut(toRelayFrame(fakeFrame(11)), 0);
    assert.deepEqual(slow.frameSeqs(), [0, 10, 11]);
  });

  it('an fps cap keeps frames by capture time and counts the rest as decimated', () => {
    const s = new RelayStream('x');
    const c = new FakeChannel();
    const slot = new ViewerSlot(c, 'v', { fpsCap: 10 });
    s.viewers.set('v', slot);
    for (let i = 0; i < 300; i++) s.fanOut(toRelayFrame({ ...fakeFrame(i), captureUs: Math.round((i * 1e6) / 30) }), 0);
    // 300 frames at 30 fps = 10 s; a 10 fps cap keeps 100.
    assert.equal(c.frameSeqs().length, 100);
    assert.equal(slot.decimated, 200);
    const seqs = c.frameSeqs();
    assert.ok(seqs.every((q, i) => i === 0 || q - (seqs[i - 1] as number) === 3));
  });

  it('an acking viewer gets at most its window in flight; acks release the newest frame', () => {
    const s = new RelayStream('x');
    const c = new FakeChannel();
    let rtt = 0;
    const slot = new ViewerSlot(c, 'v', { acks: true, rttUs: () => rtt });
    s.viewers.set('v', slot);
    const frame = (i: number) => toRelayFrame({ ...fakeFrame(i), captureUs: i * 33_333 });
    for (let i = 0; i < 10; i++) s.fanOut(frame(i), 0);
    // Round trip ~0: window is 2 frames; the rest wait as one pending (newest) frame.
    assert.equal(slot.window, 2);
    assert.deepEqual(c.frameSeqs(), [0, 1]);
    assert.equal(slot.pending?.frame.seq, 9);
    assert.equal(slot.skipped, 7);
    slot.onAck(0);
    assert.deepEqual(c.frameSeqs(), [0, 1, 9]);
    // An unknown seq changes nothing; acking the newest releases all older ones.
    slot.onAck(1234);
    assert.equal(slot.unacked, 2);
    slot.onAck(9);
    assert.equal(slot.unacked, 0);
    // A longer round trip widens the window: 99 ms at 30 fps = 3 frames + 2.
    rtt = 99_000;
    assert.equal(slot.window, 5);
    for (let i = 10; i < 20; i++) s.fanOut(frame(i), 0);
    assert.deepEqual(c.frameSeqs().slice(3), [10, 11, 12, 13, 14]);
  });

  it('a repairing transport (UDP) gets room for the frames it holds back while repairing an older one', () => {
    const s = new RelayStream('x');
    const c = new FakeChannel();
    const slot = new ViewerSlot(c, 'v', { acks: true, rttUs: () => 0, repairFrames: 3 });
    s.viewers.set('v', slot);
    assert.equal(slot.window, 5);
    // Frame 0 is being repaired: 1..4 arrive complete but are held back in order, so none is acked yet.
    for (let i = 0; i < 5; i++) s.fanOut(toRelayFrame({ ...fakeFrame(i), captureUs: i * 16_667 }), 0);
    assert.deepEqual(c.frameSeqs(), [0, 1, 2, 3, 4]);
    assert.equal(slot.skipped, 0);
    slot.onAck(4);
    assert.equal(slot.unacked, 0);
  });
});

describe('ack window on a lossy transport (UDP)', () => {
  const frameAt = (seq: number, tUs: number) => toRelayFrame({ ...fakeFrame(seq), captureUs: tUs });

  it('frames no ack came for in time leave the window, so losing every frame in flight cannot block the viewer for good', () => {
    let now = 1_000_000_000;
    const chan = new FakeChannel();
    const slot = new ViewerSlot(chan, 'v', { acks: true, lossy: true, clock: () => now });
    const tcpChan = new FakeChannel();
    const tcpSlot = new ViewerSlot(tcpChan, 't', { acks: true, clock: () => now });
    let seq = 0;
    const step = (): void => {
      now += 33_333;
      const rf = frameAt(seq++, now);
      slot.offer(rf);
      tcpSlot.offer(rf);
    };
    // Nothing is ever acked: a window of frames goes out, then the slot holds one pending frame.
    for (let i = 0; i < 6; i++) step();
    const window = slot.window;
    assert.equal(chan.frameSeqs().length, window);
    assert.equal(slot.unacked, window);
    assert.equal(slot.expired, 0);
    // 250 ms (more than 6 intervals here) after the first went out, it is taken as lost and the next frame goes.
    for (let i = 0; i < 8; i++) step();
    assert.ok(slot.expired > 0, 'unacked frames expired');
    assert.ok(chan.frameSeqs().length > window, 'the viewer gets frames again');
    const seqs = chan.frameSeqs();
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      'in order',
    );
    assert.ok(slot.unacked <= window, 'the window stays bounded');
    // TCP loses nothing: a viewer that does not ack is slow, and stays blocked.
    assert.equal(tcpChan.frameSeqs().length, tcpSlot.window);
    assert.equal(tcpSlot.expired, 0);
    // An ack clears what it covers, and the pending (newest) frame goes out.
    slot.onAck(seqs[seqs.length - 1] as number);
    assert.equal(slot.unacked, 1);
    assert.equal(chan.frameSeqs().at(-1), seq - 1);
  });
});

describe('ViewerSlot: a parked frame when the ack window grows', () => {
  it('counts the parked (older) frame as skipped and never sends it after a newer one', () => {
    const chan = new FakeChannel();
    let rttUs = 0;
    const slot = new ViewerSlot(chan, 'v', { acks: true, rttUs: () => rttUs });
    for (let i = 0; i <= 2; i++) slot.offer(toRelayFrame(fakeFrame(i))); // window 2: frame 2 is parked
    assert.deepEqual(chan.frameSeqs(), [0, 1]);
    assert.equal(slot.pending?.frame.seq, 2);
    rttUs = 70_000; // a longer round trip: the window grows to 5 and the slot is unblocked, with no flush
    slot.offer(toRelayFrame(fakeFrame(3)));
    assert.deepEqual(chan.frameSeqs(), [0, 1, 3]);
    assert.equal(slot.pending, undefined);
    assert.equal(slot.skipped, 1);
    const stats = chan.sent.filter((m) => m.type === 'stats');
    assert.equal(stats.at(-1)?.type === 'stats' && stats.at(-1)?.body.framesSkipped, 1, 'the skip is reported before frame 3');
    slot.onAck(3);
    assert.deepEqual(chan.frameSeqs(), [0, 1, 3], 'frame 2 does not follow frame 3');
  });
});
