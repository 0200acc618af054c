/**
 * The relay does what docs/protocol.md says, where an independent client
 * found the two disagreeing: frames that are missing but not lost on the
 * wire have their own counters, codec 2 is refused, stats a relay does not
 * understand and acks from a publisher are ignored, unknown error codes are
 * kept as they came, and our own bugs are FW_INTERNAL (never the peer's
 * FW_BAD_MESSAGE). Real sockets on loopback.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { WebSocket } from 'ws';
import { ErrorCodes, FramewireError, isFramewireError, subscribe, type EncodedFrame, type Relay } from '../../src/index.js';
import { nowUs } from '../../src/frame/clock.js';
import { encodeControl, type Message } from '../../src/protocol/messages.js';
import { decodeMessage, StreamParser } from '../../src/protocol/parser.js';
import { rawControl } from '../helpers/proto-samples.js';
import { RawClient, fakeFrame, startRelay, until } from '../helpers/relay.js';

const relays: Relay[] = [];
after(async () => {
  for (const r of relays) await r.close();
});

async function relay(options = {}): Promise<Awaited<ReturnType<typeof startRelay>>> {
  const r = await startRelay(options);
  relays.push(r.relay);
  return r;
}

async function raw(port: number, role: 'publish' | 'view', stream: string, params?: { width?: number }): Promise<RawClient> {
  const c = await RawClient.connect(port);
  c.send({ type: 'hello', body: { role, stream, ...(params ? { params } : {}) } });
  await c.waitFor('welcome');
  return c;
}

/** A real 64×48 JPEG (decodes), as frame `seq`. */
async function realFrame(seq: number): Promise<EncodedFrame> {
  const data = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: seq * 10, g: 0, b: 0 } } })
    .jpeg()
    .toBuffer();
  return { seq, captureUs: nowUs(), width: 64, height: 48, codec: 'jpeg', key: true, data };
}

/** Waits until `client` has received frames with exactly these seqs. */
async function framesSeen(client: RawClient, seqs: number[]): Promise<void> {
  await until(() => client.frames().length >= seqs.length, `frames ${seqs.join(',')}`);
  assert.deepEqual(
    client.frames().map((f) => f.seq),
    seqs,
  );
}

/** The last stats message a raw client received. */
function lastStats(client: RawClient): Record<string, unknown> {
  const all = client.messages.flatMap((m) => (m.type === 'stats' ? [m.body] : []));
  return all[all.length - 1] ?? {};
}

describe('frames missing but not lost on the wire', () => {
  it('counts the frames a publisher never sent as framesDroppedByPublisher, not as lost', async () => {
    const { port, url, relay: r } = await relay();
    const pub = await raw(port, 'publish', 'gaps');
    const viewer = await raw(port, 'view', 'gaps');
    const sub = subscribe(url('gaps'), { queueSize: 100 });
    await sub.ready;
    await until(() => r.streams()[0]?.viewers === 2, 'two viewers');
    // Frames 2, 3 and 6 are "dropped while backed up" by this publisher: their seqs never come.
    const seqs = [0, 1, 4, 5, 7];
    for (const s of seqs) pub.sendFrame(fakeFrame(s));
    await framesSeen(viewer, seqs);
    // The count travels just before the first frame after the gap, so it is exact at every frame.
    assert.equal(lastStats(viewer).framesDroppedByPublisher, 3);
    assert.equal(lastStats(viewer).framesSkipped, 0);
    // The subscription acks, so the relay may skip one of the frames sent back to back (latest-frame-wins): counted apart too.
    await until(
      () => sub.stats().framesReceived + sub.stats().framesSkipped === seqs.length,
      'the subscription to get or be told of every frame',
    );
    const s = sub.stats();
    assert.equal(s.framesDroppedByPublisher, 3);
    assert.equal(s.framesLost, 0, 'nothing was lost on the wire');
    assert.equal(r.viewers('gaps')?.find((v) => v.transport === 'tcp' && v.sent === seqs.length)?.droppedByPublisher, 3);
    assert.equal(r.streams()[0]?.framesDroppedByPublisher, 3);
    sub.close();
    pub.close();
    viewer.close();
  });

  it('counts frames the relay refuses as invalid as framesNotDecodable, not as lost', async () => {
    const { port } = await relay();
    const pub = await raw(port, 'publish', 'bad');
    const viewer = await raw(port, 'view', 'bad');
    pub.sendFrame(fakeFrame(0));
    const notJpeg = { ...fakeFrame(1), data: Buffer.alloc(100, 7) };
    pub.sendFrame(notJpeg);
    pub.sendFrame(fakeFrame(2));
    await framesSeen(viewer, [0, 2]);
    const st = lastStats(viewer);
    assert.equal(st.framesNotDecodable, 1);
    assert.equal(st.framesDroppedByPublisher, 0, 'a refused frame is not a publisher drop');
    pub.close();
    viewer.close();
  });

  it('counts frames a rendition cannot decode as framesNotDecodable for its viewers, not as lost', async () => {
    const { port, url, relay: r } = await relay();
    const pub = await raw(port, 'publish', 'rend');
    const sub = subscribe(url('rend'), { width: 32, queueSize: 100 });
    await sub.ready;
    // 0 decodes; 1 and 2 pass the relay's header check (SOI, SOF size) but are no picture; 3 decodes.
    const frames = [await realFrame(0), fakeFrame(1), fakeFrame(2), await realFrame(3)];
    const got: EncodedFrame[] = [];
    const reading = (async () => {
      for await (const f of sub) {
        got.push(f);
        if (f.seq === 3) return;
      }
    })();
    // One at a time: the transcoder is latest-frame-wins and would skip (not fail) frames sent together.
    const notDecodable = (): number => r.viewers('rend')?.[0]?.notDecodable ?? -1;
    pub.sendFrame(frames[0] as EncodedFrame);
    await until(() => got.length === 1, 'the first rendition');
    pub.sendFrame(frames[1] as EncodedFrame);
    await until(() => notDecodable() === 1, 'frame 1 to fail its decode');
    pub.sendFrame(frames[2] as EncodedFrame);
    await until(() => notDecodable() === 2, 'frame 2 to fail its decode');
    pub.sendFrame(frames[3] as EncodedFrame);
    await reading;
    assert.deepEqual(
      got.map((f) => [f.seq, f.width, f.height]),
      [
        [0, 32, 24],
        [3, 32, 24],
      ],
    );
    const s = sub.stats();
    assert.equal(s.framesNotDecodable, 2);
    assert.equal(s.framesSkipped, 0);
    assert.equal(s.framesLost, 0);
    sub.close();
    pub.close();
  });
});

