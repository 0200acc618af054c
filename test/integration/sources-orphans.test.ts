import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, it } from 'node:test';
import { ffmpegSource } from '../../src/sources/ffmpeg.js';
import { alive, leftoverFfmpeg, noFfmpeg, waitDead } from '../helpers/procs.js';

const parentScript = fileURLToPath(new URL('../helpers/ffmpeg-parent.js', import.meta.url));
const live = { kind: 'args' as const, args: ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30'] };

/** Starts the helper parent; resolves with it and the pid of the ffmpeg it started. */
function startParent(
  mode: string,
): Promise<{ parent: ReturnType<typeof spawn>; ffmpeg: number; exit: Promise<{ code: number | null; signal: string | null }> }> {
  const parent = spawn(process.execPath, [parentScript, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = new Promise<{ code: number | null; signal: string | null }>((r) =>
    parent.once('close', (code, signal) => r({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    let out = '';
    parent.stderr?.resume();
    parent.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) resolve({ parent, ffmpeg: Number(m[1]), exit });
    });
    parent.once('close', () => reject(new Error(`parent ended before ready: ${out}`)));
  });
}

describe('no orphan ffmpeg, on every exit path', { skip: noFfmpeg }, () => {
  afterEach(async () => assert.deepEqual(await leftoverFfmpeg(), [], 'an ffmpeg child was left behind'));

  it('close() kills and reaps the child', async () => {
    const src = ffmpegSource({ input: live });
    await src.ready;
    assert.ok(src.pid && alive(src.pid));
    src.close();
    src.close();
    await src.exited;
    assert.ok(!alive(src.pid));
  });

  it('breaking out of for-await kills and reaps the child', async () => {
    const src = ffmpegSource({ input: live });
    for await (const _ of src) break;
    await src.exited;
    assert.ok(src.pid && !alive(src.pid));
  });

  it('close() before the first frame', async () => {
    const src = ffmpegSource({ input: live });
    src.close();
    await src.exited;
    assert.ok(src.pid && !alive(src.pid));
  });

  it('ffmpeg failing is reaped, and the error ends the iteration', async () => {
    const src = ffmpegSource({ input: { kind: 'args', args: ['-f', 'lavfi', '-i', 'nosuchfilter'] } });
    await assert.rejects(src.ready, /FW_FFMPEG_FAILED|No such filter/);
    await src.exited;
    assert.ok(src.pid && !alive(src.pid));
  });

  for (const mode of ['exit', 'throw']) {
    it(`parent process ${mode === 'exit' ? 'calls process.exit()' : 'dies of an uncaught exception'}: its exit handler kills ffmpeg`, async () => {
      const { ffmpeg, exit } = await startParent(mode);
      await exit;
      assert.ok(await waitDead(ffmpeg, 3000), `ffmpeg ${ffmpeg} survived its parent`);
    });
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`parent gets ${signal}: ffmpeg is killed and the parent still dies of the signal`, async () => {
      const { parent, ffmpeg, exit } = await startParent('wait');
      parent.kill(signal);
      const how = await exit;
      assert.equal(how.signal, signal, 'the default signal behaviour is kept');
      assert.ok(await waitDead(ffmpeg, 3000), `ffmpeg ${ffmpeg} survived its parent`);
    });
  }

  it('parent is kill -9ed: ffmpeg exits by itself when its stdout pipe closes', async () => {
    const { parent, ffmpeg, exit } = await startParent('kill9');
    assert.ok(alive(ffmpeg));
    parent.kill('SIGKILL');
    await exit;
    const t0 = performance.now();
    assert.ok(await waitDead(ffmpeg, 5000), `ffmpeg ${ffmpeg} survived kill -9 of its parent`);
    console.log(`# ffmpeg exited ${(performance.now() - t0).toFixed(0)} ms after its parent was SIGKILLed`);
  });
});
