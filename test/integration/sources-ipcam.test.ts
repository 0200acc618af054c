import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import sharp from 'sharp';
import { isFramewireError } from '../../src/errors.js';
import type { EncodedFrame } from '../../src/frame/frame.js';
import { ipCameraSource, splitCredentials, type IpCameraSource } from '../../src/sources/ip-camera.js';
import { openSource } from '../../src/sources/open-source.js';
import { createRelay, publish, testPattern } from '../../src/index.js';
import { freePort, leftoverFfmpeg, noFfmpeg, own, type Owned } from '../helpers/procs.js';

async function jpeg(shade: number): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 48, channels: 3, background: { r: shade, g: 0, b: 0 } } })
    .jpeg()
    .toBuffer();
}

/** Takes `n` frames, or fails after `ms`. */
async function take(src: IpCameraSource, n: number, ms = 8000): Promise<EncodedFrame[]> {
  const out: EncodedFrame[] = [];
  const timer = setTimeout(() => src.close(), ms);
  const it = src[Symbol.asyncIterator]();
  try {
    while (out.length < n) {
      const r = await it.next();
      if (r.done) throw new Error(`source ended after ${out.length} of ${n} frames`);
      out.push(r.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/** A tiny MJPEG server like the phone apps: optional basic auth, multipart or single JPEG. */
function tinyServer(
  pictures: Buffer[],
  opts: { auth?: string; single?: boolean; withLength?: boolean } = {},
): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
  let requests = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    requests++;
    if (opts.auth && req.headers.authorization !== `Basic ${Buffer.from(opts.auth).toString('base64')}`) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="cam"' }).end();
      return;
    }
    if (opts.single) {
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(pictures[requests % pictures.length]);
      return;
    }
    res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=--myboundary' });
    let i = 0;
    const t = setInterval(() => {
      const p = pictures[i++ % pictures.length] as Buffer;
      res.write(`--myboundary\r\nContent-Type: image/jpeg\r\n${opts.withLength === false ? '' : `Content-Length: ${p.length}\r\n`}\r\n`);
      res.write(p);
      res.write('\r\n');
    }, 20);
    timers.add(t);
    res.on('close', () => (clearInterval(t), timers.delete(t)));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({
        url: `http://127.0.0.1:${port}/video`,
        requests: () => requests,
        close: () => {
          for (const t of timers) clearInterval(t);
          server.closeAllConnections();
          return new Promise((r) => server.close(() => r()));
        },
      });
    }),
  );
}

/** Real MJPEG servers the source must read (framewire's own /streams/NAME.mjpg has its own test below). */
const servers: { name: string; skip: string | false; start(port: number): Owned }[] = [
  {
    name: 'ffmpeg -f mpjpeg -listen 1',
    skip: noFfmpeg,
    start: (port) =>
      own(process.env.FFMPEG_PATH || 'ffmpeg', [
        '-hide_banner',
        '-loglevel',
        'error',
        '-re',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=320x240:rate=20',
        '-c:v',
        'mjpeg',
        '-q:v',
        '5',
        '-f',
        'mpjpeg',
        '-listen',
        '1',
        `http://127.0.0.1:${port}/`,
      ]),
  },
];

