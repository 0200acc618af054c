import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, it } from 'node:test';
import type { EncodedFrame } from '../../src/frame/frame.js';
import type { FfmpegSource } from '../../src/sources/ffmpeg.js';
import { openSource } from '../../src/sources/open-source.js';
import { alive, freePort, leftoverFfmpeg, noFfmpeg } from '../helpers/procs.js';
import { startRtspServer } from '../helpers/rtsp-server.js';

const PYTHON = '/usr/bin/python3';
const GST_SERVER = fileURLToPath(new URL('../../../test/fixtures/gst_rtsp_server.py', import.meta.url));
const GST_CHECK =
  "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import Gst, GstRtspServer; Gst.init(None); assert Gst.ElementFactory.find('x264enc')";
const noGst: string | false =
  spawnSync(PYTHON, ['-c', GST_CHECK], { stdio: 'ignore', timeout: 20_000 }).status === 0
    ? false
    : 'GStreamer RTSP server not installed (apt install gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp python3-gi gstreamer1.0-plugins-ugly)';

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

  it('plays a GStreamer RTSP server (gst-rtsp-server, H.264, RTP over TCP), the kind IP cameras run', { skip: noGst }, async () => {
    const port = await freePort();
    const gst = spawn(PYTHON, [GST_SERVER, String(port), '320x240', '15'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    gst.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        gst.stdout.on('data', (c: Buffer) => {
          const m = /ready (\S+)/.exec(c.toString());
          if (m) resolve(m[1] as string);
        });
        gst.on('exit', (code) => reject(new Error(`gst-rtsp-server exited ${code}: ${err}`)));
      });
      const src = openSource(url, { width: 320, height: 240, fps: 15 }) as FfmpegSource;
      try {
        await src.ready;
        const frames: EncodedFrame[] = [];
        for await (const f of src) {
          frames.push(f);
          if (frames.length === 15) break;
        }
        assert.ok(frames.every((f) => f.width === 320 && f.height === 240 && f.data[0] === 0xff && f.data[1] === 0xd8));
        assert.ok(
          frames.some((f, i) => i > 0 && !Buffer.from(f.data).equals((frames[i - 1] as EncodedFrame).data)),
          'the picture moves',
        );
      } finally {
        src.close();
        await src.exited;
      }
    } finally {
      gst.stdin.end();
      gst.kill('SIGTERM');
      await new Promise((r) => (gst.exitCode !== null || gst.signalCode !== null ? r(undefined) : gst.once('exit', r)));
    }
  });

  it("a dead RTSP address fails with ffmpeg's one-line error", async () => {
    const src = openSource('rtsp://127.0.0.1:1/none') as FfmpegSource;
    await assert.rejects(
      src.ready,
      (e: Error & { code?: string }) => e.code === 'FW_FFMPEG_FAILED' && /Connection refused/i.test(e.message) && !e.message.includes('\n'),
    );
    await src.exited;
  });
});
