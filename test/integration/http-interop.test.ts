import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { subscribe, type Publication } from '../../src/index.js';
import { PYTHON, hasCv2, hasFfmpeg, publishPattern, run, skipUnless, startTestRelay, type TestRelay } from '../helpers/web.js';

const noFfmpeg = skipUnless(hasFfmpeg(), 'ffmpeg');
const noCv2 = skipUnless(hasCv2(), 'python3-opencv (cv2 for /usr/bin/python3)');

describe('interop with third-party clients', { timeout: 120_000 }, () => {
  let r: TestRelay;
  let pub: Publication;

  before(async () => {
    r = await startTestRelay();
    pub = await publishPattern(r, 'cam', { width: 640, height: 360, fps: 30 });
  });
  after(async () => {
    pub?.close();
    await r?.close();
  });

  it('ffmpeg reads /streams/NAME.mjpg and decodes at least 60 frames', { skip: noFfmpeg }, async () => {
    const { done } = run(
      'ffmpeg',
      ['-hide_banner', '-loglevel', 'error', '-i', `${r.base}/streams/cam.mjpg`, '-frames:v', '60', '-f', 'framemd5', '-'],
      30_000,
    );
    const res = await done;
    assert.equal(res.code, 0, res.stderr);
    const frames = res.stdout.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.ok(frames.length >= 60, `ffmpeg decoded ${frames.length} frames`);
    assert.ok(new Set(frames.map((l) => l.split(',').pop())).size > 30, 'the decoded pictures differ');
  });

  it('ffmpeg publishes to the MJPEG ingest and a framewire viewer receives its frames', { skip: noFfmpeg }, async () => {
    const sub = subscribe(`tcp://127.0.0.1:${r.tcpPort}/ff`);
    await sub.ready;
    const { done } = run(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-re',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=320x240:rate=30',
        '-t',
        '4',
        '-pix_fmt',
        'yuvj420p',
        '-c:v',
        'mjpeg',
        '-q:v',
        '5',
        '-f',
        'mpjpeg',
        `${r.base}/streams/ff`,
      ],
      30_000,
    );
    let frames = 0;
    let size = '';
    let lastSeq = -1;
    let ordered = true;
    const reading = (async () => {
      for await (const f of sub) {
        frames++;
        size = `${f.width}x${f.height}`;
        if (f.seq <= lastSeq) ordered = false;
        lastSeq = f.seq;
        if (frames >= 60) break;
      }
    })();
    const res = await done;
    assert.equal(res.code, 0, res.stderr);
    await Promise.race([reading, new Promise((resolve) => setTimeout(resolve, 2000))]);
    sub.close();
    assert.ok(frames >= 60, `the viewer received ${frames} frames`);
    assert.equal(size, '320x240');
    assert.ok(ordered);
  });

  it('OpenCV VideoCapture reads /streams/NAME.mjpg', { skip: noCv2 }, async () => {
    const script = [
      'import sys, cv2',
      'cap = cv2.VideoCapture(sys.argv[1])',
      'ok = cap.isOpened()',
      'n = 0; shape = None; sums = set()',
      'while ok and n < 30:',
      '    ok, img = cap.read()',
      '    if not ok: break',
      '    n += 1; shape = img.shape; sums.add(int(img.sum()))',
      'print(n, shape[1] if shape else 0, shape[0] if shape else 0, len(sums))',
    ].join('\n');
    const { done } = run(PYTHON, ['-c', script, `${r.base}/streams/cam.mjpg`], 60_000);
    const res = await done;
    assert.equal(res.code, 0, res.stderr);
    const [n, w, h, distinct] = res.stdout.trim().split(/\s+/).map(Number);
    assert.equal(n, 30, res.stdout + res.stderr);
    assert.equal(w, 640);
    assert.equal(h, 360);
    assert.ok((distinct ?? 0) > 10, 'OpenCV decoded changing pictures');
  });
});