describe('IP webcam source (HTTP MJPEG)', { timeout: 30_000 }, () => {
  afterEach(async () => assert.deepEqual(await leftoverFfmpeg(), [], 'an ffmpeg server was left behind'));

  it('takes credentials from the URL as basic auth and passes JPEGs through untouched', async () => {
    const pics = [await jpeg(50), await jpeg(200)];
    const srv = await tinyServer(pics, { auth: 'me:s3cr:t' });
    try {
      const url = srv.url.replace('http://', 'http://me:s3cr%3At@');
      const src = openSource(url);
      const frames = await take(src as IpCameraSource, 4);
      src.close();
      for (const f of frames)
        assert.ok(
          pics.some((p) => p.equals(f.data)),
          "the JPEG bytes are the server's",
        );
      assert.deepEqual([frames[0]?.width, frames[0]?.height], [64, 48]);
      assert.deepEqual(src.info, { width: 64, height: 48, fps: 30 });
    } finally {
      await srv.close();
    }
  });

  it('wrong or missing credentials: FW_UNAUTHORIZED, no retry', async () => {
    const srv = await tinyServer([await jpeg(1)], { auth: 'me:pw' });
    try {
      const src = ipCameraSource(srv.url.replace('http://', 'http://me:wrong@'));
      await assert.rejects(src.ready, (e) => isFramewireError(e, 'FW_UNAUTHORIZED'));
      await assert.rejects(take(src, 1), (e) => isFramewireError(e, 'FW_UNAUTHORIZED'));
      assert.equal(srv.requests(), 1);
    } finally {
      await srv.close();
    }
  });

  it('parts without Content-Length; fps caps the rate by skipping, never re-encoding', async () => {
    const srv = await tinyServer([await jpeg(9)], { withLength: false });
    try {
      const src = ipCameraSource(srv.url, { fps: 10 });
      const frames = await take(src, 6);
      src.close();
      const span = ((frames[5] as EncodedFrame).captureUs - (frames[0] as EncodedFrame).captureUs) / 1e6;
      assert.ok(span >= 0.35, `6 frames in ${span.toFixed(2)} s is faster than 10 fps`);
      assert.ok(src.stats().skipped > 0);
    } finally {
      await srv.close();
    }
  });

  it('a single-JPEG URL is polled at --fps', async () => {
    const srv = await tinyServer([await jpeg(1), await jpeg(2)], { single: true });
    try {
      const src = ipCameraSource(srv.url, { fps: 20 });
      const t0 = performance.now();
      await take(src, 11);
      const s = (performance.now() - t0) / 1000;
      src.close();
      assert.ok(s >= 0.4 && s < 2, `11 polls at 20 fps took ${s.toFixed(2)} s`);
    } finally {
      await srv.close();
    }
  });

  it('a server that is down at the start: a coded error, not a hang', async () => {
    const port = await freePort();
    const src = ipCameraSource(`http://127.0.0.1:${port}/`);
    await assert.rejects(src.ready, (e) => isFramewireError(e, 'FW_SOURCE_FAILED') && /ECONNREFUSED/.test(e.message));
    assert.equal(splitCredentials('http://a:b@h/x').url.href, 'http://h/x');
  });

  it("reads framewire's own /streams/NAME.mjpg, and reconnects after that relay restarts on the same port", async () => {
    const port = await freePort();
    const startRelay = async () => {
      const relay = createRelay();
      const tcp = await relay.listenTcp(0, '127.0.0.1');
      await relay.listenHttp(port, '127.0.0.1');
      const pub = await publish(`tcp://127.0.0.1:${tcp.port}/cam`, testPattern({ width: 160, height: 120, fps: 30 }));
      return {
        close: async () => {
          pub.close();
          await relay.close('test over');
        },
      };
    };
    let r = await startRelay();
    const reasons: string[] = [];
    const src = ipCameraSource(`http://127.0.0.1:${port}/streams/cam.mjpg`, {
      backoffMs: { initial: 100, max: 400 },
      onDisconnect: (x) => reasons.push(x),
    });
    try {
      const first = await take(src, 5);
      assert.deepEqual([first[0]?.width, first[0]?.height], [160, 120]);
      await r.close();
      r = await startRelay();
      const more = await take(src, 5);
      assert.deepEqual([more[4]?.width, more[4]?.height], [160, 120]);
      assert.ok(src.stats().connects >= 2, `connects ${src.stats().connects}`);
      assert.ok(reasons.length >= 1, 'the disconnect was reported');
    } finally {
      src.close();
      await r.close();
    }
  });

  for (const server of servers) {
    it(`reads ${server.name}, and reconnects after that server restarts`, { skip: server.skip }, async () => {
      const port = await freePort();
      const s1 = server.start(port);
      const s2ref: { s?: Owned } = {};
      const reasons: string[] = [];
      // ffmpeg takes a moment to listen (longer on a loaded machine), and a source
      // whose first connect is refused fails for good: start sources until one connects.
      let src = ipCameraSource(`http://127.0.0.1:${port}/`, {
        backoffMs: { initial: 100, max: 400 },
        onDisconnect: (r) => reasons.push(r),
      });
      for (let attempt = 0; ; attempt++) {
        try {
          await src.ready;
          break;
        } catch (err) {
          src.close();
          if (attempt >= 40 || !/ECONNREFUSED/.test(String(err))) throw err;
          await new Promise((r) => setTimeout(r, 250));
          src = ipCameraSource(`http://127.0.0.1:${port}/`, {
            backoffMs: { initial: 100, max: 400 },
            onDisconnect: (r) => reasons.push(r),
          });
        }
      }
      try {
        const first = await take(src, 5);
        assert.deepEqual([first[0]?.width, first[0]?.height], [320, 240]);
        await s1.stop();
        s2ref.s = server.start(port);
        const more = await take(src, 5);
        assert.ok(src.stats().connects >= 2, `connects ${src.stats().connects}`);
        assert.ok((more[0] as EncodedFrame).seq > (first[4] as EncodedFrame).seq);
        assert.ok(reasons.length >= 1);
      } finally {
        src.close();
        await s1.stop();
        await s2ref.s?.stop();
      }
    });
  }
});
