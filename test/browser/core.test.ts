import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, hasChromium, skipUnless, startTestRelay, type TestRelay } from '../helpers/web.js';

const skip = skipUnless(hasChromium(), 'chromium (/usr/bin/chromium)');

/**
 * The viewer page's bundle is the shared protocol core (src/protocol), not a
 * copy: it exposes that module as `window.framewire.core`, and the page's
 * own parser is the one these calls reach.
 */
describe('the protocol core inside the browser bundle', { skip, timeout: 60_000 }, () => {
  let r: TestRelay;
  let browser: Browser;
  let page: Page;

  before(async () => {
    r = await startTestRelay();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage();
    await page.goto(`${r.base}/view?stream=nobody`);
    await page.waitForFunction('typeof window.framewire?.core?.decodeMessage === "function"', undefined, { timeout: 10_000 });
  });

  after(async () => {
    await browser?.close();
    await r?.close();
  });

  it('a truncated message is FW_BAD_HEADER whole, and waits for the rest in the stream parser', async () => {
    const got = await page.evaluate(() => {
      const core = (globalThis as unknown as { framewire: { core: typeof import('../../src/protocol/index.js') } }).framewire.core;
      const wire = core.encodeControl({ type: 'ping', body: { id: 7, t0: 123 } });
      const codeOf = (f: () => unknown): string => {
        try {
          f();
          return 'no error';
        } catch (err) {
          return err instanceof core.FramewireError ? err.code : `uncoded ${String(err)}`;
        }
      };
      const parser = new core.StreamParser();
      const first = parser.push(wire.subarray(0, 5)).length;
      const rest = parser.push(wire.subarray(5));
      return {
        short: codeOf(() => core.decodeMessage(wire.subarray(0, 8))),
        cut: codeOf(() => core.decodeMessage(wire.subarray(0, wire.length - 1))),
        first,
        rest: rest.map((m) => m.type),
      };
    });
    assert.deepEqual(got, { short: 'FW_BAD_HEADER', cut: 'FW_BAD_HEADER', first: 0, rest: ['ping'] });
  });

  it('an oversized frame or control message is refused from its header, with its code', async () => {
    const got = await page.evaluate(() => {
      const core = (globalThis as unknown as { framewire: { core: typeof import('../../src/protocol/index.js') } }).framewire.core;
      const codeOf = (f: () => unknown): string => {
        try {
          f();
          return 'no error';
        } catch (err) {
          return err instanceof core.FramewireError ? err.code : `uncoded ${String(err)}`;
        }
      };
      const frameHeader = core.encodeFrameHeader({
        seq: 1,
        captureUs: 1,
        width: 64,
        height: 48,
        codec: 'jpeg',
        key: true,
        data: new Uint8Array(2048),
      });
      const control = new Uint8Array(12);
      core.writeFixedHeader(control, core.MessageType.stats, 0, 12, 1 << 20);
      return {
        frame: codeOf(() => new core.StreamParser({ maxFrameBytes: 1024 }).push(frameHeader)),
        control: codeOf(() => new core.StreamParser().push(control)),
        magic: codeOf(() => core.decodeMessage(new Uint8Array(12).fill(0x41))),
      };
    });
    assert.deepEqual(got, { frame: 'FW_FRAME_TOO_LARGE', control: 'FW_CONTROL_TOO_LARGE', magic: 'FW_BAD_MAGIC' });
  });
});
