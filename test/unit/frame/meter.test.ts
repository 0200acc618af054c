import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatsMeter, percentile } from '../../../src/frame/meter.js';
import { DropOldestQueue } from '../../../src/frame/queue.js';
import { ClockSync } from '../../../src/protocol/clock-sync.js';
import { fakeFrame } from '../../helpers/relay.js';

describe('StatsMeter', () => {
  it('computes fps, kbps and latency percentiles over the window', () => {
    const m = new StatsMeter();
    // 30 frames of 1000 bytes within one second, latencies 1..30 ms.
    for (let i = 0; i < 30; i++) m.record(fakeFrame(i, 1000), 1_000_000 + i * 33_000, (i + 1) * 1000);
    const s = m.snapshot(1_990_000);
    assert.equal(s.fps, 30);
    assert.equal(s.kbps, 240);
    assert.equal(s.latencyP50Ms, 15);
    assert.equal(s.latencyP95Ms, 29);
    assert.equal(s.framesReceived, 30);
    assert.equal(s.framesLost, 0);
    // Old frames leave the window.
    assert.equal(m.snapshot(5_000_000).fps, 0);
    assert.equal(m.snapshot(5_000_000).latencyP50Ms, null);
  });

  it('counts sequence gaps as lost, minus what the relay says it skipped', () => {
    const m = new StatsMeter();
    for (const seq of [0, 1, 2, 5, 6, 10]) m.record(fakeFrame(seq), seq, 0);
    assert.equal(m.snapshot(10).framesLost, 5);
    m.setSkipped(3);
    assert.equal(m.snapshot(10).framesLost, 2);
    assert.equal(m.snapshot(10).framesSkipped, 3);
    // A restart of the sequence is not loss.
    m.resetSequence();
    m.record(fakeFrame(0), 11, 0);
    assert.equal(m.snapshot(11).framesLost, 2);
  });

  it('holds a fixed amount of memory however many frames pass', () => {
    const m = new StatsMeter();
    for (let i = 0; i < 100_000; i++) m.record(fakeFrame(i, 10), i * 10, 5);
    const s = m.snapshot(100_000 * 10);
    assert.equal(s.framesReceived, 100_000);
    assert.ok(s.fps > 0);
  });

  it('percentile is nearest-rank', () => {
    assert.equal(percentile([1, 2, 3, 4], 0.5), 2);
    assert.equal(percentile([1, 2, 3, 4], 0.95), 4);
    assert.ok(Number.isNaN(percentile([], 0.5)));
  });
});

describe('DropOldestQueue', () => {
  it('drops the oldest item when full and counts it', async () => {
    const dropped: number[] = [];
    const q = new DropOldestQueue<number>(2, (x) => dropped.push(x));
    for (let i = 0; i < 5; i++) q.push(i);
    assert.equal(q.size, 2);
    assert.deepEqual(dropped, [0, 1, 2]);
    q.close();
    const got: number[] = [];
    for await (const x of q) got.push(x);
    assert.deepEqual(got, [3, 4]);
  });

  it('wakes a waiting consumer and ends with an error on fail()', async () => {
    const q = new DropOldestQueue<number>(1);
    const p = q.next();
    q.push(42);
    assert.deepEqual(await p, { value: 42, done: false });
    const p2 = q.next();
    q.fail(new Error('boom'));
    await assert.rejects(p2, /boom/);
  });
});

describe('ClockSync', () => {
  it('derives RTT and offset, preferring the least-delayed sample', () => {
    const c = new ClockSync();
    // Remote clock is 1000 µs ahead; 200 µs each way, 50 µs processing.
    let s = c.onPong({ id: 1, t0: 0, t1: 1200, t2: 1250 }, 450);
    assert.equal(s.rttUs, 400);
    assert.equal(s.offsetUs, 1000);
    // A sample with queueing on the way back (asymmetric) is worse and not used.
    s = c.onPong({ id: 2, t0: 10_000, t1: 11_200, t2: 11_250 }, 15_450);
    assert.equal(s.rttUs, 5400);
    assert.equal(c.offsetUs, 1000);
  });
});
