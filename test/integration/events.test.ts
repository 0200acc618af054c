import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isFramewireError, publish, subscribe, testPattern, type FramewireError, type Relay } from '../../src/index.js';
import { countFrames, startRelay, until } from '../helpers/relay.js';

const relays: Relay[] = [];
after(async () => {
  await Promise.all(relays.map((r) => r.close()));
});
async function relay(options: Parameters<typeof startRelay>[0] = {}): ReturnType<typeof startRelay> {
  const r = await startRelay(options);
  relays.push(r.relay);
  return r;
}

describe('typed events on the relay, a publication and a subscription', () => {
  it('the relay says when a stream goes live and stops; a throwing relay listener disturbs nothing', async () => {
    const { relay: r, url } = await relay();
    const live: string[] = [];
    const listenerErrors: string[] = [];
    r.on('live', (e) => live.push(`${e.stream} ${e.live}`));
    r.on('session', () => {
      throw new Error('a bug in a relay listener');
    });
    r.on('listenererror', (event) => listenerErrors.push(event));
    const sub = subscribe(url('cam'));
    await sub.ready;
    const frames = countFrames(sub);
    const pub = await publish(url('cam'), testPattern({ width: 64, height: 48, fps: 30 }));
    await until(() => frames.count() >= 3, 'frames through the relay');
    pub.close();
    await until(() => live.length === 2, 'live false');
    assert.deepEqual(live, ['cam true', 'cam false']);
    assert.deepEqual(listenerErrors, ['session', 'session']);
    assert.equal(r.health().clients, 1, 'the viewer is still there');
    sub.close();
  });

  it('a subscription says connected, live, not live and close; a throwing listener does not stop its frames', async () => {
    const { url } = await relay();
    const events: string[] = [];
    const sub = subscribe(url('s'));
    sub.on('connected', (w) => events.push(`connected live=${w.live}`));
    sub.on('live', (l) => {
      events.push(`live ${l}`);
      throw new Error('a bug in a live listener');
    });
    sub.on('listenererror', () => events.push('listenererror'));
    sub.on('close', () => events.push('close'));
    await sub.ready;
    const frames = countFrames(sub);
    const pub = await publish(url('s'), testPattern({ width: 64, height: 48, fps: 30, frames: 10 }));
    await pub.done;
    await until(() => events.includes('live false'), 'not live');
    // Every frame arrived, or the relay skipped it for this viewer and said so (or the local queue dropped it).
    const { framesSkipped, framesDropped } = sub.stats();
    assert.equal(frames.count() + framesSkipped + framesDropped, 10);
    assert.ok(frames.count() > 0);
    sub.close();
    sub.close();
    assert.deepEqual(events, ['connected live=false', 'live true', 'listenererror', 'live false', 'listenererror', 'close']);
  });

  it('a refused subscription emits error (with the code) and close; ready rejects with the same error', async () => {
    const { url } = await relay({ token: 'right' });
    const errors: FramewireError[] = [];
    let closed = 0;
    const sub = subscribe(url('s'), { token: 'wrong' });
    sub.on('error', (e) => errors.push(e));
    sub.on('close', () => closed++);
    await assert.rejects(sub.ready, (e) => isFramewireError(e, 'FW_UNAUTHORIZED'));
    assert.deepEqual(
      errors.map((e) => e.code),
      ['FW_UNAUTHORIZED'],
    );
    assert.equal(closed, 1);
  });

  it('a publication of a source says close when the source ends; the old callbacks still work', async () => {
    const { url } = await relay();
    const events: string[] = [];
    const pub = await publish(url('p'), testPattern({ width: 64, height: 48, fps: 60, frames: 5 }), {
      onWelcome: (w) => events.push(`welcome ${w.stream}`),
      onDisconnect: (_reason, retry) => events.push(`disconnect retry=${retry}`),
    });
    pub.on('close', () => events.push('close'));
    pub.on('error', () => events.push('error'));
    await pub.done;
    assert.equal(pub.closed, true);
    assert.deepEqual(events, ['welcome p', 'close']);
    assert.equal(pub.stats().framesReceived, 5);
  });
});
