import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createToken, isFramewireError, publish, subscribe, testPattern, type Publication } from '../../src/index.js';
import { encodeControl, encodeFrame } from '../../src/protocol/index.js';
import { RawClient, fakeFrame, until } from '../helpers/relay.js';
import { RawPeer } from '../helpers/proto-peer.js';
import { publishPattern, readMjpeg, request, startTestRelay, wsClient, type TestRelay } from '../helpers/web.js';

const SECRET = 'integration-secret-0123456789abcdef';
const SHARED = 'shared-token';

/** Asserts FW_UNAUTHORIZED with a message matching `reason`. */
function unauthorized(reason: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(isFramewireError(e, 'FW_UNAUTHORIZED'), `expected FW_UNAUTHORIZED, got ${String(e)}`);
    assert.match(e.message, reason);
    return true;
  };
}

/** An HTTP answer that is a 401 JSON error with `reason`. */
function assert401(res: { status: number; body: Buffer }, reason: RegExp): void {
  assert.equal(res.status, 401, res.body.toString());
  const { error } = JSON.parse(res.body.toString()) as { error: { code: string; message: string } };
  assert.equal(error.code, 'FW_UNAUTHORIZED');
  assert.match(error.message, reason);
}

const token = (stream: string, role: 'view' | 'publish', extra: { ttl?: string; now?: number; secret?: string } = {}): Promise<string> =>
  createToken({
    secret: extra.secret ?? SECRET,
    stream,
    role,
    ...(extra.ttl ? { ttl: extra.ttl } : {}),
    ...(extra.now ? { now: extra.now } : {}),
  });

