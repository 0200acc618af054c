import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Publication } from '../../src/index.js';
import { encodeControl, encodeFrame } from '../../src/protocol/index.js';
import { publishPattern, readMjpeg, request, startTestRelay, wsClient, type TestRelay, type WsTestClient } from '../helpers/web.js';

function errorCode(c: WsTestClient): string | undefined {
  const e = c.messages.find((m) => m.type === 'error');
  return e?.type === 'error' ? e.body.code : undefined;
}

function multipart(boundary: string, parts: Buffer[]): Buffer {
  return Buffer.concat([
    ...parts.flatMap((p) => [
      Buffer.from(`--${boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: ${p.length}\r\n\r\n`),
      p,
      Buffer.from('\r\n'),
    ]),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
}

describe('bad input over HTTP and WebSocket closes only the offender', { timeout: 60_000 }, () => {
  let r: TestRelay;
  let pub: Publication;
  let watcher: WsTestClient;
  let jpeg: Buffer;

  before(async () => {
    r = await startTestRelay({ maxFrameBytes: 256 * 1024, maxClients: 12 });
    pub = await publishPattern(r, 'cam', { width: 320, height: 240, fps: 30 });
    watcher = await wsClient(r.base, { role: 'view', stream: 'cam' });
    await watcher.waitFor((c) => c.frames > 5);
    jpeg = (await request(`${r.base}/streams/cam.jpg`)).body;
  });
  after(async () => {
    watcher?.close();
    pub?.close();
    await r?.close();
  });

  /** The bystander keeps receiving frames after each case. */
  async function othersUnaffected(): Promise<void> {
    const before = watcher.frames;
    await watcher.waitFor((c) => c.frames >= before + 5, 5000);
    assert.ok(r.relay.streams().find((s) => s.name === 'cam')?.live, 'the publisher is still live');
  }

  it('malformed binary message → FW_BAD_MAGIC, then that socket closes', async () => {
    const c = await wsClient(r.base);
    c.ws.send(Buffer.from('definitely not framewire'));
    await c.closed;
    assert.equal(errorCode(c), 'FW_BAD_MAGIC');
    await othersUnaffected();
  });

  it('truncated message (length mismatch) → FW_BAD_HEADER', async () => {
    const c = await wsClient(r.base);
    const hello = encodeControl({ type: 'hello', body: { role: 'view', stream: 'cam' } });
    c.ws.send(hello.subarray(0, hello.length - 3));
    await c.closed;
    assert.equal(errorCode(c), 'FW_BAD_HEADER');
    await othersUnaffected();
  });

  it('text message → FW_BAD_MESSAGE', async () => {
    const c = await wsClient(r.base);
    c.ws.send('{"role":"view"}');
    await c.closed;
    assert.equal(errorCode(c), 'FW_BAD_MESSAGE');
    await othersUnaffected();
  });

  it('oversized message → closed by the WebSocket layer with 1009 before it is buffered', async () => {
    const c = await wsClient(r.base, { role: 'publish', stream: 'big' });
    await c.waitFor((x) => x.messages.some((m) => m.type === 'welcome'));
    c.ws.send(encodeFrame({ seq: 0, captureUs: 1, width: 16, height: 16, codec: 'jpeg', key: true, data: Buffer.alloc(1024 * 1024) }));
    const closed = await c.closed;
    assert.equal(closed.code, 1009);
    await othersUnaffected();
  });

  it('a frame from a viewer → FW_UNEXPECTED_MESSAGE', async () => {
    const c = await wsClient(r.base, { role: 'view', stream: 'cam' });
    await c.waitFor((x) => x.messages.some((m) => m.type === 'welcome'));
    c.ws.send(encodeFrame({ seq: 0, captureUs: 1, width: 16, height: 16, codec: 'jpeg', key: true, data: jpeg }));
    await c.closed;
    assert.equal(errorCode(c), 'FW_UNEXPECTED_MESSAGE');
    await othersUnaffected();
  });

  it('WebSocket on another path → 404', async () => {
    await assert.rejects(wsClient(r.base, undefined, '/not-ws'), /HTTP 404/);
  });

  it('ingest body whose part is not a JPEG → 415 FW_NOT_JPEG; a good one → 200 with its frame count', async () => {
    const bad = await request(
      `${r.base}/streams/up`,
      { method: 'PUT', headers: { 'Content-Type': 'multipart/x-mixed-replace; boundary=b' } },
      multipart('b', [jpeg, Buffer.from('GIF89a not a jpeg')]),
    );
    assert.equal(bad.status, 415);
    assert.equal(JSON.parse(bad.body.toString()).error.code, 'FW_NOT_JPEG');
    const notMultipart = await request(`${r.base}/streams/up`, { method: 'POST', headers: { 'Content-Type': 'image/jpeg' } }, jpeg);
    assert.equal(notMultipart.status, 400);
    assert.equal(JSON.parse(notMultipart.body.toString()).error.code, 'FW_BAD_MESSAGE');
    const good = await request(`${r.base}/streams/up`, { method: 'POST' }, multipart('ffmpeg', [jpeg, jpeg, jpeg]));
    assert.equal(good.status, 200, good.body.toString());
    assert.equal(JSON.parse(good.body.toString()).frames, 3);
    await othersUnaffected();
  });

  it('ingest to a stream that already has a publisher → 409 FW_STREAM_BUSY; oversized part → 413', async () => {
    const busy = await request(`${r.base}/streams/cam`, { method: 'POST' }, multipart('x', [jpeg]));
    assert.equal(busy.status, 409);
    assert.equal(JSON.parse(busy.body.toString()).error.code, 'FW_STREAM_BUSY');
    const big = Buffer.concat([jpeg, Buffer.alloc(300 * 1024)]);
    const tooBig = await request(`${r.base}/streams/up2`, { method: 'POST' }, multipart('x', [big]));
    assert.equal(tooBig.status, 413);
    assert.equal(JSON.parse(tooBig.body.toString()).error.code, 'FW_FRAME_TOO_LARGE');
    await othersUnaffected();
  });

  it('client limit: the next WebSocket and MJPEG clients get a clear FW_TOO_MANY_CLIENTS; nobody else is touched', async () => {
    const extra: WsTestClient[] = [];
    // publisher + watcher are 2; fill up to the limit of 12.
    while (r.relay.clientCount < 12) {
      const c = await wsClient(r.base, { role: 'view', stream: 'cam' });
      extra.push(c);
      await c.waitFor((x) => x.messages.some((m) => m.type === 'welcome'));
    }
    const refused = await wsClient(r.base, { role: 'view', stream: 'cam' });
    await refused.closed;
    assert.equal(errorCode(refused), 'FW_TOO_MANY_CLIENTS');
    const mjpeg = await readMjpeg(`${r.base}/streams/cam.mjpg`, 1);
    assert.equal(mjpeg.status, 503);
    assert.equal(JSON.parse(mjpeg.body).error.code, 'FW_TOO_MANY_CLIENTS');
    await othersUnaffected();
    for (const c of extra) c.close();
  });
});

describe('a stalled MJPEG upload', () => {
  it('is closed by the idle timeout once its body stops sending', async () => {
    const r = await startTestRelay({ idleTimeoutMs: 1500 });
    try {
      const jpeg = await (await import('sharp'))
        .default({ create: { width: 32, height: 24, channels: 3, background: '#08f' } })
        .jpeg()
        .toBuffer();
      const url = new URL(`${r.base}/streams/stalled`);
      const net = await import('node:net');
      const sock = net.connect(Number(url.port), url.hostname);
      await new Promise((res) => sock.once('connect', res));
      let reply = '';
      sock.on('data', (d: Buffer) => (reply += d.toString('latin1')));
      sock.on('error', () => undefined);
      sock.write(
        `POST /streams/stalled HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/x-mixed-replace;boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n`,
      );
      const part = Buffer.concat([
        Buffer.from(`--b\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`),
        jpeg,
        Buffer.from('\r\n'),
      ]);
      sock.write(`${part.length.toString(16)}\r\n`);
      sock.write(part);
      sock.write('\r\n');
      // Then nothing more: the uploader is stuck.
      const closed = new Promise<void>((res) => sock.once('close', () => res()));
      await closed;
      assert.match(reply, /FW_TIMEOUT/);
      assert.equal(r.relay.streams().find((s) => s.name === 'stalled')?.live ?? false, false);
    } finally {
      await r.close();
    }
  });
});
