import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cliRunner, waitForOutput } from '../helpers/cli.js';

const run = cliRunner();

describe('framewire CLI', () => {
  it('serve, publish and view --json --duration 3 work together; Ctrl-C exits 0', async () => {
    const serve = run(['serve', '--tcp', '0', '--http', '0']);
    const [, host, port] = await waitForOutput(serve.stdout, /^framewire relay listening tcp=([\d.]+):(\d+) /m);
    const url = `tcp://${host}:${port}/cam`;
    const pub = run(['publish', url, '--source', 'test', '--size', '320x240', '--fps', '30', '--quality', '70']);
    await waitForOutput(serve.stderr, /connect remote=127.0.0.1:\d+ .*role=publish stream=cam/);
    const view = run(['view', url, '--json', '--duration', '3']);
    const { code } = await view.exited;
    assert.equal(code, 0, view.stderr());
    const lines = view
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(lines.length >= 3, `one JSON object a second, got ${lines.length}`);
    for (const key of ['fps', 'kbps', 'latencyP50Ms', 'latencyP95Ms', 'framesReceived', 'framesLost', 'framesSkipped', 'width', 'height']) {
      assert.ok(key in (lines[0] as object), `missing ${key}`);
    }
    type Line = {
      fps: number;
      kbps: number;
      width: number;
      height: number;
      latencyP50Ms: number;
      framesReceived: number;
      framesLost: number;
    };
    const mid = lines[1] as Line;
    assert.equal(mid.width, 320);
    assert.equal(mid.height, 240);
    assert.ok(mid.fps > 20 && mid.fps < 40, `fps ${mid.fps}`);
    assert.ok(mid.kbps > 0);
    assert.equal(typeof mid.latencyP50Ms, 'number');
    const last = lines.at(-1) as Line;
    assert.ok(last.framesReceived >= 60, `received ${last.framesReceived}`);
    assert.equal(last.framesLost, 0);
    await waitForOutput(serve.stderr, /disconnect .*role=view/);

    pub.child.kill('SIGTERM');
    assert.deepEqual(await pub.exited, { code: 0, signal: null });
    serve.child.kill('SIGINT');
    assert.deepEqual(await serve.exited, { code: 0, signal: null });
  });

  it('--token is required by serve --token and accepted from publish and view', async () => {
    const serve = run(['serve', '--tcp', '0', '--http', '0', '--token', 'tok']);
    const [, host, port] = await waitForOutput(serve.stdout, /tcp=([\d.]+):(\d+)/);
    const url = `tcp://${host}:${port}/s`;
    const denied = run(['view', url, '--json', '--duration', '1']);
    assert.equal((await denied.exited).code, 1);
    assert.match(denied.stderr(), /FW_UNAUTHORIZED/);
    const pub = run(['publish', url, '--size', '160x120', '--token', 'tok']);
    const view = run(['view', url, '--json', '--duration', '2', '--token', 'tok']);
    assert.equal((await view.exited).code, 0, view.stderr());
    assert.ok(view.stdout().includes('"width":160'));
    pub.child.kill('SIGINT');
    assert.equal((await pub.exited).code, 0);
    serve.child.kill('SIGTERM');
    assert.equal((await serve.exited).code, 0);
  });

  it('prints help for every command and rejects bad usage with exit code 2', async () => {
    for (const cmd of ['serve', 'publish', 'view', 'demo']) {
      const h = run([cmd, '--help']);
      assert.equal((await h.exited).code, 0);
      assert.match(h.stdout(), new RegExp(`Usage: framewire ${cmd}`));
    }
    const bad = run(['view', 'tcp://127.0.0.1:1/x', '--bogus']);
    assert.equal((await bad.exited).code, 2);
    assert.match(bad.stderr(), /bogus/);
    const badUrl = run(['view', 'http//nope']);
    assert.equal((await badUrl.exited).code, 1);
    assert.match(badUrl.stderr(), /FW_BAD_URL/);
    const unknown = run(['frobnicate']);
    assert.equal((await unknown.exited).code, 2);
  });

  it('demo runs relay, publisher and viewer in one process and prints what to run next', async () => {
    const demo = run(['demo', '--tcp', '0', '--http', '0', '--size', '320x240', '--duration', '3']);
    const { code } = await demo.exited;
    assert.equal(code, 0, demo.stderr());
    assert.match(demo.stdout(), /npx framewire view tcp:\/\/127\.0\.0\.1:\d+\/demo --stats/);
    assert.match(demo.stderr(), /demo\s+320x240\s+\d+(\.\d)? fps/);
  });
});
