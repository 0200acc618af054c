import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { createRelay, isFramewireError, publish, subscribe, testPattern, type Publication, type Relay } from '../../src/index.js';
import { nowUs } from '../../src/frame/clock.js';
import type { EncodedFrame, FrameSource } from '../../src/frame/frame.js';
import { encodeControl, encodeFrame, encodeFrameHeader } from '../../src/protocol/messages.js';
import { cli, waitForOutput } from '../helpers/cli.js';
import { RawClient, countFrames, fakeFrame, until } from '../helpers/relay.js';
import { wsClient } from '../helpers/web.js';
import { connectUdp } from '../../src/transport/udp-server.js';

/** A source that yields `make(seq)` at `fps` until closed. */
function frameSource(make: (seq: number) => EncodedFrame, fps = 30): FrameSource {
  let closed = false;
  return {
    info: { width: 64, height: 48, fps },
    close() {
      closed = true;
    },
    async *[Symbol.asyncIterator]() {
      for (let seq = 0; !closed; seq++) {
        yield { ...make(seq), seq, captureUs: nowUs() };
        await new Promise((r) => setTimeout(r, 1000 / fps));
      }
    },
  };
}

/** A relay's resident memory, bytes, from /proc. */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** A JPEG of 16x16 pixels whose SOF marker claims `w`×`h` (a decompression bomb when w×h is huge). */
async function lyingJpeg(w: number, h: number): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 200, g: 20, b: 20 } } })
    .jpeg()
    .toBuffer();
  for (let i = 2; i + 9 < jpeg.length; ) {
    const code = jpeg[i + 1] as number;
    const len = jpeg.readUInt16BE(i + 2);
    if (code === 0xc0) {
      jpeg.writeUInt16BE(h, i + 5);
      jpeg.writeUInt16BE(w, i + 7);
      return jpeg;
    }
    i += 2 + len;
  }
  throw new Error('no SOF0 in the JPEG sharp made');
}

