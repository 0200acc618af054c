import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { JpegSplitter } from '../../../src/codec/jpeg.js';
import type { EncodedFrame } from '../../../src/frame/frame.js';
import { playerSink, recorderSink } from '../../../src/sinks/ffmpeg-sink.js';
import { alive } from '../../helpers/procs.js';

const STUCK = fileURLToPath(new URL('../../../../test/fixtures/stuck-player.sh', import.meta.url));

/** A frame whose data is a minimal JPEG-shaped blob of `size` bytes (SOI … EOI). */
function frame(seq: number, size: number): EncodedFrame {
  const data = Buffer.alloc(size, 0x11);
  data[0] = 0xff;
  data[1] = 0xd8;
  data[2] = 0xff;
  data[3] = 0xfe; // COM segment covering the body keeps the splitter happy
  data.writeUInt16BE(size - 6, 4);
  data[size - 2] = 0xff;
  data[size - 1] = 0xd9;
  return { seq, captureUs: 0, width: 16, height: 16, codec: 'jpeg', key: true, data };
}

describe('frame sinks: limits and cleanup', () => {
  it('player: a player that stops reading gets the newest frame only (latest-frame-wins, counted); close() kills it after the timeout', async () => {
    const sink = playerSink({ env: { ...process.env, FFPLAY_PATH: STUCK } });
    for (let i = 0; i < 200; i++) sink.write(frame(i, 60_000));
    assert.ok(sink.dropped > 150, `dropped ${sink.dropped}`);
    assert.ok(sink.written < 10, `written ${sink.written}: only what the pipe buffer took`);
    assert.equal(sink.written + sink.dropped + 1, 200, 'every frame written, dropped, or the one waiting');
    const pid = (sink as unknown as { child: { pid: number } }).child.pid;
    const t0 = Date.now();
    await sink.close(300);
    assert.ok(Date.now() - t0 < 3000);
    assert.equal(alive(pid), false, 'the stuck player was killed and reaped');
  });

  it('recorder: a file that falls behind drops frames past maxBacklogBytes, and keeps whole pictures', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fw-sink-'));
    try {
      const file = path.join(dir, 'x.mjpeg');
      const sink = recorderSink(file, { maxBacklogBytes: 256 * 1024 });
      for (let i = 0; i < 100; i++) sink.write(frame(i, 50_000)); // 5 MB at once: far past the backlog limit
      assert.ok(sink.dropped > 0, 'frames past the backlog were dropped');
      assert.equal(sink.written + sink.dropped, 100);
      await sink.close();
      const pics = new JpegSplitter().push(readFileSync(file));
      assert.equal(pics.length, sink.written);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing ffplay is a coded error with how to install it', () => {
    assert.throws(
      () => playerSink({ env: { PATH: '/nonexistent' } }),
      (e: Error & { code?: string }) => e.code === 'FW_FFMPEG_NOT_FOUND' && /ffplay/.test(e.message),
    );
  });
});
