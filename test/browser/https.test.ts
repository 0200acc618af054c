import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { createRelay, publish, testPattern, type Publication, type Relay } from '../../src/index.js';
import { relayNames, selfSignedCertificate, type StoredCertificate } from '../../src/cli/tls-cert.js';
import { CHROMIUM, CHROMIUM_ARGS, hasChromium, hasCommand, skipUnless } from '../helpers/web.js';

const skip = skipUnless(hasChromium(), 'chromium (/usr/bin/chromium)') || skipUnless(hasCommand('openssl', ['version']), 'openssl');
const ARTIFACTS = new URL('../../../test-artifacts/', import.meta.url);

describe('the viewer page over HTTPS in headless Chromium', { skip, timeout: 90_000 }, () => {
  let dir: string;
  let cert: StoredCertificate;
  let relay: Relay;
  let base: string;
  let pub: Publication;
  let browser: Browser;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fw-https-'));
    cert = await selfSignedCertificate(dir, relayNames('127.0.0.1'));
    relay = createRelay();
    const { port: tlsPort } = await relay.listenTcp(0, '127.0.0.1', { tls: cert });
    const { port } = await relay.listenHttp(0, '127.0.0.1', { tls: cert });
    base = `https://127.0.0.1:${port}`;
    pub = await publish(`tls://127.0.0.1:${tlsPort}/cam`, testPattern({ width: 640, height: 360, fps: 30 }), {
      tls: { fingerprint: cert.fingerprint },
    });
    // Trust exactly this certificate's key, as a user would by accepting it once.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${cert.spkiSha256}`],
    });
  });

  after(async () => {
    await browser?.close();
    pub?.close();
    await relay?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('plays in a secure context, over wss:// on the same port', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const res = await page.goto(`${base}/view?stream=cam`);
    assert.equal(res?.status(), 200);
    assert.equal(await page.evaluate('window.isSecureContext'), true);
    assert.equal(await page.evaluate('location.protocol'), 'https:');
    await page.waitForFunction('window.framewire && window.framewire.stats().displayed >= 30', undefined, { timeout: 20_000 });
    await page.waitForFunction(`Number(document.getElementById('stat-fps')?.textContent) >= 15`, undefined, { timeout: 15_000 });
    // The picture changes: two snapshots of the canvas differ.
    const snap = (): Promise<string> => page.evaluate(`document.getElementById('video').toDataURL('image/png')`) as Promise<string>;
    const a = await snap();
    await page.waitForFunction(
      `window.framewire.stats().displayed >= ${Number(await page.evaluate('window.framewire.stats().displayed')) + 10}`,
      undefined,
      { timeout: 10_000 },
    );
    assert.notEqual(await snap(), a, 'the canvas shows new frames');
    assert.equal(await page.locator('#stat-size').textContent(), '640×360');
    assert.ok(
      (relay.viewers('cam') ?? []).some((v) => v.transport === 'wss'),
      'the page views over wss://',
    );
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('https-viewer.png', ARTIFACTS).pathname });
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('without the certificate trusted, Chromium refuses the page (the trust above is what made it work)', async () => {
    const plain = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await plain.newPage();
      await assert.rejects(page.goto(`${base}/view?stream=cam`), /ERR_CERT/);
    } finally {
      await plain.close();
    }
  });
});
