import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFramewireError } from '../../../src/errors.js';
import { WaitingList } from '../../../src/relay/waiting.js';

describe('WaitingList', () => {
  it('bounds viewers per address and in all, with FW_TOO_MANY_CLIENTS', () => {
    const w = new WaitingList<number>(5, 2);
    w.admit(1, 'a', 's1');
    w.admit(2, 'a', 's2');
    assert.throws(
      () => w.admit(3, 'a', 's3'),
      (e) => isFramewireError(e, 'FW_TOO_MANY_CLIENTS'),
    );
    w.admit(3, 'b', 's3');
    w.admit(4, 'b', 's3');
    w.admit(5, 'c', 's3');
    assert.throws(
      () => w.admit(6, 'd', 's4'),
      (e) => isFramewireError(e, 'FW_TOO_MANY_CLIENTS'),
    );
    assert.equal(w.size, 5);
  });

  it('a stream going live frees its viewers; leaving frees a place, once', () => {
    const w = new WaitingList<number>(10, 2);
    w.admit(1, 'a', 'cam');
    w.admit(2, 'a', 'door');
    w.streamLive('cam');
    assert.equal(w.size, 1);
    w.admit(3, 'a', 'cam');
    w.leave(2);
    w.leave(2);
    w.admit(4, 'a', 'x');
    assert.equal(w.size, 2);
    w.leave(3);
    w.leave(4);
    assert.equal(w.size, 0);
    w.admit(5, 'a', 'y');
    w.admit(6, 'a', 'z');
  });
});
