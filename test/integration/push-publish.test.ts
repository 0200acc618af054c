import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import {
  createRelay,
  isFramewireError,
  publish,
  subscribe,
  type EncodedFrame,
  type PushPublication,
  type Relay,
  type Subscription,
} from '../../src/index.js';
import { startRelay, until } from '../helpers/relay.js';

const relays: Relay[] = [];
after(async () => {
  await Promise.all(relays.map((r) => r.close()));
});

async function relayUrl(): Promise<(stream: string) => string> {
  const r = await startRelay();
  relays.push(r.relay);
  return r.url;
}

/** Subscribes to `url` and collects its frames in the background. */
async function watch(url: string): Promise<{ sub: Subscription; got: EncodedFrame[] }> {
  const sub = subscribe(url);
  await sub.ready;
  return { sub, got: collect(sub) };
}

function collect(sub: Subscription): EncodedFrame[] {
  const got: EncodedFrame[] = [];
  void (async () => {
    try {
      for await (const f of sub) got.push(f);
    } catch {
      /* ended */
    }
  })();
  return got;
}

function rgbImage(width: number, height: number, seed: number): Uint8Array {
  return new Uint8Array(width * height * 3).map((_, i) => (i + seed) & 0xff);
}

describe('publish(url) without a source: send() what your code makes', () => {
  it('sends raw rgb, bgr, rgba and gray pixels as JPEGs, and JPEG bytes as they are', async () => {
    const url = (await relayUrl())('raw');
    const { sub, got } = await watch(url);
    const pub = await publish(url);
    const jpeg = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#39f' } })
      .jpeg()
      .toBuffer();
    const inputs = [
      { data: rgbImage(64, 48, 1), width: 64, height: 48, format: 'rgb' as const },
      { data: rgbImage(64, 48, 2), width: 64, height: 48, format: 'bgr' as const },
      { data: new Uint8Array(32 * 16 * 4).fill(200), width: 32, height: 16, format: 'rgba' as const },
      { data: new Uint8Array(20 * 10).fill(90), width: 20, height: 10, format: 'gray' as const },
    ];
    // One at a time, each after the last arrived: the relay then has no reason to skip one.
    for (const [i, input] of [...inputs, jpeg].entries()) {
      assert.equal(await pub.send(input), true);
      await until(() => got.length === i + 1, `frame ${i + 1}`);
    }
    assert.deepEqual(
      got.map((f) => [f.width, f.height, f.codec]),
      [
        [64, 48, 'jpeg'],
        [64, 48, 'jpeg'],
        [32, 16, 'jpeg'],
        [20, 10, 'jpeg'],
        [40, 30, 'jpeg'],
      ],
    );
    for (const f of got.slice(0, 4)) {
      const meta = await sharp(f.data).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', f.width, f.height]);
    }
    assert.ok(Buffer.from((got[4] as EncodedFrame).data).equals(jpeg), 'the JPEG arrives byte for byte');
    assert.deepEqual(
      got.map((f) => f.seq),
      [0, 1, 2, 3, 4],
    );
    const s = pub.stats();
    assert.deepEqual([s.framesReceived, s.framesNotSent, s.framesReplaced], [5, 0, 0]);
    pub.close();
    await pub.done;
    sub.close();
  });

  it('latest frame wins when the caller outruns the link: replaced frames are counted, none is lost downstream', async () => {
    const url = (await relayUrl())('burst');
    const { sub, got } = await watch(url);
    const pub = await publish(url, { quality: 60 });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => pub.send({ data: rgbImage(320, 240, i), width: 320, height: 240, format: 'rgb' })),
    );
    const s = pub.stats();
    const sent = results.filter(Boolean).length;
    assert.equal(s.framesReceived, sent);
    assert.equal(s.framesReplaced, 50 - sent);
    assert.equal(s.framesNotSent, 0);
    assert.ok(s.framesReplaced > 0, 'a synchronous burst of 50 cannot all be encoded one by one');
    // The last picture given always goes out: it is never replaced.
    assert.equal(results.at(-1), true);
    // What the relay skipped for this viewer (latest-frame-wins on its side too) it says, with the next frame.
    await until(() => got.length + sub.stats().framesSkipped === sent && got.at(-1)?.seq === sent - 1, `${sent} frames`);
    assert.equal(sub.stats().framesLost, 0);
    pub.close();
    sub.close();
  });

  it('encodes at the negotiated quality, fitted inside the declared size', async () => {
    const url = (await relayUrl())('fit');
    const { sub, got } = await watch(url);
    const pub = await publish(url, { width: 160, height: 120, fps: 10, quality: 30 });
    assert.deepEqual(pub.welcome?.granted, { width: 160, height: 120, fps: 10, quality: 30 });
    await pub.send({ data: rgbImage(320, 240, 0), width: 320, height: 240, format: 'rgb' });
    await until(() => got.length === 1, 'a frame');
    assert.deepEqual([got[0]?.width, got[0]?.height], [160, 120]);
    pub.close();
    sub.close();
  });

  it('refuses bad input and bad options with coded errors, and send() after close()', async () => {
    const url = (await relayUrl())('bad');
    await assert.rejects(publish(url, { quality: 0 }), (e) => isFramewireError(e, 'FW_BAD_OPTION'));
    await assert.rejects(publish(url, { width: 12.5 }), (e) => isFramewireError(e, 'FW_BAD_OPTION'));
    const pub = await publish(url);
    assert.throws(
      () => pub.send(new Uint8Array([1, 2, 3, 4])),
      (e) => isFramewireError(e, 'FW_NOT_JPEG'),
    );
    assert.throws(
      () => pub.send({ data: new Uint8Array(10), width: 2, height: 2, format: 'rgb' }),
      (e) => isFramewireError(e, 'FW_BAD_FRAME'),
    );
    // Refused input does not disturb the publication.
    assert.equal(await pub.send({ data: new Uint8Array(12), width: 2, height: 2, format: 'rgb' }), true);
    let closes = 0;
    pub.on('close', () => closes++);
    pub.close();
    pub.close();
    assert.equal(closes, 1);
    assert.throws(
      () => pub.send({ data: new Uint8Array(12), width: 2, height: 2, format: 'rgb' }),
      (e) => isFramewireError(e, 'FW_CONNECTION_CLOSED'),
    );
    await pub.done;
  });

  it('a second publisher of the same stream is refused (FW_STREAM_BUSY)', async () => {
    const url = (await relayUrl())('busy');
    const first = await publish(url);
    await assert.rejects(publish(url), (e) => isFramewireError(e, 'FW_STREAM_BUSY'));
    first.close();
  });

  it('reconnects when the relay comes back; events say so; a throwing listener breaks nothing', async () => {
    const first = await startRelay();
    const url = first.url('back');
    const events: string[] = [];
    const listenerErrors: string[] = [];
    const pub: PushPublication = await publish(url);
    pub.on('connected', () => {
      events.push('connected');
      throw new Error('a bug in the listener');
    });
    pub.on('disconnected', (d) => events.push(`disconnected retry=${d.willRetry}`));
    pub.on('listenererror', (event) => listenerErrors.push(event));
    await first.relay.close('restart');
    await until(() => events.includes('disconnected retry=true'), 'disconnected');
    // While the relay is away, pictures are dropped and counted, never queued.
    assert.equal(await pub.send({ data: new Uint8Array(12), width: 2, height: 2, format: 'rgb' }), false);
    assert.equal(pub.stats().framesNotSent, 1);
    const second = createRelay();
    relays.push(second);
    await second.listenTcp(first.port, '127.0.0.1');
    await until(() => events.includes('connected'), 'reconnected', 15_000);
    assert.deepEqual(listenerErrors, ['connected']);
    const { sub, got } = await watch(url);
    assert.equal(await pub.send({ data: rgbImage(8, 8, 0), width: 8, height: 8, format: 'rgb' }), true);
    await until(() => got.length === 1, 'a frame after the reconnect');
    assert.equal(pub.stats().connected, true);
    pub.close();
    sub.close();
  });
});