describe('what the spec says the relay refuses or ignores', () => {
  it('refuses a frame of codec 2 (h264, reserved) with FW_BAD_HEADER and forwards nothing', async () => {
    const { port } = await relay();
    const pub = await raw(port, 'publish', 'h264');
    const viewer = await raw(port, 'view', 'h264');
    pub.sendFrame({ ...fakeFrame(0), codec: 'h264' });
    const err = await pub.waitFor('error');
    assert.equal(err.body.code, ErrorCodes.BAD_HEADER);
    await pub.closed;
    await viewer.waitFor('stats');
    assert.equal(viewer.frames().length, 0);
    viewer.close();
  });

  it('ignores stats values it does not understand from a client: the session carries on', async () => {
    const { port } = await relay();
    const pub = await raw(port, 'publish', 'st');
    const viewer = await raw(port, 'view', 'st');
    // The encoder writes only valid bodies: these are written as raw bytes.
    viewer.socket.write(rawControl('stats', '{"nested":{"a":1},"list":[1],"n":null,"fine":1}'));
    pub.socket.write(rawControl('stats', '{"nested":{"a":1}}'));
    viewer.send({ type: 'ping', body: { id: 7, t0: 1 } });
    const pong = await viewer.waitFor('pong');
    assert.equal(pong.body.id, 7);
    pub.sendFrame(fakeFrame(0));
    await framesSeen(viewer, [0]);
    assert.equal(
      viewer.messages.some((m) => m.type === 'error'),
      false,
    );
    pub.close();
    viewer.close();
  });

  it('ignores an ack from a publisher: it stays connected and its frames flow', async () => {
    const { port } = await relay();
    const pub = await raw(port, 'publish', 'pa');
    const viewer = await raw(port, 'view', 'pa');
    pub.send({ type: 'ack', body: { seq: 0 } });
    pub.sendFrame(fakeFrame(0));
    pub.send({ type: 'ack', body: { seq: 12345 } });
    pub.sendFrame(fakeFrame(1));
    await framesSeen(viewer, [0, 1]);
    assert.equal(
      pub.messages.some((m) => m.type === 'error'),
      false,
    );
    assert.equal(pub.socket.destroyed, false);
    pub.close();
    viewer.close();
  });
});