describe('a hostile peer cannot crash or starve the relay (issue: hardening)', { timeout: 120_000 }, () => {
  it('50 half-sent 16 MiB frames: the relay stays within its budget, the biggest holders get FW_OVERLOADED, a healthy viewer keeps its rate', async (t) => {
    // The default budget (256 MiB); BUDGET_MIB picks another.
    const budgetMiB = Number(process.env.BUDGET_MIB ?? 256);
    const srv = cli(['serve', '--tcp', '0', '--http', '0', '--memory-budget', String(budgetMiB)]);
    try {
      const m = await waitForOutput(srv.stdout, /tcp=127\.0\.0\.1:(\d+) http=127\.0\.0\.1:(\d+)/);
      const tcp = Number(m[1]);
      const http = Number(m[2]);
      const pid = srv.child.pid as number;
      const pub = await publish(`tcp://127.0.0.1:${tcp}/cam`, testPattern({ width: 320, height: 240, fps: 30 }));
      const sub = subscribe(`tcp://127.0.0.1:${tcp}/cam`);
      const healthy = countFrames(sub);
      await until(() => healthy.count() >= 30, 'the healthy viewer to get going');
      const rssBefore = rssOf(pid);
      let rssMax = rssBefore;
      const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssOf(pid))), 50);

      const t0 = Date.now();
      const n0 = healthy.count();
      const attackers = await Promise.all(Array.from({ length: 50 }, () => RawClient.connect(tcp)));
      await Promise.all(
        attackers.map(async (a, i) => {
          a.send({ type: 'hello', body: { role: 'publish', stream: `atk${i}` } });
          await a.waitFor('welcome');
          // Announce a 16 MiB frame, then trickle 12 MiB of it (64 KiB every 25 ms) and stop.
          const header = Buffer.from(
            encodeFrameHeader({ seq: 0, captureUs: 0, width: 64, height: 48, codec: 'jpeg', key: true, data: Buffer.alloc(0) }),
          );
          header.writeUInt32BE(16 * 1024 * 1024, 8);
          a.socket.write(header);
          const chunk = Buffer.alloc(64 * 1024, 0x55);
          for (let sent = 0; sent < 12 * 1024 * 1024 && !a.socket.destroyed; sent += chunk.length) {
            if (!a.socket.write(chunk))
              await new Promise<void>((r) => {
                a.socket.once('drain', r);
                a.socket.once('close', r);
              });
            await new Promise((r) => setTimeout(r, 25));
          }
        }),
      );
      // Let the relay read what is still in flight: until every overload it counted has reached its attacker.
      const overloadedNow = (): number =>
        attackers.filter((a) => a.messages.some((x) => x.type === 'error' && x.body.code === 'FW_OVERLOADED')).length;
      await until(
        async () => {
          const h = (await (await fetch(`http://127.0.0.1:${http}/api/health`)).json()) as { memory: { overloads: number } };
          return h.memory.overloads > 0 && overloadedNow() === h.memory.overloads;
        },
        'the overloaded attackers to get their FW_OVERLOADED',
        30_000,
      );
      const seconds = (Date.now() - t0) / 1000;
      const fps = (healthy.count() - n0) / seconds;
      clearInterval(sampler);
      const overloaded = attackers.filter((a) => a.messages.some((x) => x.type === 'error' && x.body.code === 'FW_OVERLOADED'));
      const health = (await (await fetch(`http://127.0.0.1:${http}/api/health`)).json()) as {
        memory: { usedBytes: number; overloads: number; totalBytes: number };
      };

      t.diagnostic(
        `relay RSS ${(rssBefore / 1e6).toFixed(0)} → peak ${(rssMax / 1e6).toFixed(0)} MB (budget ${budgetMiB} MiB); ${overloaded.length} of 50 attackers got FW_OVERLOADED; healthy viewer ${fps.toFixed(1)} fps over ${seconds.toFixed(1)} s`,
      );
      assert.ok(overloaded.length > 0, 'the biggest holders were closed with FW_OVERLOADED');
      assert.ok(overloaded.length < 50, `not everyone was closed (${overloaded.length} of 50)`);
      assert.ok(health.memory.overloads >= overloaded.length, `health counts the overloads (${health.memory.overloads})`);
      assert.ok(health.memory.usedBytes <= health.memory.totalBytes, 'what is held stays within the budget');
      assert.ok(
        rssMax < budgetMiB * 1024 * 1024 + 100e6,
        `relay RSS peaked at ${(rssMax / 1e6).toFixed(0)} MB (budget ${budgetMiB} MiB + 100 MB allowed; ${(rssBefore / 1e6).toFixed(0)} MB before)`,
      );
      assert.ok(fps >= 27, `the healthy viewer got ${fps.toFixed(1)} fps during the attack (${seconds.toFixed(1)} s)`);

      for (const a of attackers) a.close();
      await Promise.all(attackers.map((a) => a.closed));
      let afterHealth = { memory: { usedBytes: -1, holders: -1 } };
      await until(
        async () => {
          afterHealth = (await (await fetch(`http://127.0.0.1:${http}/api/health`)).json()) as typeof afterHealth;
          return afterHealth.memory.usedBytes === 0 && afterHealth.memory.holders === 0;
        },
        'the relay to release what the attackers held',
        10_000,
      ).catch(() => undefined);
      assert.equal(afterHealth.memory.usedBytes, 0, 'every held byte is released when the attackers go');
      assert.equal(afterHealth.memory.holders, 0, 'and the budget forgets every attacker');
      sub.close();
      pub.close();
    } finally {
      srv.child.kill('SIGTERM');
      await srv.exited;
    }
  });

  describe('a 16000x16000 JPEG in a 4 KB file', () => {
    let bomb: Buffer;
    before(async () => {
      bomb = await lyingJpeg(16000, 16000);
    });

    /** Publishes the bomb until `settled` resolves (the relay has dealt with it) or rejects (the publisher was refused). */
    async function attempt(
      relay: Relay,
      port: number,
      settled: (pub: Publication) => Promise<unknown>,
    ): Promise<{ rssDelta: number; error: unknown; viewerFrames: number }> {
      const url = `tcp://127.0.0.1:${port}/bomb`;
      const viewer = subscribe(url, { width: 320 });
      const got = countFrames(viewer);
      await viewer.ready;
      const rss0 = process.memoryUsage.rss();
      let rssMax = rss0;
      const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage.rss())), 20);
      const src = frameSource(() => ({ ...fakeFrame(0), width: 16000, height: 16000, data: bomb }), 10);
      let error: unknown;
      try {
        const pub = await publish(url, src, { reconnect: false });
        try {
          await settled(pub);
        } finally {
          pub.close();
        }
      } catch (err) {
        error = err;
      }
      clearInterval(sampler);
      src.close();
      viewer.close();
      void relay;
      return { rssDelta: rssMax - rss0, error, viewerFrames: got.count() };
    }

    it('is refused by frame validation: FW_BAD_FRAME, nothing forwarded, nothing decoded', async () => {
      const relay = createRelay();
      const { port } = await relay.listenTcp(0);
      // The publisher is refused: its publication ends with the relay's error.
      const r = await attempt(relay, port, (pub) => pub.done);
      assert.ok(isFramewireError(r.error, 'FW_BAD_FRAME'), `publisher error ${String(r.error)}`);
      assert.equal(r.viewerFrames, 0);
      assert.ok(r.rssDelta < 50e6, `RSS moved ${(r.rssDelta / 1e6).toFixed(1)} MB`);
      const h = relay.health();
      assert.ok(h.badFrames >= 3 && h.badPublishers === 1, JSON.stringify(h));
      await relay.close();
    });

    it('with validation off, the rendition refuses to decode it (pixel limit) and counts it', async () => {
      const relay = createRelay({ validateFrames: false });
      const { port } = await relay.listenTcp(0);
      const r = await attempt(relay, port, () => until(() => relay.health().decodesRefused >= 1, 'a refused decode'));
      assert.equal(r.viewerFrames, 0, 'the rendition viewer got nothing');
      assert.ok(r.rssDelta < 50e6, `RSS moved ${(r.rssDelta / 1e6).toFixed(1)} MB`);
      assert.ok(relay.health().decodesRefused >= 1, `decodes refused: ${relay.health().decodesRefused}`);
      await relay.close();
    });
  });

  describe("publishers' frames are checked on every transport", () => {
    let relay: Relay;
    let tcp: number;
    let http: number;
    let udp: number;
    before(async () => {
      relay = createRelay();
      tcp = (await relay.listenTcp(0)).port;
      http = (await relay.listenHttp(0)).port;
      udp = (await relay.listenUdp(0)).port;
    });
    after(() => relay.close());

    const cases: [string, (seq: number) => EncodedFrame][] = [
      ['non-JPEG bytes', (seq) => ({ ...fakeFrame(seq), data: Buffer.from('this is not a picture at all, just bytes') })],
      ['a 64x48 JPEG header claiming 65535x65535', (seq) => ({ ...fakeFrame(seq), width: 65535, height: 65535 })],
      ['a 64x48 JPEG whose header says 640x480', (seq) => ({ ...fakeFrame(seq), width: 640, height: 480 })],
    ];
    for (const [scheme, port] of [
      ['tcp', () => tcp],
      ['ws', () => http],
      ['udp', () => udp],
    ] as const) {
      for (const [what, make] of cases) {
        it(`${scheme}: ${what} → FW_BAD_FRAME after 3, no viewer sees one`, async () => {
          const name = `bad-${scheme}-${what.length}`;
          const url = `${scheme}://127.0.0.1:${port()}/${name}`;
          const viewer = subscribe(url);
          const got = countFrames(viewer);
          await viewer.ready;
          const before = relay.health().badPublishers;
          const src = frameSource(make);
          await assert.rejects(
            (async () => {
              const pub = await publish(url, src, { reconnect: false });
              await pub.done;
            })(),
            (e) => isFramewireError(e, 'FW_BAD_FRAME'),
          );
          src.close();
          assert.equal(relay.health().badPublishers, before + 1);
          assert.equal(got.count(), 0);
          viewer.close();
        });
      }
    }
  });

  it('viewers of made-up streams wait in a bounded list; a real publisher still gets its stream; entries go with their viewers', async () => {
    const relay = createRelay({ maxStreams: 4, maxWaitingPerAddress: 8, maxWaitingViewers: 10 });
    const { port } = await relay.listenTcp(0);
    const viewers = await Promise.all(Array.from({ length: 12 }, () => RawClient.connect(port)));
    viewers.forEach((v, i) => v.send({ type: 'hello', body: { role: 'view', stream: `made-up-${i}` } }));
    await until(() => viewers.every((v) => v.messages.some((m) => m.type === 'welcome' || m.type === 'error')), 'every viewer answered');
    const refused = viewers.filter((v) => v.messages.some((m) => m.type === 'error' && m.body.code === 'FW_TOO_MANY_CLIENTS'));
    assert.equal(refused.length, 4, 'the 9th and later from one address are refused');
    assert.equal(relay.health().waitingViewers, 8);
    // More made-up viewers than maxStreams exist, yet a publisher gets a new stream.
    const pub = await publish(`tcp://127.0.0.1:${port}/real`, testPattern({ width: 64, height: 48, fps: 10 }), { reconnect: false });
    assert.ok(relay.streams().some((s) => s.name === 'real' && s.live));
    for (const v of viewers) v.close();
    await until(() => relay.streams().length === 1, 'the made-up entries to go');
    assert.equal(relay.health().waitingViewers, 0);
    pub.close();
    await relay.close();
  });

  it('a publisher whose viewers were waiting takes them off the waiting list', async () => {
    const relay = createRelay({ maxWaitingPerAddress: 2 });
    const { port } = await relay.listenTcp(0);
    const a = subscribe(`tcp://127.0.0.1:${port}/soon`);
    const b = subscribe(`tcp://127.0.0.1:${port}/soon`);
    await Promise.all([a.ready, b.ready]);
    assert.equal(relay.health().waitingViewers, 2);
    const pub = await publish(`tcp://127.0.0.1:${port}/soon`, testPattern({ width: 64, height: 48, fps: 10 }));
    assert.equal(relay.health().waitingViewers, 0);
    const c = subscribe(`tcp://127.0.0.1:${port}/other`);
    await c.ready;
    for (const s of [a, b, c]) s.close();
    pub.close();
    await relay.close();
  });

  it('frames before the hello, or from a viewer, are refused as soon as their header arrives', async () => {
    const relay = createRelay();
    const { port } = await relay.listenTcp(0);
    const header = Buffer.from(
      encodeFrameHeader({ seq: 0, captureUs: 0, width: 64, height: 48, codec: 'jpeg', key: true, data: Buffer.alloc(0) }),
    );
    header.writeUInt32BE(16 * 1024 * 1024, 8);
    const early = await RawClient.connect(port);
    early.socket.write(header);
    await early.closed;
    assert.ok(early.messages.some((m) => m.type === 'error' && m.body.code === 'FW_UNEXPECTED_MESSAGE'));
    const viewer = await RawClient.connect(port);
    viewer.send({ type: 'hello', body: { role: 'view', stream: 'x' } });
    await viewer.waitFor('welcome');
    viewer.socket.write(header);
    await viewer.closed;
    assert.ok(viewer.messages.some((m) => m.type === 'error' && m.body.code === 'FW_UNEXPECTED_MESSAGE'));
    assert.equal(relay.budget.info().peakBytes, 0, 'nothing of the announced frames was held');
    await relay.close();
  });

  it('over WebSocket too: a 1 MB message before the hello, or from a viewer, is refused before it is whole', async () => {
    const relay = createRelay();
    const { port } = await relay.listenHttp(0);
    const big = encodeFrame({ ...fakeFrame(1, 1024 * 1024) });
    for (const hello of [undefined, { role: 'view' as const, stream: 'x' }]) {
      const c = await wsClient(`http://127.0.0.1:${port}`, hello);
      if (hello) await c.waitFor((x) => x.messages.some((m) => m.type === 'welcome'));
      c.ws.send(big);
      await c.closed;
      const e = c.messages.find((m) => m.type === 'error');
      assert.equal(e?.type === 'error' ? e.body.code : undefined, 'FW_UNEXPECTED_MESSAGE');
    }
    // A publisher may send it.
    const p = await wsClient(`http://127.0.0.1:${port}`, { role: 'publish', stream: 'big' });
    await p.waitFor((x) => x.messages.some((m) => m.type === 'welcome'));
    const v = subscribe(`ws://127.0.0.1:${port}/big`);
    const got = countFrames(v);
    await v.ready;
    p.ws.send(big);
    await until(() => got.count() === 1, 'the 1 MB frame at the viewer');
    assert.ok(
      relay.budget.info().peakBytes >= 512 * 1024,
      `the half-received message was on the books (peak ${relay.budget.info().peakBytes})`,
    );
    assert.equal(relay.budget.info().usedBytes, 0, 'and off them once whole');
    v.close();
    p.close();
    await relay.close();
  });

  it("over UDP: a viewer's fragments are dropped unread; a publisher's reassembly is charged to the budget", async () => {
    const relay = createRelay();
    const { port } = await relay.listenUdp(0);
    const viewer = await connectUdp({ host: '127.0.0.1', port });
    const seen: string[] = [];
    viewer.on('message', (m) => seen.push(m.type));
    viewer.send({ type: 'hello', body: { role: 'view', stream: 'u' } });
    await until(() => seen.includes('welcome'), 'the welcome');
    const f = fakeFrame(1, 200_000);
    viewer.send({ type: 'frame', frame: f });
    await until(() => (relay.udpStats()[0]?.totals.fragmentsRefused ?? 0) > 100, "the relay to drop the viewer's fragments");
    assert.equal(relay.budget.info().peakBytes, 0, 'nothing of them was held');
    viewer.destroy();
    // A publisher's frame being reassembled is on the books, and off them once whole.
    const pub = await connectUdp({ host: '127.0.0.1', port });
    const pubSeen: string[] = [];
    pub.on('message', (m) => pubSeen.push(m.type));
    pub.send({ type: 'hello', body: { role: 'publish', stream: 'u' } });
    await until(() => pubSeen.includes('welcome'), "the publisher's welcome");
    pub.send({ type: 'frame', frame: f });
    await until(() => relay.streams().some((s) => s.name === 'u' && s.framesIn === 1), 'the frame through');
    assert.ok(relay.budget.info().peakBytes >= 200_000, `peak ${relay.budget.info().peakBytes}`);
    assert.equal(relay.budget.info().usedBytes, 0);
    pub.destroy();
    await relay.close();
  });

  it('a hello and a frame in one write still work (the frame is not refused as early)', async () => {
    const relay = createRelay();
    const { port } = await relay.listenTcp(0);
    const viewer = subscribe(`tcp://127.0.0.1:${port}/pipe`);
    const got = countFrames(viewer);
    await viewer.ready;
    const p = await RawClient.connect(port);
    const f = fakeFrame(1);
    p.socket.write(
      Buffer.concat([encodeControl({ type: 'hello', body: { role: 'publish', stream: 'pipe' } }), encodeFrameHeader(f), f.data]),
    );
    await until(() => got.count() === 1, 'the pipelined frame');
    p.close();
    viewer.close();
    await relay.close();
  });

  it('invalid UTF-8 inside a JSON string → FW_BAD_MESSAGE', async () => {
    const relay = createRelay();
    const { port } = await relay.listenTcp(0);
    const c = await RawClient.connect(port);
    const good = Buffer.from(encodeControl({ type: 'hello', body: { role: 'view', stream: 'x', client: 'ab' } }));
    const i = good.indexOf(Buffer.from('"ab"'));
    good[i + 1] = 0xc3; // a lone lead byte: not UTF-8
    good[i + 2] = 0x28;
    c.socket.write(good);
    await c.closed;
    assert.ok(c.messages.some((m) => m.type === 'error' && m.body.code === 'FW_BAD_MESSAGE'));
    await relay.close();
  });

  it("FW_STREAM_BUSY does not tell the current publisher's address", async () => {
    const relay = createRelay();
    const { port } = await relay.listenTcp(0);
    const first = await RawClient.connect(port);
    first.send({ type: 'hello', body: { role: 'publish', stream: 'busy' } });
    await first.waitFor('welcome');
    const second = await RawClient.connect(port);
    second.send({ type: 'hello', body: { role: 'publish', stream: 'busy' } });
    const err = await second.waitFor('error');
    assert.equal(err.body.code, 'FW_STREAM_BUSY');
    assert.ok(!err.body.message.includes('127.0.0.1'), err.body.message);
    first.close();
    second.close();
    await relay.close();
  });

  it('a viewer that says acks: true and never acks is closed with FW_TIMEOUT, not left frozen', async () => {
    const relay = createRelay({ ackTimeoutMs: 500 });
    const { port } = await relay.listenTcp(0);
    const v = await RawClient.connect(port);
    v.send({ type: 'hello', body: { role: 'view', stream: 'acks', acks: true } });
    await v.waitFor('welcome');
    const pub = await publish(`tcp://127.0.0.1:${port}/acks`, testPattern({ width: 64, height: 48, fps: 30 }));
    const err = await v.waitFor('error', 10_000);
    assert.equal(err.body.code, 'FW_TIMEOUT');
    assert.ok(v.frames().length >= 2, `it got its window first (${v.frames().length} frames)`);
    assert.equal(relay.health().ackTimeouts, 1);
    pub.close();
    await relay.close();
  });
});

