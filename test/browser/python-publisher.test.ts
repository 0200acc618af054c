/**
 * The Python client (clients/python) as a publisher, watched by the browser
 * viewer page (headless Chromium, over WebSocket) and by the Node library's
 * subscribe(). Skips, saying so, where Chromium or Python with OpenCV is absent.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { subscribe } from '../../src/index.js';
import { until } from '../helpers/relay.js';
import { CHROMIUM, CHROMIUM_ARGS, PYTHON, hasChromium, hasCv2, skipUnless, startTestRelay, type TestRelay } from '../helpers/web.js';

const SCRIPT = fileURLToPath(new URL('../../../clients/python/tests/pattern_publisher.py', import.meta.url));
const skip = skipUnless(hasChromium(), 'chromium (/usr/bin/chromium)') || skipUnless(hasCv2(), 'python3 with OpenCV (python3-opencv)');

/** A checksum of the viewer canvas's pixels (read through a 2D copy), and whether any pixel is lit. */
const CANVAS_SUM = `(() => {
  const c = document.getElementById('video');
  const cx = Object.assign(document.createElement('canvas'), { width: c.width, height: c.height }).getContext('2d');
  cx.drawImage(c, 0, 0);
  let sum = 0, lit = false;
  for (const v of cx.getImageData(0, 0, c.width, c.height).data) { sum = (sum * 31 + v) >>> 0; lit ||= v > 0 && v < 255; }
  return [sum, lit];
})()`;

describe('a Python publisher watched by the browser page and by subscribe()', { skip, timeout: 90_000 }, () => {
  let r: TestRelay;
  let py: ChildProcess;
  let pyOut = '';
  let pyErr = '';
  let browser: Browser;

  before(async () => {
    r = await startTestRelay();
    py = spawn(PYTHON, [SCRIPT, `tcp://127.0.0.1:${r.tcpPort}/pycam`, '30', '320x240'], { stdio: ['ignore', 'pipe', 'pipe'] });
    py.stdout?.on('data', (d: Buffer) => (pyOut += d.toString()));
    py.stderr?.on('data', (d: Buffer) => (pyErr = (pyErr + d.toString()).slice(-5000)));
    await until(() => pyOut.includes('"ready": true') || py.exitCode !== null, 'the Python publisher to be welcomed', 20_000);
    assert.ok(pyOut.includes('"ready": true'), `the Python publisher did not start: ${pyErr}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    py?.kill('SIGKILL');
    await r?.close();
  });

  it('the viewer page shows its frames, changing, at its size', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${r.base}/view?stream=pycam`);
    await page.waitForFunction(`Number(document.getElementById('stat-fps')?.textContent) >= 5`, undefined, { timeout: 20_000 });
    assert.equal(await page.locator('#stat-size').textContent(), '320×240');
    const [first, lit] = (await page.evaluate(CANVAS_SUM)) as [number, boolean];
    assert.ok(lit, 'the canvas shows a picture');
    // Wait for the picture to change (the bar moves every frame) rather than for a fixed time.
    await page.waitForFunction(`(${CANVAS_SUM})[0] !== ${first}`, undefined, { timeout: 10_000 });
    const stats = (await page.evaluate('window.framewire.stats()')) as Record<string, unknown>;
    process.stdout.write(`# browser viewer of the Python publisher: ${JSON.stringify(stats)}\n`);
    assert.equal(stats.decodeErrors, 0, 'every JPEG the Python client made decodes in the browser');
    assert.ok(Number(stats.displayed) > 0);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('subscribe() gets its frames in order, JPEG, with nothing lost', async () => {
    const sub = subscribe(`ws://127.0.0.1:${r.httpPort}/pycam`);
    const seqs: number[] = [];
    for await (const frame of sub) {
      assert.deepEqual([frame.width, frame.height, frame.codec, frame.data[0], frame.data[1]], [320, 240, 'jpeg', 0xff, 0xd8]);
      seqs.push(frame.seq);
      if (seqs.length === 30) break;
    }
    for (let i = 1; i < seqs.length; i++) assert.ok((seqs[i] as number) > (seqs[i - 1] as number), 'seq increases');
    assert.equal(sub.stats().framesLost, 0);
  });

  it('leaves with a bye and reports what it sent', async () => {
    const left = new Promise<string>((resolve) =>
      r.relay.on('disconnect', (d) => {
        if (d.role === 'publish') resolve(d.reason);
      }),
    );
    const exited = new Promise<number | null>((resolve) => py.once('exit', (code) => resolve(code)));
    py.kill('SIGTERM');
    assert.equal(await exited, 0, pyErr);
    assert.equal(await left, 'peer said bye: publisher closing');
    const last = JSON.parse(pyOut.trim().split('\n').pop() as string) as { frames_sent: number; connects: number };
    assert.ok(last.frames_sent > 0);
    assert.equal(last.connects, 1);
  });
});