describe('error codes', () => {
  it('keeps an error code it does not know as it came (a client of a newer relay)', async () => {
    // A "relay" that answers every hello with a code from the future.
    const server = net.createServer((sock) => {
      const parser = new StreamParser();
      sock.on('data', (chunk: Buffer) => {
        for (const m of parser.push(chunk)) {
          if (m.type === 'hello') sock.end(rawControl('error', '{"code":"FW_FROM_THE_FUTURE","message":"not yet"}'));
        }
      });
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as net.AddressInfo;
    const sub = subscribe(`tcp://127.0.0.1:${port}/cam`, { reconnect: false });
    await assert.rejects(sub.ready, (e) => isFramewireError(e) && e.code === 'FW_FROM_THE_FUTURE' && e.message === 'not yet');
    sub.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('reports a bug of ours to the peer as FW_INTERNAL, logged with its stack, not as FW_BAD_MESSAGE', async () => {
    const { port } = await relay();
    const viewer = await raw(port, 'view', 'bug');
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    const push = StreamParser.prototype.push;
    // The relay's parsers fail; the test client's own keeps working.
    StreamParser.prototype.push = function (this: StreamParser, chunk: Buffer) {
      if (this === viewer.parser) return push.call(this, chunk);
      throw new TypeError('a bug in the parser');
    };
    try {
      viewer.send({ type: 'ping', body: { id: 1, t0: 1 } });
      const err = await viewer.waitFor('error');
      assert.equal(err.body.code, ErrorCodes.INTERNAL);
      assert.match(err.body.message, /a bug in the parser/);
    } finally {
      StreamParser.prototype.push = push;
    }
    await until(() => warnings.length > 0, 'the warning');
    process.off('warning', onWarning);
    const w = warnings.find((x) => (x as Error & { code?: string }).code === ErrorCodes.INTERNAL);
    assert.ok(w, 'a FW_INTERNAL warning');
    assert.match(w.message, /TypeError: a bug in the parser\n\s+at /, 'the warning carries the stack');
    viewer.close();
  });

  it('answers an HTTP request that hits a bug with 500 FW_INTERNAL, not 400', async () => {
    const { relay: r } = await relay();
    const { port } = await r.listenHttp(0);
    r.streams = () => {
      throw new TypeError('a bug in a route');
    };
    const onWarning = (): void => undefined;
    process.on('warning', onWarning);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/streams`);
      assert.equal(res.status, 500);
      const body = (await res.json()) as { error: { code: string } };
      assert.equal(body.error.code, ErrorCodes.INTERNAL);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('keeps FramewireErrors as they are and makes the rest FW_INTERNAL', () => {
    const coded = FramewireError.frameTooLarge(10, 5);
    assert.equal(FramewireError.from(coded, 'here'), coded);
    const onWarning = (): void => undefined;
    process.on('warning', onWarning);
    const bug = FramewireError.from(new RangeError('oops'), 'here');
    process.off('warning', onWarning);
    assert.equal(bug.code, ErrorCodes.INTERNAL);
    assert.ok(bug.cause instanceof RangeError);
  });
});

describe('WebSocket (docs/protocol.md section 2)', () => {
  /** Opens /ws, sends `first`, and resolves with the messages read and the close code. */
  async function wsExchange(base: string, query: string, first: Buffer | string): Promise<{ messages: Message[]; code: number }> {
    const ws = new WebSocket(`${base}/ws${query}`);
    const messages: Message[] = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) messages.push(decodeMessage(data));
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(first);
    const code = await new Promise<number>((resolve) => ws.once('close', (c: number) => resolve(c)));
    return { messages, code };
  }

  it('a valid ?token= on the upgrade does not stand in for the hello token; the error closes with 1000', async () => {
    const { relay: r } = await relay({ token: 'tok' });
    const { port } = await r.listenHttp(0);
    const { messages, code } = await wsExchange(
      `ws://127.0.0.1:${port}`,
      '?token=tok',
      Buffer.from(encodeControl({ type: 'hello', body: { role: 'view', stream: 'cam' } })),
    );
    const err = messages.find((m) => m.type === 'error');
    assert.ok(err?.type === 'error');
    assert.equal(err.body.code, ErrorCodes.UNAUTHORIZED);
    assert.equal(err.body.message, 'this relay needs a token');
    assert.equal(code, 1000);
  });

  it('a message that cannot be read (text) gets FW_BAD_MESSAGE, then close code 1008', async () => {
    const { relay: r } = await relay();
    const { port } = await r.listenHttp(0);
    const { messages, code } = await wsExchange(`ws://127.0.0.1:${port}`, '', 'hello as text');
    const err = messages.find((m) => m.type === 'error');
    assert.ok(err?.type === 'error');
    assert.equal(err.body.code, ErrorCodes.BAD_MESSAGE);
    assert.equal(code, 1008);
  });
});
