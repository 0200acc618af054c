import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { createRelay, type Publication } from '../../src/index.js';
import { CHROMIUM, CHROMIUM_ARGS, hasChromium, publishPattern, skipUnless, startTestRelay, type TestRelay } from '../helpers/web.js';

const skip = skipUnless(hasChromium(), 'chromium (/usr/bin/chromium)');
/** A page predicate: the overlay's fps is at least `n`. */
const fpsAtLeast = (n: number): string => `Number(document.getElementById('stat-fps')?.textContent) >= ${n}`;

/** Samples every 997th pixel of the viewer canvas (through a 2D copy). */
const SAMPLE_CANVAS = `(() => {
  const c = document.getElementById('video');
  const copy = document.createElement('canvas');
  copy.width = c.width; copy.height = c.height;
  const cx = copy.getContext('2d');
  cx.drawImage(c, 0, 0);
  const d = cx.getImageData(0, 0, c.width, c.height).data;
  const out = [];
  for (let i = 0; i < d.length; i += 4 * 997) out.push(d[i], d[i + 1], d[i + 2]);
  return out;
})()`;

const ARTIFACTS = new URL('../../../test-artifacts/', import.meta.url);

describe('web UI in headless Chromium', { skip, timeout: 90_000 }, () => {
  let r: TestRelay;
  let pub: Publication;
  let browser: Browser;

  before(async () => {
    r = await startTestRelay();
    pub = await publishPattern(r, 'cam', { width: 640, height: 360, fps: 30 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    pub?.close();
    await r?.close();
  });

  it('lists the stream, opens the viewer, shows changing frames and live figures', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${r.base}/`);
    const card = page.locator('a.card[data-stream="cam"]');
    await card.waitFor({ timeout: 10_000 });
    await page.waitForFunction(`document.querySelector('a.card[data-stream="cam"] [data-k="res"]')?.textContent === '640×360'`, undefined, {
      timeout: 10_000,
    });
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('index.png', ARTIFACTS).pathname });

    await card.click();
    await page.waitForURL(/\/view\?stream=cam/);
    await page.waitForFunction(fpsAtLeast(20), undefined, { timeout: 15_000 });

    // The canvas pixels change between two reads half a second apart.
    const sample = (): Promise<number[]> => page.evaluate(SAMPLE_CANVAS) as Promise<number[]>;
    const a = await sample();
    await page.waitForTimeout(500);
    const b = await sample();
    assert.ok(
      a.some((v) => v > 0),
      'the canvas shows a picture',
    );
    assert.ok(
      a.some((v, i) => Math.abs(v - (b[i] as number)) > 8),
      'the picture changes',
    );

    const fps = Number(await page.locator('#stat-fps').textContent());
    const size = await page.locator('#stat-size').textContent();
    assert.ok(fps >= 20, `overlay fps ${fps}`);
    assert.equal(size, '640×360');
    assert.equal(await page.locator('#banner').isHidden(), true, 'no "no live video" banner while live');
    await page.screenshot({ path: new URL('viewer.png', ARTIFACTS).pathname });
    const stats = (await page.evaluate('window.framewire.stats()')) as Record<string, unknown>;
    process.stdout.write(`# viewer page: ${JSON.stringify(stats)}\n`);
    // Over a WebSocket nothing is lost on the wire: every gap is a skip the relay or the page chose, and says so.
    assert.equal(stats.lost, 0, 'frames lost over a WebSocket');
    assert.equal(await page.locator('#stat-lost').textContent(), '0');
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('shows "no live video" while the publisher is away and recovers when it returns', async () => {
    const page = await browser.newPage();
    await page.goto(`${r.base}/view?stream=cam`);
    await page.waitForFunction(fpsAtLeast(6), undefined, { timeout: 15_000 });
    pub.close();
    await page.locator('#banner').waitFor({ state: 'visible', timeout: 10_000 });
    assert.match((await page.locator('#banner').textContent()) ?? '', /NO LIVE VIDEO/);
    pub = await publishPattern(r, 'cam', { width: 640, height: 360, fps: 30 });
    await page.locator('#banner').waitFor({ state: 'hidden', timeout: 10_000 });
    await page.close();
  });

  it('publishes from the browser (test pattern) over WebSocket', async () => {
    const page = await browser.newPage();
    await page.goto(`${r.base}/publish?stream=webpub&source=pattern&autostart=1`);
    const viewer = await browser.newPage();
    await viewer.goto(`${r.base}/view?stream=webpub`);
    await viewer.waitForFunction(fpsAtLeast(5), undefined, { timeout: 15_000 });
    const info = r.relay.streams().find((s) => s.name === 'webpub');
    assert.ok(info?.live, 'the browser publisher is live on the relay');
    assert.equal(info?.width, 1280);
    await page.screenshot({ path: new URL('publish.png', ARTIFACTS).pathname });
    await viewer.close();
    await page.close();
  });

  it('reconnects with backoff after the relay goes away and comes back', async () => {
    const page = await browser.newPage();
    await page.goto(`${r.base}/view?stream=cam`);
    await page.waitForFunction(fpsAtLeast(6), undefined, { timeout: 15_000 });
    const { tcpPort, httpPort } = r;
    pub.close();
    await r.close();
    await page.locator('#banner').waitFor({ state: 'visible', timeout: 10_000 });
    assert.match((await page.locator('#banner-text').textContent()) ?? '', /retrying|reconnecting|connecting|away/);
    // A new relay on the same ports; the page finds it by itself.
    const relay = createRelay();
    await relay.listenTcp(tcpPort, '127.0.0.1');
    await relay.listenHttp(httpPort, '127.0.0.1');
    r = { ...r, relay, close: () => relay.close('test over') };
    pub = await publishPattern(r, 'cam', { width: 640, height: 360, fps: 30 });
    await page.locator('#banner').waitFor({ state: 'hidden', timeout: 20_000 });
    await page.waitForTimeout(1200);
    await page.waitForFunction(fpsAtLeast(6), undefined, { timeout: 10_000 });
    await page.close();
  });
});
