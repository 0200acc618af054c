import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { MultipartParser, boundaryFromContentType, type MultipartPart } from '../../src/codec/multipart.js';
import { jpegSize } from '../../src/codec/jpeg.js';
import { publishPattern, startTestRelay, type TestRelay } from '../helpers/web.js';

/** An MJPEG client that keeps every part (bounded) and lets the test wait for the next one that matches. */
function mjpegClient(url: string): {
  parts: MultipartPart[];
  next(match: (p: MultipartPart) => boolean, ms?: number): Promise<MultipartPart>;
  close(): void;
} {
  const parts: MultipartPart[] = [];
  const waiters = new Set<() => void>();
  const req = http.get(url, (res) => {
    const parser = new MultipartParser(boundaryFromContentType(res.headers['content-type']) as string);
    res.on('data', (chunk: Buffer) => {
      for (const p of parser.push(chunk)) {
        parts.push({ headers: p.headers, body: Buffer.from(p.body) });
        if (parts.length > 500) parts.shift();
      }
      for (const w of waiters) w();
    });
  });
  req.on('error', () => undefined);
  return {
    parts,
    next(match, ms = 8000) {
      const from = parts.length;
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = parts.slice(Math.min(from, parts.length)).find(match);
          if (!hit) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching MJPEG part within ${ms} ms (${parts.length} parts so far)`));
        }, ms);
        waiters.add(check);
      });
    },
    close: () => req.destroy(),
  };
}

const noLive = (p: MultipartPart): boolean => p.headers['x-no-live-video'] === '1';
const live = (p: MultipartPart): boolean => p.headers['x-frame-seq'] !== undefined;

describe('MJPEG clients while a stream has no publisher', { timeout: 30_000 }, () => {
  let r: TestRelay;
  before(async () => {
    r = await startTestRelay();
  });
  after(async () => r?.close());

  it('get a "no live video" JPEG, then the live frames, then the placeholder again at the last size when the publisher leaves', async () => {
    const c = mjpegClient(`${r.base}/streams/late.mjpg?wait=1`);
    try {
      const first = await c.next(noLive);
      assert.deepEqual(jpegSize(first.body), { width: 640, height: 360 }, 'default size before any frame');
      const pub = await publishPattern(r, 'late', { width: 320, height: 240, fps: 30 });
      const frame = await c.next(live);
      assert.deepEqual(jpegSize(frame.body), { width: 320, height: 240 });
      pub.close();
      const again = await c.next(noLive);
      assert.deepEqual(jpegSize(again.body), { width: 320, height: 240 }, 'the placeholder takes the last frame size');
      // It repeats while nobody publishes, so players keep showing it and proxies see traffic.
      await c.next(noLive, 5000);
    } finally {
      c.close();
    }
  });
});
