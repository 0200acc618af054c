import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// Imported by package name, as a user would: the package's self-reference
// resolves 'framewire' and 'framewire/protocol' through package.json "exports".
// (Specifiers in variables so tsc does not need dist/ to exist when it compiles this.)
const MAIN = 'framewire';
const PROTOCOL = 'framewire/protocol';
const DIST_SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Every .d.ts under dist/src, read once. */
function declarations(): string {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.d.ts') ? [readFileSync(join(dir, e.name), 'utf8')] : [],
    );
  return walk(DIST_SRC).join('\n');
}

describe("the public API: import 'framewire'", () => {
  it('exports fewer than 40 runtime names, the ones users call, and no internals', async () => {
    const api = (await import(MAIN)) as Record<string, unknown>;
    const names = Object.keys(api);
    assert.ok(names.length < 40, `${names.length} runtime names: ${names.join(' ')}`);
    for (const name of [
      'createRelay',
      'Relay',
      'publish',
      'Publication',
      'PushPublication',
      'subscribe',
      'Subscription',
      'FramewireError',
      'ErrorCodes',
      'isFramewireError',
      'TypedEmitter',
      'nowUs',
      'createToken',
      'verifyToken',
      'testPattern',
      'openSource',
      'cameraSource',
      'screenSource',
      'fileSource',
      'rtspSource',
      'ipCameraSource',
      'ffmpegSource',
      'playerSink',
      'recorderSink',
      'DEFAULT_TCP_PORT',
      'DEFAULT_HTTP_PORT',
    ]) {
      assert.ok(name in api, `missing ${name}`);
    }
    for (const internal of [
      'StreamParser',
      'decodeMessage',
      'encodeControl',
      'encodeFrameHeader',
      'WsChannel',
      'connectWs',
      'MjpegViewerChannel',
      'MjpegIngestChannel',
      'JpegSplitter',
      'ffmpegArgs',
      'inputArgs',
      'findTool',
      'createHttpServer',
      'StatsMeter',
    ]) {
      assert.ok(!(internal in api), `${internal} is an internal`);
    }
    assert.equal(typeof api.publish, 'function');
    assert.equal((api.ErrorCodes as Record<string, string>).NOT_JPEG, 'FW_NOT_JPEG');
  });

  it('every runtime name has TSDoc in the published declarations', async () => {
    const dts = declarations();
    const names = Object.keys((await import(MAIN)) as object);
    const undocumented = names.filter(
      (n) => !new RegExp(`\\*/\\s*export declare (?:abstract )?(?:function|class|const) ${n}\\b`).test(dts),
    );
    assert.deepEqual(undocumented, []);
  });

  it("'framewire/protocol' has the wire protocol for other implementers", async () => {
    const proto = (await import(PROTOCOL)) as Record<string, unknown>;
    for (const name of [
      'StreamParser',
      'decodeMessage',
      'encodeControl',
      'encodeFrame',
      'encodeFrameHeader',
      'ClockSync',
      'fragmentMessage',
      'Reassembler',
      'MAGIC',
      'VERSION',
    ]) {
      assert.ok(name in proto, `missing ${name}`);
    }
    const { encodeControl, decodeMessage } = proto as {
      encodeControl: (m: unknown) => Uint8Array;
      decodeMessage: (b: Uint8Array) => { type: string; body: unknown };
    };
    const bye = decodeMessage(encodeControl({ type: 'bye', body: { reason: 'done' } }));
    assert.deepEqual(bye, { type: 'bye', body: { reason: 'done' } });
  });
});
