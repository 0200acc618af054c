import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { chat, isFramewireError, testPattern, type Relay } from '../../src/index.js';
import { countFrames, startRelay, until } from '../helpers/relay.js';

const relays: Relay[] = [];
after(async () => {
  await Promise.all(relays.map((r) => r.close()));
});

describe('chat(): two-way video through a relay', () => {
  it('each side sends its stream and receives the other; a third side cannot take a name', async () => {
    const { relay, port } = await startRelay();
    relays.push(relay);
    const base = `tcp://127.0.0.1:${port}`;
    // Alice sends pictures her code makes; Bob sends a source.
    const alice = await chat(base, { as: 'alice', with: 'bob', receive: { fps: 10 } });
    const aliceLive: boolean[] = [];
    alice.incoming.on('live', (l) => aliceLive.push(l));
    const bob = await chat(`${base}/`, { as: 'bob', with: 'alice' }, testPattern({ width: 64, height: 48, fps: 30 }));
    assert.equal(bob.incoming.stats().live, true, 'alice was there first');
    const fromBob = countFrames(alice.incoming);
    const fromAlice = countFrames(bob.incoming);
    for (let i = 0; i < 5; i++) {
      assert.equal(
        await alice.outgoing.send({ data: new Uint8Array(16 * 16 * 3).fill(i * 40), width: 16, height: 16, format: 'rgb' }),
        true,
      );
      await until(() => fromAlice.count() === i + 1, `alice's frame ${i + 1}`);
    }
    await until(() => fromBob.count() >= 5, "bob's frames");
    assert.deepEqual(aliceLive, [true]);
    await assert.rejects(chat(base, { as: 'alice', with: 'carol' }), (e) => isFramewireError(e, 'FW_STREAM_BUSY'));
    bob.close();
    bob.close();
    await until(() => aliceLive.length === 2, 'bob gone');
    assert.deepEqual(aliceLive, [true, false]);
    alice.close();
    await Promise.all([fromBob.done, fromAlice.done]);
    await assert.rejects(chat('not a url', { as: 'a', with: 'b' }), (e) => isFramewireError(e, 'FW_BAD_URL'));
  });
});
