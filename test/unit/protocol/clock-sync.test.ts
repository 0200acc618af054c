import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClockSync } from '../../../src/protocol/clock-sync.js';
import type { PongBody } from '../../../src/protocol/messages.js';

/**
 * One synthetic ping/pong exchange. The remote clock runs `offset` µs ahead
 * of the local one; the ping takes `up` µs, the answerer holds it `hold` µs,
 * the pong takes `down` µs. Returns the pong and the local arrival time t3.
 */
function exchange(t0: number, offset: number, up: number, hold: number, down: number, id = 1): { pong: PongBody; t3: number } {
  const t1 = t0 + up + offset;
  const t2 = t1 + hold;
  const t3 = t0 + up + hold + down;
  return { pong: { id, t0, t1, t2 }, t3 };
}

describe('ClockSync', () => {
  it('starts unsynced with zero offset and RTT', () => {
    const cs = new ClockSync();
    assert.equal(cs.synced, false);
    assert.equal(cs.offsetUs, 0);
    assert.equal(cs.rttUs, 0);
  });

  it('hands out increasing ping ids', () => {
    const cs = new ClockSync();
    assert.deepEqual([cs.nextPingId(), cs.nextPingId(), cs.nextPingId()], [1, 2, 3]);
  });

  it('computes RTT without the answerer hold time, and the exact offset when the path is symmetric', () => {
    const cs = new ClockSync();
    const { pong, t3 } = exchange(1_000_000, 5_000_000, 400, 250, 400);
    const s = cs.onPong(pong, t3);
    assert.deepEqual(s, { rttUs: 800, offsetUs: 5_000_000 });
    assert.equal(cs.synced, true);
    assert.equal(cs.offsetUs, 5_000_000);
    assert.equal(cs.rttUs, 800);
  });

  it('errs by half the path asymmetry, and handles a remote clock that is behind', () => {
    const cs = new ClockSync();
    // rtt = (t3 - t0) - (t2 - t1) = 1050 - 50 = 1000; offset = ((t1 - t0) + (t2 - t3)) / 2 = (-2700 + -3700) / 2.
    const { pong, t3 } = exchange(1000, -3000, 300, 50, 700);
    assert.deepEqual([pong.t1, pong.t2, t3], [-1700, -1650, 2050]);
    assert.deepEqual(cs.onPong(pong, t3), { rttUs: 1000, offsetUs: -3200 });
  });

  it('uses the offset of the sample with the smallest RTT, but reports the latest RTT', () => {
    const cs = new ClockSync();
    const samples = [
      exchange(0, 10_000, 5000, 10, 1000), // rtt 6000, offset 12000
      exchange(100_000, 10_000, 200, 10, 200), // rtt 400, offset 10000 (the best)
      exchange(200_000, 10_000, 300, 10, 3000), // rtt 3300, offset 8650
    ];
    for (const { pong, t3 } of samples) cs.onPong(pong, t3);
    assert.equal(cs.offsetUs, 10_000);
    assert.equal(cs.rttUs, 3300);
  });

  it('forgets samples older than its window', () => {
    const cs = new ClockSync(3);
    const best = exchange(0, 1000, 50, 0, 50); // rtt 100, offset 1000
    cs.onPong(best.pong, best.t3);
    for (let i = 1; i <= 2; i++) {
      const { pong, t3 } = exchange(i * 1e6, 2000, 500, 0, 700); // rtt 1200, offset 1900
      cs.onPong(pong, t3);
    }
    assert.equal(cs.offsetUs, 1000, 'best sample still in the window of 3');
    const { pong, t3 } = exchange(9e6, 2000, 500, 0, 700);
    cs.onPong(pong, t3);
    assert.equal(cs.offsetUs, 1900, 'best sample pushed out of the window');
  });

  it('keeps the offset true while the video direction of a link queues for half a minute (NTP clock filter)', () => {
    // A viewer pings the relay once a second. Its pings go up an idle path (5 ms); the pongs come down the
    // path its video fills, whose queue grows from 0 to 300 ms over 10 s and stays there for 30 s.
    const trueOffset = 1_234_000;
    const queueAt = (s: number): number => (s < 5 ? 0 : Math.min(300_000, ((s - 5) / 10) * 300_000));
    const run = (cs: ClockSync): number[] => {
      const errors: number[] = [];
      for (let s = 0; s < 45; s++) {
        const { pong, t3 } = exchange(s * 1e6, trueOffset, 5000, 20, 5000 + queueAt(s), s + 1);
        cs.onPong(pong, t3);
        errors.push(Math.abs(cs.offsetUs - trueOffset));
      }
      return errors;
    };
    const filtered = run(new ClockSync());
    assert.ok(
      Math.max(...filtered) < 1,
      `the default window keeps the offset of the idle seconds (worst error ${Math.max(...filtered)} µs)`,
    );
    // The old 8-sample window, as a control: by the end every sample in it has queued, and the offset is off by half the queue.
    const short = run(new ClockSync(8));
    assert.ok((short.at(-1) as number) > 140_000, `an 8-sample window errs by half the queue (${short.at(-1)} µs)`);
  });

  it('takes the new best sample at once, and finds the next best when the best leaves the ring', () => {
    const cs = new ClockSync(4);
    const rtts = [900, 300, 700, 800, 600, 500, 400];
    rtts.forEach((r, i) => {
      const { pong, t3 } = exchange(i * 1e6, 10 * r, r / 2, 0, r / 2, i + 1);
      cs.onPong(pong, t3);
    });
    // The ring now holds 800, 600, 500, 400 (300 left with the 6th sample).
    assert.equal(cs.minRttUs, 400);
    assert.equal(cs.offsetUs, 4000);
    assert.equal(cs.rttUs, 400);
  });

  it('never reports a negative RTT from a pong whose hold time exceeds the round trip', () => {
    const cs = new ClockSync();
    const s = cs.onPong({ id: 1, t0: 1000, t1: 5000, t2: 9000 }, 2000);
    assert.equal(s.rttUs, 0);
  });
});
