import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBudget } from '../../../src/relay/budget.js';

describe('MemoryBudget', () => {
  it('lets peers hold up to the total, then names the biggest holder, whoever grew', () => {
    const b = new MemoryBudget<string>(100, 60);
    assert.equal(b.hold('a', 50), undefined);
    assert.equal(b.hold('b', 30), undefined);
    assert.equal(b.usedBytes, 80);
    // c pushes the total past 100: a holds the most, a goes.
    assert.equal(b.hold('c', 25), 'a');
    assert.equal(b.usedBytes, 55);
    assert.equal(b.info().overloads, 1);
    assert.equal(b.info().holders, 2);
  });

  it('a peer past its share is named at once, even with room in the total', () => {
    const b = new MemoryBudget<string>(1000, 60);
    assert.equal(b.hold('a', 61), 'a');
    assert.equal(b.usedBytes, 0);
  });

  it('holding less, or releasing, gives the bytes back; peak is kept', () => {
    const b = new MemoryBudget<string>(100, 100);
    b.hold('a', 70);
    b.hold('a', 10);
    assert.equal(b.usedBytes, 10);
    b.release('a');
    b.release('a');
    assert.equal(b.usedBytes, 0);
    assert.equal(b.info().peakBytes, 70);
    assert.equal(b.info().holders, 0);
  });

  it('reservations (decodes) fit or are refused, never evict, and release once', () => {
    const b = new MemoryBudget<string>(100, 100);
    b.hold('a', 60);
    assert.equal(b.reserve(50), false);
    assert.equal(b.info().decodesRefused, 1);
    const release = b.reserve(40);
    assert.ok(release);
    assert.equal(b.usedBytes, 100);
    // With decodes in flight a peer growing past the total evicts the biggest peer.
    assert.equal(b.hold('b', 1), 'a');
    release();
    release();
    assert.equal(b.usedBytes, 1);
  });

  it('random traffic never leaves the books wrong', () => {
    const b = new MemoryBudget<number>(10_000, 4000);
    const held = new Map<number, number>();
    let seed = 7;
    const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    for (let i = 0; i < 20_000; i++) {
      const peer = rnd(40);
      const bytes = rnd(5) === 0 ? 0 : rnd(4500);
      const victim = b.hold(peer, bytes);
      if (bytes > 0) held.set(peer, bytes);
      else held.delete(peer);
      if (victim !== undefined) held.delete(victim);
      const sum = [...held.values()].reduce((x, y) => x + y, 0);
      assert.equal(b.usedBytes, sum);
      assert.ok(sum <= 10_000);
      for (const v of held.values()) assert.ok(v <= 4000);
    }
  });
});
