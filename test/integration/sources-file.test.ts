import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { isFramewireError } from '../../src/errors.js';
import type { EncodedFrame } from '../../src/frame/frame.js';
import { ffmpegSource } from '../../src/sources/ffmpeg.js';
import { fileSource, openSource } from '../../src/sources/open-source.js';
import { alive, leftoverFfmpeg, noFfmpeg, runFfmpeg } from '../helpers/procs.js';

async function collect(src: AsyncIterable<EncodedFrame>, max = Infinity): Promise<EncodedFrame[]> {
  const out: EncodedFrame[] = [];
  for await (const f of src) {
    out.push(f);
    if (out.length >= max) break;
  }
  return out;
}

describe('file source (ffmpeg)', { skip: noFfmpeg }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fw-file-'));
  const clip = path.join(dir, 'clip.mp4');
  before(async () => {
    // 40 frames of 320x240 at 20 fps: 2 seconds.
    await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=20', '-frames:v', '40', '-c:v', 'mpeg4', '-q:v', '5', clip]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => assert.deepEqual(await leftoverFfmpeg(), [], 'an ffmpeg child was left behind'));

  it('as fast as possible: every frame, in order, at the file size, read from SOF', async () => {
    const src = openSource(clip, { asFastAsPossible: true });
    const frames = await collect(src);
    assert.equal(frames.length, 40);
    frames.forEach((f, i) => {
      assert.equal(f.seq, i);
      assert.equal(f.width, 320);
      assert.equal(f.height, 240);
      assert.equal(f.codec, 'jpeg');
    });
    assert.deepEqual(src.info, { width: 320, height: 240, fps: 30 });
  });

  it('fileSource() is the library form: the same frames, and close() ends it early', async () => {
    const src = fileSource(clip, { asFastAsPossible: true, quality: 50 });
    const frames = await collect(src, 10);
    assert.equal(frames.length, 10);
    assert.ok(frames.every((f, i) => f.seq === i && f.width === 320 && f.height === 240));
    src.close();
    assert.deepEqual(await collect(src), [], 'a closed source yields nothing more');
  });

  it('--size and --fps become scale and fps filters', async () => {
    const frames = await collect(openSource(clip, { asFastAsPossible: true, width: 160, height: 96, fps: 10 }));
    assert.ok(Math.abs(frames.length - 20) <= 1, `got ${frames.length} frames`);
    assert.ok(frames.every((f) => f.width === 160 && f.height === 96));
  });

  it('real-time pacing by default', async () => {
    const t0 = performance.now();
    const frames = await collect(openSource(clip, {}), 11);
    const ms = performance.now() - t0;
    // Frame 10 is due 500 ms after frame 0 at 20 fps.
    assert.equal(frames.length, 11);
    assert.ok(ms >= 400, `11 frames in ${ms.toFixed(0)} ms is faster than real time`);
    const span = ((frames[10] as EncodedFrame).captureUs - (frames[0] as EncodedFrame).captureUs) / 1000;
    assert.ok(span >= 400 && span < 900, `capture span ${span.toFixed(0)} ms`);
  });

  it('--loop loops', async () => {
    const src = openSource(clip, { asFastAsPossible: true, loop: true });
    const frames = await collect(src, 130);
    assert.equal(frames.length, 130);
    await (src as ReturnType<typeof ffmpegSource>).exited;
  });

  it("a bad file gives ffmpeg's error in one line, FW_FFMPEG_FAILED", async () => {
    const junk = path.join(dir, 'junk.mp4');
    writeFileSync(junk, 'this is not a video');
    const src = ffmpegSource({ input: { kind: 'file', path: junk } });
    await assert.rejects(
      collect(src),
      (e) => isFramewireError(e, 'FW_FFMPEG_FAILED') && !e.message.includes('\n') && /Invalid data/.test(e.message),
    );
    await assert.rejects(src.ready, (e) => isFramewireError(e, 'FW_FFMPEG_FAILED'));
    await src.exited;
    assert.ok(src.pid !== undefined && !alive(src.pid));
  });

  it('a missing file or ffmpeg is refused up front', () => {
    assert.throws(
      () => openSource(path.join(dir, 'nope.mp4')),
      (e) => isFramewireError(e, 'FW_BAD_OPTION'),
    );
    assert.throws(
      () => openSource(clip, { env: { PATH: '/nonexistent' } }),
      (e) => isFramewireError(e, 'FW_FFMPEG_NOT_FOUND'),
    );
  });

  it('a slow reader of a file loses no frame (ffmpeg is paused, not dropped)', async () => {
    const src = ffmpegSource({ input: { kind: 'file', path: clip, realtime: false }, queueSize: 2 });
    let n = 0;
    for await (const _ of src) {
      n++;
      if (n % 10 === 0) await new Promise((r) => setTimeout(r, 30));
    }
    assert.equal(n, 40);
    assert.equal(src.stats().dropped, 0);
  });
});
