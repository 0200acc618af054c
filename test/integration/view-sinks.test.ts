import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { JpegSplitter, jpegSize } from '../../src/codec/jpeg.js';
import { publish, testPattern, type Publication } from '../../src/index.js';
import { BIN } from '../helpers/cli.js';
import { alive, childrenNamed, noFfmpeg, which } from '../helpers/procs.js';
import { startRelay, until } from '../helpers/relay.js';
import type { Relay } from '../../src/index.js';
import { noXvfb, startXvfb } from '../helpers/xvfb.js';

/** Runs `framewire view …` to its end. */
function view(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { pid: number; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, 'view', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  return { pid: child.pid as number, done };
}

function probe(file: string): { codec_name: string; width: number; height: number; nb_read_frames: string; duration: number } {
  const r = spawnSync(
    'ffprobe',
    ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,width,height,nb_read_frames:format=duration', '-of', 'json', file],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as {
    streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[];
    format: { duration: string };
  };
  return {
    ...(j.streams[0] as { codec_name: string; width: number; height: number; nb_read_frames: string }),
    duration: Number(j.format.duration),
  };
}

describe('view --record and --play', { skip: noFfmpeg, timeout: 60_000 }, () => {
  let relay: Relay;
  let url: string;
  let pub: Publication;
  const dir = mkdtempSync(path.join(tmpdir(), 'fw-sinks-'));
  before(async () => {
    const r = await startRelay();
    relay = r.relay;
    url = r.url('cam');
    pub = await publish(url, testPattern({ width: 320, height: 240, fps: 30 }));
  });
  after(async () => {
    pub?.close();
    await relay?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--record out.mkv: MJPEG copied (no re-encode) with arrival-time timestamps, finished cleanly', async () => {
    const file = path.join(dir, 'out.mkv');
    const { done } = view([url, '--record', file, '--duration', '2']);
    const { code, stderr } = await done;
    assert.equal(code, 0, stderr);
    const n = Number(/recorded (\d+) frames/.exec(stderr)?.[1]);
    assert.ok(n >= 30, `recorded ${n} frames`);
    const p = probe(file);
    assert.equal(p.codec_name, 'mjpeg');
    assert.deepEqual([p.width, p.height], [320, 240]);
    assert.ok(Math.abs(Number(p.nb_read_frames) - n) <= 1, `${p.nb_read_frames} frames in the file, ${n} recorded`);
    // Timestamps are arrival times: the file lasts about as long as the recording, not n / 25 s.
    assert.ok(p.duration > 1.2 && p.duration < 2.8, `duration ${p.duration} s`);
  });

  it('--record out.mjpeg: the JPEGs as received, concatenated, without ffmpeg', async () => {
    const file = path.join(dir, 'out.mjpeg');
    const { code, stderr } = await view([url, '--record', file, '--duration', '1']).done;
    assert.equal(code, 0, stderr);
    const n = Number(/recorded (\d+) frames/.exec(stderr)?.[1]);
    const jpegs = new JpegSplitter().push(readFileSync(file));
    assert.equal(jpegs.length, n);
    assert.ok(n > 10);
    for (const j of jpegs) assert.deepEqual(jpegSize(j), { width: 320, height: 240 });
  });

  it('kill -9 of the viewer: its recording ffmpeg sees its input end, finishes the file and exits (no orphan)', async () => {
    const file = path.join(dir, 'killed.mkv');
    const v = view([url, '--record', file]);
    let rec: number[] = [];
    for (let i = 0; i < 100 && rec.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      rec = childrenNamed('ffmpeg', v.pid);
    }
    assert.equal(rec.length, 1, 'one recording ffmpeg');
    // Killed once the relay has sent it a good 36 frames (1.2 s of the 30 fps pattern), of which at least 10 must be kept.
    await until(() => (relay.viewers('cam') ?? []).some((x) => x.sent >= 36), 'frames to reach the recording viewer', 30_000);
    process.kill(v.pid, 'SIGKILL');
    await v.done;
    const pid = rec[0] as number;
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(alive(pid), false, 'the recorder ffmpeg exited by itself');
    const p = probe(file);
    assert.equal(p.codec_name, 'mjpeg');
    assert.ok(Number(p.nb_read_frames) >= 10, `${p.nb_read_frames} frames kept`);
  });

  it("--record to a place that cannot be written: ffmpeg's error in one line, exit code not 0", async () => {
    const { code, stderr } = await view([url, '--record', path.join(dir, 'no', 'such', 'dir', 'x.mkv'), '--duration', '2']).done;
    assert.notEqual(code, 0);
    assert.match(stderr, /FW_FFMPEG_FAILED|No such file or directory/);
  });

  it('--play shows the stream in an ffplay window (pixels read back from an Xvfb screen); closing the window ends the view', {
    skip: noXvfb || (which('ffplay') ? false : 'ffplay is not installed'),
  }, async () => {
    const x = await startXvfb(640, 480);
    try {
      const v = view([url, '--play'], { ...process.env, DISPLAY: x.display });
      // Wait for ffplay and its first frames.
      let ffplay: number[] = [];
      for (let i = 0; i < 100 && ffplay.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        ffplay = childrenNamed('ffplay', v.pid);
      }
      assert.equal(ffplay.length, 1, 'one ffplay child');
      // Reads the screen back until the test pattern's yellow and magenta bars (0xc0c000, 0xc000c0) are on it.
      let yellow = 0;
      let magenta = 0;
      await until(
        async () => {
          const grab = spawnSync(
            'ffmpeg',
            [
              '-v',
              'error',
              '-f',
              'x11grab',
              '-video_size',
              '640x480',
              '-i',
              x.display,
              '-frames:v',
              '1',
              '-f',
              'image2pipe',
              '-c:v',
              'png',
              '-',
            ],
            { maxBuffer: 1 << 24 },
          );
          assert.equal(grab.status, 0, grab.stderr?.toString());
          const { data, info } = await sharp(grab.stdout).removeAlpha().raw().toBuffer({ resolveWithObject: true });
          yellow = 0;
          magenta = 0;
          for (let i = 0; i < data.length; i += info.channels) {
            const [r, g, b] = [data[i] as number, data[i + 1] as number, data[i + 2] as number];
            if (r > 150 && g > 150 && b < 60) yellow++;
            if (r > 150 && g < 60 && b > 150) magenta++;
          }
          return yellow > 500 && magenta > 500;
        },
        'the pattern on screen',
        20_000,
      ).catch((e: unknown) => {
        if (!/timed out/.test(String(e))) throw e;
      });
      assert.ok(yellow > 500 && magenta > 500, `yellow ${yellow}, magenta ${magenta} pixels on screen`);
      // The user closes the window: the view ends, exit 0.
      process.kill(ffplay[0] as number, 'SIGTERM');
      const { code, stderr } = await v.done;
      assert.equal(code, 0, stderr);
      assert.deepEqual(childrenNamed('ffplay', v.pid), []);
    } finally {
      await x.stop();
    }
  });
});
