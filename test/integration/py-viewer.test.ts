/**
 * The Python example reader from docs/protocol.md, run for real: proof that
 * the spec alone (socket + struct, no framewire code) is enough to view a
 * stream. Skipped, with a message, where python3 is not installed.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { publish, type Publication } from '../../src/client/publish.js';
import { createRelay, type Relay } from '../../src/relay/relay.js';
import { testPattern } from '../../src/sources/test-pattern.js';
import { RawClient, fakeFrame, until } from '../helpers/relay.js';

const script = fileURLToPath(new URL('../../../test/fixtures/py_viewer.py', import.meta.url));
const doc = fileURLToPath(new URL('../../../docs/protocol.md', import.meta.url));
const probe = spawnSync('python3', ['--version'], { encoding: 'utf8' });
const noPython = probe.error || probe.status !== 0 ? 'python3 is not installed (or not on PATH): skipping the Python reader test' : false;

interface PyResult {
  frames: number;
  seqs: number[];
  width?: number;
  height?: number;
  codec?: number;
  key?: boolean;
  jpeg: boolean;
  skipped: number;
  lost: number;
  pings: number;
  live?: boolean;
  rtt_us?: number;
  error?: string;
}

/** Runs the script; resolves with its exit code and parsed JSON output. */
function runPy(args: string[]): Promise<{ code: number; result: PyResult; stderr: string }> {
  return new Promise((resolve, reject) => {
    // The timeout only guards against a hang; no assertion depends on timing.
    execFile('python3', [script, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      try {
        resolve({ code, result: JSON.parse(stdout) as PyResult, stderr });
      } catch {
        reject(new Error(`py_viewer.py printed no JSON (exit ${code}): ${stdout}\n${stderr}`));
      }
    });
  });
}

describe('Python example reader (docs/protocol.md)', { skip: noPython }, () => {
  let relay: Relay;
  let port: number;
  let pub: Publication;

  before(async () => {
    relay = createRelay({ token: 'py-token' });
    port = (await relay.listenTcp(0)).port;
    pub = await publish(`tcp://127.0.0.1:${port}/cam?token=py-token`, testPattern({ width: 160, height: 120, fps: 30 }), {
      reconnect: false,
    });
  });

  after(async () => {
    pub?.close();
    await relay?.close();
  });

  it('is the exact code shown in docs/protocol.md', () => {
    const code = readFileSync(script, 'utf8');
    const block = /```python\n([\s\S]*?)```/.exec(readFileSync(doc, 'utf8'))?.[1];
    assert.equal(block, code);
  });

  it('says hello as a viewer, answers pings and reads 15 JPEG frames in order with nothing lost', async () => {
    const left = new Promise<string>((resolve) =>
      relay.on('disconnect', (d) => {
        if (d.role === 'view') resolve(d.reason);
      }),
    );
    const { code, result, stderr } = await runPy(['127.0.0.1', String(port), 'cam', '15', 'py-token']);
    assert.equal(code, 0, stderr);
    assert.equal(result.error, undefined);
    assert.equal(result.live, true);
    assert.equal(result.frames, 15);
    assert.equal(result.seqs.length, 15);
    for (let i = 1; i < result.seqs.length; i++) assert.ok((result.seqs[i] as number) > (result.seqs[i - 1] as number), 'seq increases');
    assert.deepEqual([result.width, result.height, result.codec, result.key, result.jpeg], [160, 120, 1, true, true]);
    assert.equal(result.lost, 0);
    assert.ok(result.pings >= 1, 'answered the ping the relay sends right after the welcome');
    assert.ok(Number.isFinite(result.rtt_us), 'rtt_us measured from its own ping');
    // It left with a bye, not by dropping the connection.
    assert.equal(await left, 'peer said bye: done');
    assert.equal(relay.viewers('cam')?.length, 0);
  });

  it('forgets the sequence when one publisher leaves and another comes (section 8): nothing counted lost', async () => {
    const r = createRelay();
    const p = (await r.listenTcp(0)).port;
    const publisher = async (): Promise<RawClient> => {
      const c = await RawClient.connect(p);
      c.send({ type: 'hello', body: { role: 'publish', stream: 'flip' } });
      await c.waitFor('welcome');
      return c;
    };
    try {
      const a = await publisher();
      const reading = runPy(['127.0.0.1', String(p), 'flip', '8']);
      await until(() => r.viewers('flip')?.length === 1, 'the Python viewer');
      for (const seq of [100, 101, 102, 103]) a.sendFrame(fakeFrame(seq));
      await until(() => r.viewers('flip')?.[0]?.sent === 4, 'four frames to the viewer');
      a.close();
      await until(() => r.streams()[0]?.live === false, 'the first publisher gone');
      // The next publisher numbers from 0: a jump back that is no loss.
      const b = await publisher();
      for (const seq of [0, 1, 2, 3]) b.sendFrame(fakeFrame(seq));
      const { code, result, stderr } = await reading;
      assert.equal(code, 0, stderr);
      assert.deepEqual(result.seqs, [100, 101, 102, 103, 0, 1, 2, 3]);
      assert.equal(result.lost, 0);
      b.close();
    } finally {
      await r.close();
    }
  });

  it('gets FW_UNAUTHORIZED for a wrong token', async () => {
    const { code, result } = await runPy(['127.0.0.1', String(port), 'cam', '1', 'wrong']);
    assert.equal(code, 2);
    assert.equal(result.error, 'FW_UNAUTHORIZED');
    assert.equal(result.frames, 0);
  });
});
