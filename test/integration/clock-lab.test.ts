import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { createNetnsLab, rateLabUnavailable } from '../helpers/udp-lab.js';

const BIN = fileURLToPath(new URL('../../../bin/framewire.js', import.meta.url));
const why = rateLabUnavailable();

/**
 * Issue "Hold up on a real network", item 0: on a link narrower than the
 * stream, the viewer's downlink queues (its pongs wait behind its frames)
 * while its pings go up an idle path, so each ping/pong sample's offset is
 * off by half the queue. Relay, publisher and viewer share this machine's
 * clock, so the true offset is 0 and the reported one is exactly the error
 * in the viewer's latency figures.
 */
describe('clock offset on a queued link (network namespaces, tc tbf)', { skip: why ? `skipped: ${why}` : false, timeout: 120_000 }, () => {
  it("a viewer's clock offset stays true while a 5 Mbit/s downlink queues a 10 Mbit/s stream", async () => {
    const lab = createNetnsLab();
    try {
      lab.setRate(5);
      const relay = lab.node('A', [BIN, 'serve', '--json', '--host', lab.hostA, '--tcp', '7070', '--http', '0']);
      await relay.event('listening');
      // The viewer comes first and pings across the idle link for a few seconds, as a viewer that was
      // there before the link filled. (One that joins a link already full has no unqueued sample to
      // keep, and no clock filter can tell its queue from the offset: NTP has the same limit.)
      const view = lab.node('B', [BIN, 'view', `tcp://${lab.hostA}:7070/cam`, '--json', '--duration', '26']);
      const idleUntil = Date.now() + 15_000;
      while (view.lines.filter((l) => l.connected === true).length < 3 && Date.now() < idleUntil)
        await new Promise((r) => setTimeout(r, 100));
      lab.node('A', [BIN, 'publish', `tcp://${lab.hostA}:7070/cam`, '--size', '1280x720', '--fps', '30', '--quality', '75', '--json']);
      // Wait for the run to end (the final line), then read its per-second lines.
      const deadline = Date.now() + 60_000;
      while (!view.lines.some((l) => l.final === true) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      const seconds = view.lines.filter((l) => l.final !== true && l.connected === true && Number(l.fps) > 0);
      assert.ok(seconds.length >= 15, `per-second lines with frames from the viewer (${seconds.length}): ${view.stderr}`);
      // After the first few seconds of video the link is saturated: the queue shows in the RTT.
      const late = seconds.slice(6);
      const rtts = late.map((l) => Number(l.rttMs));
      const offsets = late.map((l) => Number(l.clockOffsetMs));
      process.stdout.write(`# rtt ms: ${rtts.join(' ')}\n# clock offset ms: ${offsets.join(' ')}\n`);
      process.stdout.write(
        `# fps: ${late.map((l) => l.fps).join(' ')}\n# latency p50 ms (as reported): ${late.map((l) => l.latencyP50Ms).join(' ')}\n`,
      );
      assert.ok(Math.max(...rtts) > 60, `the downlink queued (rtt up to ${Math.max(...rtts)} ms)`);
      // An estimate from the last few samples alone is off by half the queue: 70–220 ms here with the old
      // 8-sample window. The first samples, taken before the queue built, may carry a few ms of it.
      assert.ok(
        offsets.every((o) => Number.isFinite(o) && Math.abs(o) < 20),
        `the offset stays within 20 ms of the truth (0) while the link queues: ${offsets.join(', ')}`,
      );
    } finally {
      lab.close();
    }
  });
});
