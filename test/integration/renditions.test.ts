import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { publish, subscribe, testPattern, type EncodedFrame, type Relay, type Subscription } from '../../src/index.js';
import { startRelay, until } from '../helpers/relay.js';

const relays: Relay[] = [];
after(async () => {
  for (const r of relays) await r.close();
});

/** Reads frames up to `lastSeq` without ending the subscription (a `break` would close it). */
async function collect(sub: Subscription, out: EncodedFrame[], lastSeq: number): Promise<void> {
  const it = sub[Symbol.asyncIterator]();
  for (;;) {
    const r = await it.next();
    if (r.done) return;
    out.push(r.value);
    if (r.value.seq >= lastSeq) return;
  }
}

describe('renditions', () => {
  it('serves each requested profile from one decode per frame and one encode per profile, shared by its viewers', async () => {
    const { relay, url } = await startRelay();
    relays.push(relay);
    const small = [
      subscribe(url('r'), { width: 640, height: 360, queueSize: 100 }),
      subscribe(url('r'), { width: 640, height: 360, queueSize: 100 }),
    ];
    const tiny = subscribe(url('r'), { width: 320, quality: 40, queueSize: 100 });
    const full = subscribe(url('r'), { queueSize: 100 });
    const welcomes = await Promise.all([...small, tiny, full].map((s) => s.ready));
    assert.deepEqual(welcomes[0]?.granted, { width: 640, height: 360, quality: 75 });
    assert.deepEqual(welcomes[2]?.granted, { width: 320, quality: 40 });
    assert.equal(relay.streams()[0]?.renditions.length, 2);

    const N = 20;
    const got: EncodedFrame[][] = [[], [], [], []];
    const readers = [...small, tiny, full].map((s, i) => collect(s, got[i] as EncodedFrame[], N - 1));
    const pub = await publish(url('r'), testPattern({ width: 1280, height: 720, fps: 10, frames: N }));
    await pub.done;
    await Promise.all(readers);

    const info = relay.streams()[0];
    assert.ok(info);
    const decodes = info.renditionDecodes;
    assert.ok(decodes >= 1 && decodes <= N, `decodes ${decodes}`);
    for (const r of info.renditions) assert.equal(r.encodes, decodes, `profile ${r.profile}: one encode per decoded frame`);
    assert.deepEqual(info.renditions.map((r) => r.viewers).sort(), [1, 2]);

    const [a, b, t, f] = got as [EncodedFrame[], EncodedFrame[], EncodedFrame[], EncodedFrame[]];
    assert.equal(f.length, N);
    assert.ok(f.every((x) => x.width === 1280 && x.height === 720));
    assert.ok(a.length >= 1 && a.every((x) => x.width === 640 && x.height === 360));
    assert.ok(t.every((x) => x.width === 320 && x.height === 180));
    // The two 640x360 viewers share each encode: same bytes for the same seq.
    const bySeq = new Map(b.map((x) => [x.seq, x.data]));
    for (const x of a) if (bySeq.has(x.seq)) assert.ok(Buffer.from(x.data).equals(bySeq.get(x.seq) as Uint8Array));
    const meta = await sharp((a[0] as EncodedFrame).data).metadata();
    assert.equal(meta.width, 640);
    assert.equal(meta.height, 360);
    // Gaps from transcoder skips are reported as skipped, never as lost.
    for (const s of [...small, tiny]) assert.equal(s.stats().framesLost, 0);

    // The last viewer of a profile leaving drops the rendition.
    tiny.close();
    await until(() => relay.streams()[0]?.renditions.length === 1, 'rendition dropped');
    for (const s of [...small, full]) s.close();
  });

  it('makes at most maxRenditions profiles per stream; one more viewer gets the source, and its welcome says so', async () => {
    const { relay, url } = await startRelay({ maxRenditions: 2 });
    relays.push(relay);
    const pub = await publish(url('lim'), testPattern({ width: 640, height: 480, fps: 10 }));
    const subs: Subscription[] = [];
    try {
      // The source size is granted once the relay has seen a frame.
      await until(() => (relay.streams()[0]?.framesIn ?? 0) > 0, 'a first frame at the relay');
      const asks = [{ width: 320 }, { width: 160 }, { width: 200 }, { width: 320 }];
      for (const a of asks) subs.push(subscribe(url('lim'), a));
      const welcomes = await Promise.all(subs.map((s) => s.ready));
      // Only a width asked of a live stream: the granted height is the one the rendition sends.
      assert.deepEqual(welcomes[0]?.granted, { width: 320, height: 240, quality: 75 });
      assert.deepEqual(welcomes[1]?.granted, { width: 160, height: 120, quality: 75 });
      assert.deepEqual(welcomes[2]?.granted, { width: 640, height: 480 }, 'a third profile is refused: the source size is granted');
      assert.deepEqual(welcomes[3]?.granted, { width: 320, height: 240, quality: 75 }, 'an existing profile is shared, whatever the limit');
      assert.equal(relay.streams()[0]?.renditions.length, 2);
      const first = async (s: Subscription): Promise<EncodedFrame> => {
        for await (const f of s) return f;
        throw new Error('ended');
      };
      const f2 = await first(subs[2] as Subscription);
      assert.deepEqual([f2.width, f2.height], [640, 480]);
      const f1 = await first(subs[1] as Subscription);
      assert.deepEqual([f1.width, f1.height], [welcomes[1]?.granted.width, welcomes[1]?.granted.height], 'frames have the granted size');
    } finally {
      for (const s of subs) s.close();
      pub.close();
    }
  });
});
