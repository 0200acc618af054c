import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, hasChromium, skipUnless } from '../helpers/web.js';

const skip = skipUnless(hasChromium(), 'chromium (/usr/bin/chromium)');
const BIN = new URL('../../../bin/framewire.js', import.meta.url).pathname;

describe('framewire demo in a browser', { skip, timeout: 60_000 }, () => {
  let browser: Browser | undefined;
  const child = spawn(process.execPath, [BIN, 'demo', '--tcp', '0', '--http', '0', '--size', '640x360', '--duration', '30'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  after(async () => {
    await browser?.close();
    child.kill('SIGTERM');
  });

  it('prints the browser URL, and the viewer page plays the demo stream', async () => {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /viewer: (http:\/\/\S+)\)/.exec(out);
        if (m) resolve(m[1] as string);
      });
      child.on('exit', () => reject(new Error(`demo exited early: ${out}`)));
    });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/view\?stream=demo$/);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(`Number(document.getElementById('stat-fps')?.textContent) >= 20`, undefined, { timeout: 20_000 });
    assert.equal(await page.locator('#stat-size').textContent(), '640×360');
  });
});