describe('slow HTTP headers', () => {
  it('a client that never finishes its request headers gets 408 with the JSON error, within twice the handshake timeout', async () => {
    const relay = createRelay({ handshakeTimeoutMs: 300 });
    const { port } = await relay.listenHttp(0);
    const { createConnection } = await import('node:net');
    const s = createConnection(port, '127.0.0.1', () => s.write('GET /api/streams HTTP/1.1\r\nHost: relay\r\n'));
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => s.on('close', r));
    assert.match(out, /^HTTP\/1\.1 408 /);
    assert.equal((JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4)) as { error: { code: string } }).error.code, 'FW_HANDSHAKE_TIMEOUT');
    await relay.close();
  });
});

describe('connections that are not sessions yet are bounded too', () => {
  it('the HTTP port takes at most maxClients + 256 sockets at once; the rest are dropped, and a new one is served once they go', async () => {
    const relay = createRelay({ maxClients: 4 });
    const { port } = await relay.listenHttp(0);
    const { createConnection } = await import('node:net');
    const sockets = await Promise.all(
      Array.from(
        { length: 300 },
        () =>
          new Promise<import('node:net').Socket>((resolve) => {
            const s = createConnection(port, '127.0.0.1', () => resolve(s));
            s.on('error', () => undefined);
          }),
      ),
    );
    const closed = await Promise.all(
      sockets.map(
        (s) =>
          new Promise<boolean>((resolve) => {
            const t = setTimeout(() => resolve(false), 1500);
            s.once('close', () => {
              clearTimeout(t);
              resolve(true);
            });
          }),
      ),
    );
    const dropped = closed.filter(Boolean).length;
    assert.ok(dropped >= 300 - 260 && dropped <= 300 - 256, `${dropped} of 300 idle sockets dropped`);
    for (const s of sockets) s.destroy();
    // Once the server has seen them go, a new request is served: retried until then (a dropped one fails).
    let status = 0;
    await until(async () => {
      status = await fetch(`http://127.0.0.1:${port}/api/streams`).then(
        (r) => r.status,
        () => 0,
      );
      return status !== 0;
    }, 'a request to be served once the idle sockets are gone');
    assert.equal(status, 200);
    await relay.close();
  });
});

describe('UDP sessions are bounded', () => {
  it('past maxSessions an open is not answered (the client times out); a closed session frees its place', async () => {
    const relay = createRelay();
    const { port } = await relay.listenUdp(0, '127.0.0.1', { maxSessions: 2 });
    const a = await connectUdp({ host: '127.0.0.1', port });
    const b = await connectUdp({ host: '127.0.0.1', port });
    await assert.rejects(connectUdp({ host: '127.0.0.1', port, timeoutMs: 800 }), (e) => isFramewireError(e, 'FW_TIMEOUT'));
    assert.equal(relay.udpStats()[0]?.sessions, 2);
    a.destroy();
    await until(() => relay.udpStats()[0]?.sessions === 1, 'the closed session to go');
    const c = await connectUdp({ host: '127.0.0.1', port, timeoutMs: 2000 });
    assert.equal(relay.udpStats()[0]?.sessions, 2);
    b.destroy();
    c.destroy();
    await relay.close();
  });
});
