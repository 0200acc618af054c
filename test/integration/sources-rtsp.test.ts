import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { EncodedFrame } from '../../src/frame/frame.js';
import type { FfmpegSource } from '../../src/sources/ffmpeg.js';
import { openSource } from '../../src/sources/open-source.js';
import { alive, leftoverFfmpeg, noFfmpeg } from '../helpers/procs.js';
import { startRtspServer } from '../helpers/rtsp-server.js';

describe('RTSP source (ffmpeg RTSP client, H.264 from ffmpeg over RTP/TCP)', { skip: noFfmpeg, timeout: 30_000 }, () => {
  afterEach(async () => assert.deepEqual(await leftoverFfmpeg(), [], 'an ffmpeg child was left behind'));

  it('plays rtsp://, decodes H.264 in ffmpeg and yields JPEGs at the requested size', async () => {
    const server = await startRtspServer();
    const src = openSource(server.url, { width: 160, height: 120, fps: 10 }) as FfmpegSource;
    try {
      await src.ready;
      const frames: EncodedFrame[] = [];
      for await (const f of src) {
        frames.push(f);
        if (frames.length === 5) break;
      }
      assert.ok(frames.every((f) => f.width === 160 && f.height === 120 && f.data[0] === 0xff && f.data[1] === 0xd8));
      await src.exited;
      assert.ok(src.pid !== undefined && !alive(src.pid));
    } finally {
      src.close();
      await server.stop();
    }
  });

  it('a dead RTSP address fails with ffmpeg\'s one-line error', async () => {
    const src = openSource('rtsp://127.0.0.1:1/none') as FfmpegSource;
    await assert.rejects(src.ready, (e: Error & { code?: string }) => e.code === 'FW_FFMPEG_FAILED' && /Connection refused/i.test(e.message) && !e.message.includes('\n'));
    await src.exited;
  });
});