describe('scoped tokens (serve --secret) on every transport', { timeout: 90_000 }, () => {
  let r: TestRelay;
  let udpPort: number;
  let cam: Publication;
  let other: Publication;
  const t: Record<string, string> = {};

  before(async () => {
    r = await startTestRelay({ secret: SECRET, token: SHARED });
    udpPort = (await r.relay.listenUdp(0, '127.0.0.1')).port;
    t.viewCam = await token('cam', 'view');
    t.publishCam = await token('cam', 'publish');
    t.viewOther = await token('other', 'view');
    t.viewAll = await token('*', 'view');
    t.viewPrefix = await token('ca*', 'view');
    t.expired = await token('cam', 'view', { ttl: '1h', now: Date.now() - 2 * 3600_000 });
    t.foreign = await token('cam', 'view', { secret: 'some-other-secret-0123456789abcdef' });
    cam = await publishPattern(r, 'cam', { width: 160, height: 120, fps: 30, token: t.publishCam });
    other = await publishPattern(r, 'other', { width: 160, height: 120, fps: 30, token: SHARED });
    // Both live, each with a frame for snapshots.
    await readMjpeg(`${r.base}/streams/cam.mjpg?token=${SHARED}`, 1);
    await readMjpeg(`${r.base}/streams/other.mjpg?token=${SHARED}`, 1);
  });
  after(async () => {
    cam?.close();
    other?.close();
    await r?.close();
  });

  for (const transport of ['tcp', 'ws', 'udp'] as const) {
    const url = (stream: string): string => {
      const port = transport === 'tcp' ? r.tcpPort : transport === 'ws' ? r.httpPort : udpPort;
      return `${transport}://127.0.0.1:${port}/${stream}`;
    };
    const refusedView = async (stream: string, tok: string, reason: RegExp): Promise<void> => {
      const sub = subscribe(url(stream), { token: tok, reconnect: false });
      await assert.rejects(sub.ready, unauthorized(reason));
      sub.close();
    };
    const refusedPublish = async (stream: string, tok: string, reason: RegExp): Promise<void> => {
      const source = testPattern({ width: 64, height: 48, fps: 10 });
      await assert.rejects(publish(url(stream), source, { token: tok, reconnect: false }), unauthorized(reason));
      source.close();
    };

    it(`${transport}: a view token views its stream (prefix and * too), cannot publish it, cannot view another`, async () => {
      for (const tok of [t.viewCam, t.viewPrefix, t.viewAll, t.publishCam] as string[]) {
        const sub = subscribe(url('cam'), { token: tok, reconnect: false });
        const first = await sub[Symbol.asyncIterator]().next();
        assert.equal(first.done, false);
        assert.equal(first.value?.width, 160);
        sub.close();
      }
      await refusedPublish('cam', t.viewCam as string, /^token allows view, not publish$/);
      await refusedView('other', t.viewCam as string, /^token is for stream "cam", not "other"$/);
      await refusedView('other', t.viewPrefix as string, /^token is for streams "ca\*", not "other"$/);
    });

    it(`${transport}: a publish token publishes its stream only`, async () => {
      const mine = `${transport}-pub`;
      const tok = await token(mine, 'publish');
      const pub = await publish(url(mine), testPattern({ width: 64, height: 48, fps: 10 }), { token: tok, reconnect: false });
      assert.ok(r.relay.streams().some((s) => s.name === mine && s.live));
      pub.close();
      await refusedPublish(`${transport}-elsewhere`, tok, new RegExp(`^token is for stream "${mine}", not "${transport}-elsewhere"$`));
    });

    it(`${transport}: expired, foreign, malformed and missing tokens are refused with the reason; the shared token still works`, async () => {
      await refusedView('cam', t.expired as string, /^token expired$/);
      await refusedPublish('cam', t.expired as string, /^token expired$/);
      await refusedView('cam', t.foreign as string, /^token signature does not match/);
      await refusedView('cam', 'a.b.c', /^malformed token/);
      await refusedView('cam', 'not-the-shared-token', /^wrong token$/);
      const none = subscribe(url('cam'), { reconnect: false });
      await assert.rejects(none.ready, unauthorized(/^this relay needs a token$/));
      none.close();
      const shared = subscribe(url('cam'), { token: SHARED, reconnect: false });
      assert.equal((await shared[Symbol.asyncIterator]().next()).done, false);
      shared.close();
    });
  }

  it('tcp: frames sent right behind the hello wait for the token check and reach viewers in order', async () => {
    const viewer = await RawClient.connect(r.tcpPort);
    viewer.send({ type: 'hello', body: { role: 'view', stream: 'burst', token: SHARED } });
    await viewer.waitFor('welcome');
    const peer = await RawPeer.connect(r.tcpPort);
    const tok = await token('burst', 'publish');
    const frames = [1, 2, 3].map((seq) => fakeFrame(seq, 2000));
    // One write: hello and three frames, before the relay can have answered.
    peer.send(
      Buffer.concat([
        encodeControl({ type: 'hello', body: { role: 'publish', stream: 'burst', token: tok } }),
        ...frames.map((f) => encodeFrame(f)),
      ]),
    );
    await peer.waitFor('welcome');
    await until(() => viewer.frames().length >= 3, 'three frames at the viewer', 5000);
    assert.deepEqual(
      viewer.frames().map((f) => f.seq),
      [1, 2, 3],
    );
    assert.ok(!peer.messages.some((m) => m.type === 'error'), 'the publisher was not refused');
    viewer.close();
    peer.destroy();
  });

  it('tcp: peers that hang up during the token check are never attached', async () => {
    const tok = await token('ghost', 'publish');
    const own = await startTestRelay({ secret: SECRET });
    const peers = await Promise.all(Array.from({ length: 20 }, () => RawPeer.connect(own.tcpPort)));
    // Hello then an immediate hang-up: the close usually lands while the signature is being checked.
    for (const p of peers) {
      p.send(encodeControl({ type: 'hello', body: { role: 'publish', stream: 'ghost', token: tok } }));
      p.destroy();
    }
    await Promise.all(peers.map((p) => p.closed));
    await until(() => own.relay.clientCount === 0, 'every ghost gone', 5000);
    // Let any verification still in flight finish: a session attached after its close would leave a live stream.
    await own.relay.checkToken(tok);
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(own.relay.streams(), [], 'no ghost stream left behind');
    await own.close();
  });

  describe('HTTP', () => {
    it('/api/streams shows a scoped token only its streams; the shared token all; refusals are 401 JSON', async () => {
      const names = async (auth: Record<string, string>, query = ''): Promise<string[]> => {
        const res = await request(`${r.base}/api/streams${query}`, { headers: auth });
        assert.equal(res.status, 200, res.body.toString());
        return (JSON.parse(res.body.toString()) as { streams: { name: string }[] }).streams.map((s) => s.name).sort();
      };
      assert.deepEqual(await names({}, `?token=${t.viewCam}`), ['cam']);
      assert.deepEqual(await names({ Authorization: `Bearer ${t.publishCam}` }), ['cam']);
      assert.deepEqual(await names({ 'X-Framewire-Token': t.viewOther as string }), ['other']);
      const all = await names({ Authorization: `Bearer ${SHARED}` });
      assert.ok(all.includes('cam') && all.includes('other'), all.join());
      assert.deepEqual(await names({}, `?token=${t.viewAll}`), all);
      assert.deepEqual(
        await names({}, `?token=${t.viewPrefix}`),
        all.filter((n) => n.startsWith('ca')),
      );
      assert401(await request(`${r.base}/api/streams`), /^this relay needs a token$/);
      assert401(await request(`${r.base}/api/streams?token=${t.expired}`), /^token expired$/);
      assert401(
        await request(`${r.base}/api/streams`, { headers: { Authorization: `Bearer ${t.foreign}` } }),
        /^token signature does not match/,
      );
      assert401(await request(`${r.base}/api/streams?token=x.y.z`), /^malformed token/);
    });

    it('snapshot: a view (or publish) token for the stream; others are 401 with the reason', async () => {
      assert.equal((await request(`${r.base}/streams/cam.jpg?token=${t.viewCam}`)).status, 200);
      assert.equal((await request(`${r.base}/streams/cam.jpg`, { headers: { Authorization: `Bearer ${t.publishCam}` } })).status, 200);
      assert401(await request(`${r.base}/streams/other.jpg?token=${t.viewCam}`), /^token is for stream "cam", not "other"$/);
      assert401(await request(`${r.base}/streams/cam.jpg?token=${t.expired}`), /^token expired$/);
      assert401(await request(`${r.base}/streams/cam.jpg?token=${t.foreign}`), /^token signature does not match/);
    });

    it('MJPEG view: a view token for the stream; another stream is 401, even one that does not exist', async () => {
      const ok = await readMjpeg(`${r.base}/streams/cam.mjpg?token=${t.viewCam}`, 2);
      assert.equal(ok.jpegs.length, 2);
      assert401(await request(`${r.base}/streams/other.mjpg?token=${t.viewCam}`), /^token is for stream "cam", not "other"$/);
      assert401(await request(`${r.base}/streams/nope.mjpg?token=${t.viewCam}`), /^token is for stream "cam", not "nope"$/);
      assert.equal((await request(`${r.base}/streams/nope.mjpg?token=${await token('nope', 'view')}`)).status, 404);
      assert401(await request(`${r.base}/streams/cam.mjpg?token=${t.expired}`), /^token expired$/);
    });

    it('MJPEG ingest: a publish token for the stream; a view token or another stream is 401', async () => {
      const jpeg = (await request(`${r.base}/streams/cam.jpg?token=${t.viewCam}`)).body;
      const body = Buffer.concat([
        Buffer.from(`--b\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`),
        jpeg,
        Buffer.from('\r\n--b--\r\n'),
      ]);
      const post = (stream: string, tok: string): ReturnType<typeof request> =>
        request(
          `${r.base}/streams/${stream}`,
          { method: 'POST', headers: { 'Content-Type': 'multipart/x-mixed-replace; boundary=b', Authorization: `Bearer ${tok}` } },
          body,
        );
      const up = await token('up', 'publish');
      const good = await post('up', up);
      assert.equal(good.status, 200, good.body.toString());
      assert.equal(JSON.parse(good.body.toString()).frames, 1);
      assert401(await post('up', await token('up', 'view')), /^token allows view, not publish$/);
      assert401(await post('up2', up), /^token is for stream "up", not "up2"$/);
      assert401(await post('up', t.expired as string), /^token expired$/);
    });

    it('WebSocket: the upgrade checks a token it carries; the hello checks its scope', async () => {
      await assert.rejects(wsClient(r.base, undefined, `/ws?token=${t.expired}`), /HTTP 401/);
      await assert.rejects(wsClient(r.base, undefined, `/ws?token=${t.foreign}`), /HTTP 401/);
      const good = await wsClient(r.base, { role: 'view', stream: 'cam', token: t.viewCam as string }, `/ws?token=${t.viewCam}`);
      await good.waitFor((c) => c.frames >= 2);
      good.close();
      const wrong = await wsClient(r.base, { role: 'view', stream: 'other', token: t.viewCam as string }, `/ws?token=${t.viewCam}`);
      await wrong.waitFor((c) => c.messages.some((m) => m.type === 'error'));
      const err = wrong.messages.find((m) => m.type === 'error');
      assert.ok(
        err?.type === 'error' && err.body.code === 'FW_UNAUTHORIZED' && err.body.message === 'token is for stream "cam", not "other"',
      );
      await wrong.closed;
    });
  });
});
