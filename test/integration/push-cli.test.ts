import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cliRunner, waitForOutput } from '../helpers/cli.js';

const run = cliRunner();
const EXAMPLE = fileURLToPath(new URL('../../../examples/push-frames.mjs', import.meta.url));

interface ViewLine {
  fps: number;
  framesReceived: number;
  framesLost: number;
  framesSkipped: number;
  width: number;
  height: number;
  time: string;
  final?: boolean;
}

describe('examples/push-frames.mjs: publish(url) + send() of 300 raw RGB frames', () => {
  it('makes a stream that framewire view --json reports at the sent rate with 0 lost', async () => {
    const serve = run(['serve', '--tcp', '0', '--http', '0']);
    const [, host, port] = await waitForOutput(serve.stdout, /^framewire relay listening tcp=([\d.]+):(\d+) /m);
    const url = `tcp://${host}:${port}/bot`;
    // The viewer comes first and waits, so it sees every frame from the first.
    const view = run(['view', url, '--json', '--duration', '16']);
    await waitForOutput(view.stderr, /waiting for a publisher/);
    // The example as a user runs it: plain node, importing 'framewire' by name (the package's self-reference).
    const child = spawn(process.execPath, [EXAMPLE, url, '300'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, err);
    const sent = JSON.parse(out.trim().split('\n').at(-1) as string) as {
      framesReceived: number;
      framesNotSent: number;
      framesReplaced: number;
    };
    // Each send() was awaited (paced to the link): all 300 went out.
    assert.deepEqual([sent.framesReceived, sent.framesNotSent, sent.framesReplaced], [300, 0, 0]);

    assert.equal((await view.exited).code, 0, view.stderr());
    const lines = view
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ViewLine);
    const final = lines.at(-1) as ViewLine;
    assert.equal(final.final, true);
    assert.equal(final.framesLost, 0);
    // Every frame arrived, but for any the relay skipped on purpose for this viewer (latest-frame-wins; it says so).
    assert.equal(final.framesReceived + final.framesSkipped, 300);
    // The rate while the stream ran: the lines between its first and last second.
    const running = lines.filter((l) => !l.final && l.framesReceived > 0 && l.framesReceived < final.framesReceived);
    assert.ok(running.length >= 6, `${running.length} lines while the stream ran`);
    const steady = running.slice(1, -1);
    for (const l of steady) {
      assert.deepEqual([l.width, l.height], [320, 240]);
      assert.ok(l.fps >= 20 && l.fps <= 40, `fps ${l.fps} in one second (sent at 30)`);
    }
    const [a, b] = [steady[0] as ViewLine, steady.at(-1) as ViewLine];
    const rate = (b.framesReceived - a.framesReceived) / ((Date.parse(b.time) - Date.parse(a.time)) / 1000);
    assert.ok(rate >= 27 && rate <= 33, `received at ${rate.toFixed(1)} fps over ${steady.length} s (sent at 30)`);
    serve.child.kill('SIGINT');
    assert.equal((await serve.exited).code, 0);
  });
});
