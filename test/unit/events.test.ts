import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { TypedEmitter } from '../../src/events.js';

interface Events {
  tick: [n: number];
  error: [err: Error];
}

/** An emitter whose own state must survive its listeners: it counts what it emitted. */
class Ticker extends TypedEmitter<Events> {
  ticks = 0;
  tick(): boolean {
    const had = this.safeEmit('tick', this.ticks);
    this.ticks++;
    return had;
  }
  fail(err: Error): boolean {
    return this.safeEmit('error', err);
  }
}

describe('TypedEmitter.safeEmit', () => {
  it('reports a throwing listener as listenererror; the other listeners still run and the emitter carries on', () => {
    const t = new Ticker();
    const heard: number[] = [];
    const reported: [string, unknown][] = [];
    const boom = new Error('listener bug');
    t.on('tick', () => {
      throw boom;
    });
    t.on('tick', (n) => heard.push(n));
    t.on('listenererror', (event, error) => reported.push([event, error]));
    assert.equal(t.tick(), true);
    assert.equal(t.tick(), true);
    assert.deepEqual(heard, [0, 1]);
    assert.deepEqual(reported, [
      ['tick', boom],
      ['tick', boom],
    ]);
    assert.equal(t.ticks, 2);
  });

  it('runs once listeners once, even when they throw', () => {
    const t = new Ticker();
    let calls = 0;
    t.on('listenererror', () => undefined);
    t.once('tick', () => {
      calls++;
      throw new Error('x');
    });
    t.tick();
    t.tick();
    assert.equal(calls, 1);
    assert.equal(t.listenerCount('tick'), 0);
  });

  it('an error event without listeners is not thrown (EventEmitter would throw)', () => {
    const t = new Ticker();
    assert.equal(t.fail(new Error('nobody listens')), false);
    assert.equal(t.tick(), false);
  });

  it('without a listenererror listener the error becomes a process warning', async () => {
    const t = new Ticker();
    t.on('tick', () => {
      throw new Error('unheard bug');
    });
    const warned = once(process, 'warning');
    t.tick();
    const [w] = (await warned) as [Error];
    assert.equal(w.name, 'FramewireListenerWarning');
    assert.match(w.message, /"tick" listener threw: Error: unheard bug/);
  });

  it('a throwing listenererror listener is swallowed', () => {
    const t = new Ticker();
    t.on('tick', () => {
      throw new Error('first');
    });
    t.on('listenererror', () => {
      throw new Error('second');
    });
    assert.doesNotThrow(() => t.tick());
    assert.equal(t.ticks, 1);
  });

  it('off() removes a listener; events.once works on it', async () => {
    const t = new Ticker();
    const heard: number[] = [];
    const l = (n: number): void => void heard.push(n);
    t.on('tick', l);
    t.tick();
    t.off('tick', l);
    t.tick();
    assert.deepEqual(heard, [0]);
    const next = once(t, 'tick');
    t.tick();
    assert.deepEqual(await next, [2]);
  });
});
