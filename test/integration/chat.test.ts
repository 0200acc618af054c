import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cli, waitForOutput } from '../helpers/cli.js';

interface ChatLine {
  final?: boolean;
  sent: { fps: number; width: number; height: number };
  received: { fps: number; width: number; height: number; framesLost: number; latencyP50Ms: number | null };
}
const lines = (out: string): ChatLine[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ChatLine);

describe('framewire chat: two-way video, one command on each side', { timeout: 60_000 }, () => {
  it("each side receives the other's picture; a third caller is refused; both exit 0", async () => {
    const a = cli(['chat', '--listen', '127.0.0.1:0', '--size', '320x240', '--token', 'pw', '--json', '--duration', '7']);
    try {
      const port = (await waitForOutput(a.stdout, /listening on tcp=127\.0\.0\.1:(\d+)/))[1] as string;
      const b = cli(['chat', `tcp://127.0.0.1:${port}`, '--size', '160x120', '--token', 'pw', '--json', '--duration', '4']);
      await waitForOutput(b.stderr, /sending 160x120/);
      const third = cli(['chat', `tcp://127.0.0.1:${port}`, '--token', 'pw', '--duration', '2']);
      const wrong = cli(['chat', `tcp://127.0.0.1:${port}`, '--token', 'nope', '--duration', '2']);
      const [t, w, bx] = await Promise.all([third.exited, wrong.exited, b.exited]);
      assert.equal(t.code, 1);
      assert.match(third.stderr(), /FW_STREAM_BUSY/);
      assert.equal(w.code, 1);
      assert.match(wrong.stderr(), /FW_UNAUTHORIZED/);
      assert.equal(bx.code, 0, b.stderr());
      const bl = lines(b.stdout());
      const bLast = bl.at(-2) as ChatLine; // the last whole second
      assert.deepEqual([bLast.sent.width, bLast.sent.height], [160, 120]);
      assert.deepEqual([bLast.received.width, bLast.received.height], [320, 240], "the caller sees the listener's picture");
      assert.ok(bLast.received.fps >= 20, `caller received ${bLast.received.fps} fps`);
      assert.equal((bl.at(-1) as ChatLine).received.framesLost, 0);
      const ax = await a.exited;
      assert.equal(ax.code, 0, a.stderr());
      const heard = lines(a.stdout()).filter((l) => l.received.width === 160 && l.received.fps >= 20);
      assert.ok(heard.length >= 2, "the listener saw the caller's picture for at least two whole seconds");
      assert.ok(heard.every((l) => l.sent.width === 320));
    } finally {
      a.child.kill('SIGKILL');
    }
  });

  it('usage mistakes are said plainly', async () => {
    const both = cli(['chat', '--listen', '0', 'tcp://127.0.0.1:1']);
    assert.equal((await both.exited).code, 2);
    assert.match(both.stderr(), /either --listen/);
    const neither = cli(['chat']);
    assert.equal((await neither.exited).code, 2);
  });
});
