import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { jpegSize } from '../../src/codec/jpeg.js';
import type { Publication } from '../../src/index.js';
import { until } from '../helpers/relay.js';
import { publishPattern, readMjpeg, request, startTestRelay, wsClient, type TestRelay } from '../helpers/web.js';

describe('relay HTTP port', { timeout: 60_000 }, () => {
  let r: TestRelay;
  let pub: Publication;

  before(async () => {
    r = await startTestRelay();
    pub = await publishPattern(r, 'cam', { width: 320, height: 240, fps: 30 });
    // The figures below need frames in the relay's last-second window.
    await until(() => (r.relay.streams().find((s) => s.name === 'cam')?.fps ?? 0) > 0, 'frames at the relay');
  });
  after(async () => {
    pub?.close();
    await r?.close();
  });

  it('GET /api/streams lists live streams with the UI figures', async () => {
    const res = await request(`${r.base}/api/streams`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /application\/json/);
    const body = JSON.parse(res.body.toString()) as {
      streams: {
        name: string;
        live: boolean;
        width: number;
        height: number;
        fps: number;
        kbps: number;
        viewers: number;
        uptimeS: number;
      }[];
    };
    const cam = body.streams.find((s) => s.name === 'cam');
    assert.ok(cam?.live);
    assert.equal(cam.width, 320);
    assert.equal(cam.height, 240);
    assert.ok(cam.fps > 0 && cam.kbps > 0);
    assert.equal(cam.viewers, 0, 'nobody watches yet');
    assert.ok(Number.isInteger(cam.uptimeS) && cam.uptimeS >= 0 && cam.uptimeS <= Math.ceil(process.uptime()), `uptimeS ${cam.uptimeS}`);
  });

  it('GET /streams/NAME.jpg returns the newest frame; unknown streams are 404 with a code', async () => {
    const res = await request(`${r.base}/streams/cam.jpg`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'image/jpeg');
    assert.deepEqual(jpegSize(res.body), { width: 320, height: 240 });
    assert.ok(res.headers['x-timestamp']);
    const missing = await request(`${r.base}/streams/nope.jpg`);
    assert.equal(missing.status, 404);
    assert.equal(JSON.parse(missing.body.toString()).error.code, 'FW_NOT_FOUND');
    const mjpg = await request(`${r.base}/streams/nope.mjpg`);
    assert.equal(mjpg.status, 404);
    assert.equal(JSON.parse(mjpg.body.toString()).error.code, 'FW_NOT_FOUND');
  });

  it('GET /streams/NAME.mjpg streams whole JPEG parts, honouring ?fps=', async () => {
    const got = await readMjpeg(`${r.base}/streams/cam.mjpg`, 20);
    assert.equal(got.status, 200);
    assert.match(got.contentType, /^multipart\/x-mixed-replace;\s*boundary=/);
    assert.equal(got.jpegs.length, 20);
    for (const j of got.jpegs) assert.deepEqual(jpegSize(j), { width: 320, height: 240 });
    const t0 = Date.now();
    const capped = await readMjpeg(`${r.base}/streams/cam.mjpg?fps=5`, 6);
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(capped.jpegs.length, 6);
    assert.ok(seconds > 0.8, `6 frames at 5 fps took ${seconds.toFixed(2)} s`);
  });

  it('serves the web UI and refuses path traversal', async () => {
    for (const p of ['/', '/view', '/publish', '/style.css', '/assets/view.js']) {
      const res = await request(`${r.base}${p}`);
      assert.equal(res.status, 200, p);
    }
    assert.match(String((await request(`${r.base}/assets/view.js`)).headers['content-type']), /javascript/);
    for (const p of [
      '/../package.json',
      '/..%2f..%2fpackage.json',
      '/assets/..%2f..%2f..%2fpackage.json',
      '/%2e%2e/%2e%2e/src/index.ts',
      '/.hidden',
      '/assets/%00x',
    ]) {
      const res = await rawGet(r.httpPort, p);
      assert.match(res, /^HTTP\/1\.1 404/, `${p}: ${res.slice(0, 40)}`);
      assert.match(res, /FW_NOT_FOUND/);
    }
  });

  it('WebSocket viewers speak the native protocol: hello → welcome, frames, stats', async () => {
    const c = await wsClient(r.base, { role: 'view', stream: 'cam' });
    await c.waitFor((x) => x.frames >= 10);
    assert.equal(c.messages[0]?.type, 'welcome');
    const f = c.messages.find((m) => m.type === 'frame');
    assert.ok(f && f.type === 'frame');
    assert.equal(f.frame.width, 320);
    assert.ok(jpegSize(f.frame.data));
    const v = r.relay.viewers('cam');
    assert.ok(v?.some((x) => x.sent >= 10));
    c.close();
  });

  it('answers unknown routes and wrong methods with coded errors', async () => {
    const res = await request(`${r.base}/nothing-here`);
    assert.equal(res.status, 404);
    const del = await request(`${r.base}/streams/cam.mjpg`, { method: 'DELETE' });
    assert.equal(del.status, 405);
    const bad = await request(`${r.base}/streams/${encodeURIComponent('bad name!')}.mjpg`);
    assert.equal(bad.status, 400);
  });
});

describe('relay HTTP port with --token', { timeout: 30_000 }, () => {
  let r: TestRelay;
  let pub: Publication;
  before(async () => {
    r = await startTestRelay({ token: 's3cret' });
    pub = await publishPattern(r, 'cam', { token: 's3cret' });
    await until(() => r.relay.latestFrame('cam') !== undefined, 'a first frame at the relay');
  });
  after(async () => {
    pub?.close();
    await r?.close();
  });

  it('applies to MJPEG, snapshot, API (header or query) and WebSocket', async () => {
    assert.equal((await request(`${r.base}/streams/cam.mjpg`)).status, 401);
    assert.equal((await request(`${r.base}/streams/cam.mjpg?token=wrong`)).status, 401);
    assert.equal((await request(`${r.base}/streams/cam.jpg`)).status, 401);
    assert.equal((await request(`${r.base}/api/streams`)).status, 401);
    assert.equal(JSON.parse((await request(`${r.base}/api/streams`)).body.toString()).error.code, 'FW_UNAUTHORIZED');
    assert.equal((await request(`${r.base}/api/streams`, { headers: { Authorization: 'Bearer s3cret' } })).status, 200);
    assert.equal((await request(`${r.base}/streams/cam.jpg?token=s3cret`)).status, 200);
    const ok = await readMjpeg(`${r.base}/streams/cam.mjpg?token=s3cret`, 3);
    assert.equal(ok.jpegs.length, 3);
    const ingest = await request(
      `${r.base}/streams/up`,
      { method: 'POST', headers: { 'Content-Type': 'multipart/x-mixed-replace;boundary=x' } },
      '--x\r\n\r\n',
    );
    assert.equal(ingest.status, 401);

    const noToken = await wsClient(r.base, { role: 'view', stream: 'cam' });
    await noToken.waitFor((x) => x.messages.some((m) => m.type === 'error'));
    const err = noToken.messages.find((m) => m.type === 'error');
    assert.ok(err?.type === 'error' && err.body.code === 'FW_UNAUTHORIZED');
    await noToken.closed;
    await assert.rejects(wsClient(`${r.base}`, undefined, '/ws?token=wrong'), /HTTP 401/);
    const good = await wsClient(r.base, { role: 'view', stream: 'cam', token: 's3cret' });
    await good.waitFor((x) => x.frames >= 3);
    good.close();
  });
});

/** A raw GET that keeps the path exactly as given (no client-side normalisation). */
function rawGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}
