import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { createToken, type Publication } from '../../src/index.js';
import { CHROMIUM, CHROMIUM_ARGS, hasChromium, publishPattern, skipUnless, startTestRelay, type TestRelay } from '../helpers/web.js';

const skip = skipUnless(hasChromium(), 'chromium (/usr/bin/chromium)');
const SECRET = 'browser-test-secret-0123456789abcdef';

describe('web pages with a scoped token (serve --secret) in headless Chromium', { skip, timeout: 90_000 }, () => {
  let r: TestRelay;
  let cam: Publication;
  let other: Publication;
  let browser: Browser;
  let viewCam: string;

  before(async () => {
    r = await startTestRelay({ secret: SECRET });
    viewCam = await createToken({ secret: SECRET, stream: 'cam', role: 'view' });
    cam = await publishPattern(r, 'cam', {
      width: 320,
      height: 240,
      fps: 30,
      token: await createToken({ secret: SECRET, stream: 'cam', role: 'publish' }),
    });
    other = await publishPattern(r, 'other', {
      width: 320,
      height: 240,
      fps: 30,
      token: await createToken({ secret: SECRET, stream: 'other', role: 'publish' }),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    cam?.close();
    other?.close();
    await r?.close();
  });

  it("the stream list shows only the token's stream, and its viewer plays it", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${r.base}/?token=${viewCam}`);
    const card = page.locator('a.card[data-stream="cam"]');
    await card.waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('a.card[data-stream="other"]').count(), 0, 'the other stream is not listed');
    await card.click();
    await page.waitForURL(/\/view\?stream=cam&token=/);
    await page.waitForFunction(`Number(document.getElementById('stat-fps')?.textContent) >= 10`, undefined, { timeout: 15_000 });
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('the viewer of another stream stops with FW_UNAUTHORIZED and the reason', async () => {
    const page = await browser.newPage();
    await page.goto(`${r.base}/view?stream=other&token=${viewCam}`);
    await page.waitForFunction(`document.getElementById('banner-text')?.textContent.includes('FW_UNAUTHORIZED')`, undefined, {
      timeout: 10_000,
    });
    assert.match(String(await page.locator('#banner-text').textContent()), /token is for stream "cam", not "other"/);
    await page.close();
  });
});
