import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { afterEach, describe, it } from 'node:test';
import type { FfmpegSource } from '../../src/sources/ffmpeg.js';
import { openSource } from '../../src/sources/open-source.js';
import { leftoverFfmpeg, noFfmpeg } from '../helpers/procs.js';

const devices = existsSync('/dev') ? readdirSync('/dev').filter((d) => /^video\d+$/.test(d)) : [];
const noCamera =
  process.platform !== 'linux'
    ? `camera capture is only exercised on Linux here (platform ${process.platform}); argument building for every OS is unit-tested`
    : devices.length === 0
      ? 'no v4l2 device (/dev/video*) on this machine: real camera capture NOT tested; argument building for every OS is unit-tested'
      : false;

describe('camera source (v4l2)', { timeout: 20_000 }, () => {
  afterEach(async () => assert.deepEqual(await leftoverFfmpeg(), []));

  it(`captures from /dev/${devices[0] ?? 'video0'}`, { skip: noFfmpeg || noCamera }, async () => {
    const src = openSource('camera:0', { width: 640, height: 480, fps: 15 }) as FfmpegSource;
    try {
      await src.ready;
      for await (const f of src) {
        assert.ok(f.width > 0 && f.height > 0);
        break;
      }
    } finally {
      src.close();
      await src.exited;
    }
  });

  it("a missing device fails with ffmpeg's one-line error (FW_FFMPEG_FAILED)", {
    skip: noFfmpeg || process.platform !== 'linux',
  }, async () => {
    const src = openSource('camera:/dev/video-framewire-none') as FfmpegSource;
    await assert.rejects(
      src.ready,
      (e: Error & { code?: string }) =>
        e.code === 'FW_FFMPEG_FAILED' && /No such file or directory/.test(e.message) && !e.message.includes('\n'),
    );
    await src.exited;
  });
});
