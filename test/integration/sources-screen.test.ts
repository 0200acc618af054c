import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { publish } from '../../src/client/publish.js';
import { subscribe, type Subscription } from '../../src/client/subscribe.js';
import type { EncodedFrame } from '../../src/frame/frame.js';
import { createRelay, type Relay } from '../../src/relay/relay.js';
import { openSource } from '../../src/sources/open-source.js';
import { ffmpegChildren, leftoverFfmpeg, noFfmpeg, waitDead } from '../helpers/procs.js';
import { noXvfb, startXvfb, type Xvfb } from '../helpers/xvfb.js';

const cli = fileURLToPath(new URL('../../../bin/framewire.js', import.meta.url));

/** Mean RGB of 8x8 pixels around (¼, ¼): away from the X cursor, which sits at the centre. */
async function centre(frame: EncodedFrame): Promise<[number, number, number]> {
  const { data, info } = await sharp(frame.data).raw().toBuffer({ resolveWithObject: true });
  const sum = [0, 0, 0];
  for (let y = info.height / 4 - 4; y < info.height / 4 + 4; y++) {
    for (let x = info.width / 4 - 4; x < info.width / 4 + 4; x++) {
      for (let c = 0; c < 3; c++) (sum[c] as number) += data[(Math.floor(y) * info.width + Math.floor(x)) * info.channels + c] as number;
    }
  }
  return sum.map((v) => Math.round(v / 64)) as [number, number, number];
}

function near(got: [number, number, number], want: [number, number, number], tol = 12): boolean {
  return got.every((v, i) => Math.abs(v - (want[i] as number)) <= tol);
}

/** Reads frames until one's centre is `want` (colour changes take a frame or two to show). */
async function waitColour(sub: Subscription, want: [number, number, number], ms = 5000): Promise<EncodedFrame> {
  let last: [number, number, number] | undefined;
  let timedOut = false;
  const it = sub[Symbol.asyncIterator]();
  const timer = setTimeout(() => {
    timedOut = true;
    sub.close();
  }, ms);
  try {
    for (;;) {
      const r = await it.next();
      if (r.done || timedOut) break;
      last = await centre(r.value);
      if (near(last, want)) return r.value;
    }
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`never saw ${want} within ${ms} ms; last centre ${last}`);
}

describe('screen source (x11grab on Xvfb) through the relay', { skip: noFfmpeg || noXvfb, timeout: 30_000 }, () => {
  let x: Xvfb;
  let relay: Relay;
  let port: number;
  before(async () => {
    x = await startXvfb(320, 240);
    relay = createRelay();
    port = (await relay.listenTcp(0)).port;
  });
  after(async () => {
    await relay.close();
    await x.stop();
  });
  afterEach(async () => assert.deepEqual(await leftoverFfmpeg(), [], 'an ffmpeg child was left behind'));

  it('frames received by a viewer have the colour on screen, and follow it when it changes', async () => {
    x.fill('#ff0000');
    const src = openSource(`screen:${x.display}`, { width: 160, height: 120, fps: 15, quality: 90 });
    await src.ready;
    assert.deepEqual([src.info.width, src.info.height], [160, 120]);
    const pub = await publish(`tcp://127.0.0.1:${port}/desk`, src, { reconnect: false });
    const sub = subscribe(`tcp://127.0.0.1:${port}/desk`, { reconnect: false });
    try {
      const red = await waitColour(sub, [255, 0, 0]);
      assert.deepEqual([red.width, red.height], [160, 120]);
      x.fill('#0040c0');
      await waitColour(sub, [0, 0x40, 0xc0]);
    } finally {
      sub.close();
      pub.close();
      await pub.done.catch(() => undefined);
    }
  });

  it('the CLI publishes the screen; SIGINT stops it and its ffmpeg', async () => {
    x.fill('#00c000');
    const p = spawn(
      process.execPath,
      [cli, 'publish', `tcp://127.0.0.1:${port}/cli`, '--source', `screen:${x.display}`, '--size', '160x120', '--fps', '10'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    p.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    const exit = new Promise<number | null>((r) => p.once('close', (code) => r(code)));
    const sub = subscribe(`tcp://127.0.0.1:${port}/cli`, { reconnect: false });
    try {
      await waitColour(sub, [0, 0xc0, 0], 8000);
      const kids = ffmpegChildren(p.pid);
      assert.equal(kids.length, 1, 'the CLI runs one ffmpeg');
      p.kill('SIGINT');
      assert.equal(await exit, 0, err);
      // SIGKILL is sent before the CLI exits; on a loaded machine the kernel may need a moment to finish it.
      for (const k of kids) assert.ok(await waitDead(k, 2000), `ffmpeg ${k} outlived the CLI`);
      assert.match(err, /publishing 160x120/);
    } finally {
      sub.close();
      p.kill('SIGKILL');
    }
  });
});
