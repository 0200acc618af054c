import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isFramewireError, publish, subscribe, testPattern, type EncodedFrame, type Relay } from '../../src/index.js';
import { RawClient, fakeFrame, fakeFrameSeq, startRelay, until } from '../helpers/relay.js';

const relays: Relay[] = [];
after(async () => {
  for (const r of relays) await r.close();
});

async function relay(options = {}): Promise<Awaited<ReturnType<typeof startRelay>>> {
  const r = await startRelay(options);
  relays.push(r.relay);
  return r;
}

async function rawPublisher(port: number, stream: string, token?: string): Promise<RawClient> {
  const c = await RawClient.connect(port);
  c.send({ type: 'hello', body: { role: 'publish', stream, ...(token ? { token } : {}) } });
  await c.waitFor('welcome');
  return c;
}

async function rawViewer(port: number, stream: string, params?: { fps?: number }): Promise<RawClient> {
  const c = await RawClient.connect(port);
  c.send({ type: 'hello', body: { role: 'view', stream, ...(params ? { params } : {}) } });
  await c.waitFor('welcome');
  return c;
}

describe('relay over TCP', () => {
  it('delivers identical frames, in order, to three viewers', async () => {
    const { url } = await relay();
    const subs = [0, 1, 2].map(() => subscribe(url('cam'), { queueSize: 1000 }));
    await Promise.all(subs.map((s) => s.ready));
    const pub = await publish(url('cam'), testPattern({ width: 320, height: 240, fps: 60, frames: 40 }));
    const got: EncodedFrame[][] = [[], [], []];
    await Promise.all(
      subs.map(async (s, i) => {
        for await (const f of s) {
          got[i]?.push(f);
          if (f.seq === 39) break;
        }
      }),
    );
    await pub.done;
    for (const frames of got) {
      assert.deepEqual(
        frames.map((f) => f.seq),
        Array.from({ length: 40 }, (_, k) => k),
      );
      frames.forEach((f, k) =>
        assert.ok(Buffer.from(f.data).equals((got[0] as EncodedFrame[])[k]?.data as Uint8Array), `frame ${k} differs`),
      );
      assert.equal(frames[0]?.width, 320);
      assert.equal(frames[0]?.height, 240);
    }
  });

  it('lets a viewer arrive before the publisher and keep its place through a publisher restart', async () => {
    const { url, relay: r } = await relay();
    const lives: boolean[] = [];
    const sub = subscribe(url('later'), { queueSize: 1000, onLive: (l) => lives.push(l) });
    const welcome = await sub.ready;
    assert.equal(welcome.live, false);
    const seen: number[] = [];
    const reader = (async () => {
      for await (const f of sub) seen.push(f.seq);
    })();
    const first = await publish(url('later'), testPattern({ width: 160, height: 120, fps: 60, frames: 10 }));
    await first.done;
    await until(() => seen.length >= 10, 'first publisher frames');
    await until(() => r.streams()[0]?.live === false, 'publisher gone');
    const second = await publish(url('later'), testPattern({ width: 160, height: 120, fps: 60, frames: 10 }));
    await second.done;
    await until(() => seen.length >= 20, 'second publisher frames');
    sub.close();
    await reader;
    assert.deepEqual(seen, [...Array(10).keys(), ...Array(10).keys()]);
    assert.deepEqual(lives.slice(0, 3), [true, false, true]);
    assert.equal(sub.stats().framesLost, 0);
  });

  it('says bye with a reason on both sides', async () => {
    const { url, relay: r } = await startRelay();
    const reasons: string[] = [];
    const sub = subscribe(url('bye'), { reconnect: false, onDisconnect: (reason) => reasons.push(reason) });
    await sub.ready;
    const pubReasons: string[] = [];
    const pub = await publish(url('bye'), testPattern({ width: 64, height: 48, fps: 10 }), {
      onDisconnect: (reason) => pubReasons.push(reason),
    });
    const gone: string[] = [];
    r.on('disconnect', (e) => gone.push(e.reason));
    pub.close();
    await until(() => gone.length === 1, 'publisher disconnect at the relay');
    assert.match(gone[0] as string, /peer said bye: publisher closing/);
    await r.close('maintenance');
    await until(() => reasons.length === 1, 'viewer told');
    assert.match(reasons[0] as string, /relay said bye: maintenance/);
    await assert.rejects(async () => {
      for await (const f of sub) void f;
    }, /maintenance/);
  });

  it('refuses a second publisher on a live stream with FW_STREAM_BUSY', async () => {
    const { url, port } = await relay();
    const p1 = await rawPublisher(port, 'busy');
    await assert.rejects(publish(url('busy'), testPattern({ width: 64, height: 48, fps: 5 })), (e) =>
      isFramewireError(e, 'FW_STREAM_BUSY'),
    );
    p1.close();
  });

  it('requires the token for publish and view when set', async () => {
    const { url } = await relay({ token: 's3cret' });
    await assert.rejects(subscribe(url('t'), { reconnect: false }).ready, (e) => isFramewireError(e, 'FW_UNAUTHORIZED'));
    await assert.rejects(subscribe(url('t'), { token: 'wrong' }).ready, (e) => isFramewireError(e, 'FW_UNAUTHORIZED'));
    await assert.rejects(publish(url('t'), testPattern({ width: 64, height: 48 })), (e) => isFramewireError(e, 'FW_UNAUTHORIZED'));
    const sub = subscribe(`${url('t')}?token=s3cret`);
    await sub.ready;
    const pub = await publish(url('t'), testPattern({ width: 64, height: 48, fps: 30, frames: 3 }), { token: 's3cret' });
    const it0 = sub[Symbol.asyncIterator]();
    const first = await it0.next();
    assert.equal(first.done, false);
    await pub.done;
    sub.close();
  });

  it('honours a viewer fps cap by skipping frames, and counts them as skipped, not lost', async () => {
    const { port, relay: r } = await relay();
    const capped = await rawViewer(port, 'fps', { fps: 10 });
    const full = await rawViewer(port, 'fps');
    const pub = await rawPublisher(port, 'fps');
    // 60 frames, 1/60 s apart in capture time: a 10 fps cap keeps about every 6th.
    const t0 = Date.now() * 1000;
    for (let i = 0; i < 60; i++) pub.sendFrame({ ...fakeFrame(i), captureUs: t0 + Math.round((i * 1e6) / 60) });
    await until(() => full.frames().length === 60, 'all frames at the uncapped viewer');
    await until(
      () =>
        (r.viewers('fps')?.find((v) => v.decimated > 0)?.sent ?? 0) + (r.viewers('fps')?.find((v) => v.decimated > 0)?.decimated ?? 0) ===
        60,
      'capped viewer accounted',
    );
    const got = capped.frames().map((f) => f.seq);
    assert.ok(got.length >= 9 && got.length <= 11, `10 fps of 60 frames at 60 fps gives about 10, got ${got.length}`);
    const stats = capped.messages.filter((m) => m.type === 'stats').map((m) => (m.type === 'stats' ? m.body : {}));
    const lastSkips = stats.at(-1)?.framesDecimated;
    // Every gap the capped viewer saw before its last frame is covered by the relay's skip count.
    assert.equal(Number(lastSkips), (got.at(-1) ?? 0) + 1 - got.length);
    for (const c of [capped, full, pub]) c.close();
  });

  it('keeps only a window of frames in flight to a viewer that acks, so its latency cannot build up in buffers', async () => {
    const { port, relay: r } = await relay();
    const v = await RawClient.connect(port);
    v.send({ type: 'hello', body: { role: 'view', stream: 'acks', acks: true } });
    await v.waitFor('welcome');
    const pub = await rawPublisher(port, 'acks');
    const t0 = Date.now() * 1000;
    const frameAt = (i: number) => ({ ...fakeFrame(i, 50_000), captureUs: t0 + i * 33_333 });
    // The viewer reads everything but acks nothing: the relay must stop after its window.
    for (let i = 0; i < 30; i++) pub.sendFrame(frameAt(i));
    await until(() => (r.viewers('acks')?.[0]?.skipped ?? 0) + (r.viewers('acks')?.[0]?.sent ?? 0) >= 29, 'all 30 frames offered');
    const info = r.viewers('acks')?.[0];
    assert.ok(info);
    assert.ok(info.sent >= 2 && info.sent <= 4, `sent ${info.sent} frames without acks (window is 2 + a round trip)`);
    assert.equal(info.unacked, info.sent);
    assert.ok(info.pending, 'the newest frame waits');
    await until(() => v.frames().length === info.sent, 'the window arrived');
    // Acking releases the newest frame (29), never the old ones in between.
    v.send({ type: 'ack', body: { seq: (v.frames().at(-1) as EncodedFrame).seq } });
    await until(() => v.frames().length === info.sent + 1, 'the pending frame after the ack');
    assert.equal(v.frames().at(-1)?.seq, 29);
    for (const c of [v, pub]) c.close();
  });

  it('isolates a stalled viewer: others get every frame in order, the stalled one costs at most a frame or two', async () => {
    const { port, relay: r } = await relay();
    const good = [await rawViewer(port, 'stall'), await rawViewer(port, 'stall')];
    const stalled = await rawViewer(port, 'stall');
    stalled.autoPong = false;
    stalled.socket.pause();
    const pub = await rawPublisher(port, 'stall');
    // 200 frames of 256 KiB = 50 MiB: far beyond any socket buffer, so the stalled viewer must back up.
    // Lockstep: the next frame goes out once the good viewers have the last one, so they are never
    // slower than the publisher and the test depends on counts and order, not on timing.
    const total = 200;
    for (let i = 0; i < total; i++) {
      pub.sendFrame(fakeFrame(i, 256 * 1024));
      await until(() => good.every((g) => g.frames().length === i + 1), `frame ${i} at the good viewers`, 10_000);
    }
    for (const g of good) {
      const seqs = g.frames().map((f) => f.seq);
      assert.deepEqual(
        seqs,
        Array.from({ length: total }, (_, k) => k),
      );
      g.frames().forEach((f) => assert.equal(fakeFrameSeq(f.data), f.seq));
    }
    const views = r.viewers('stall') ?? [];
    const stalledView = views.find((v) => v.skipped > 0);
    assert.ok(stalledView, `the stalled viewer has skipped frames: ${JSON.stringify(views)}`);
    assert.equal(views.filter((v) => v.skipped > 0).length, 1, 'only the stalled viewer skipped frames');
    assert.equal(stalledView.sent + stalledView.skipped + 1 >= total, true, 'every frame is sent, skipped or pending');
    // Bounded memory: what the relay holds in user space for it is at most about one frame plus the pending slot.
    assert.ok(stalledView.queuedBytes <= 256 * 1024 + 64 * 1024, `queued ${stalledView.queuedBytes} bytes`);
    for (const c of [...good, stalled, pub]) c.close();
  });
});
