/**
 * Experiment (not part of `npm run bench`): one viewer that reads slower
 * than the stream (a byte budget per 100 ms, e.g. 2/3 of a 720p30 stream's
 * rate), to see where latest-frame-wins starts: per second, the viewer's
 * median capture→arrival latency and the relay's sent/skipped for it.
 *
 *   node dist/bench/slow-viewer.js [seconds=20] [fraction=0.66] [acks=1]
 *
 * With acks=0 the viewer does not ack (as a plain protocol client or MJPEG
 * over TCP): latency builds in kernel socket buffers until the relay's write
 * buffer backs up. With acks=1 (what subscribe() and the web viewer do) the
 * relay keeps only a round trip's worth of frames in flight.
 */
import { LightViewer } from './light-viewer.js';
import { startPublisher, startRelay } from './pipeline.js';
import { median, sleep } from './stats.js';

const seconds = Number(process.argv[2] ?? 20);
const fraction = Number(process.argv[3] ?? 0.66);
const acks = (process.argv[4] ?? '1') !== '0';
const { relay, port } = await startRelay();
const pub = await startPublisher(`tcp://127.0.0.1:${port}/slow`, 1280, 720, 30);
try {
  await sleep(1000);
  const bytesPerSec = 27_500 * 30 * fraction;
  const v = new LightViewer({ port, stream: 'slow', parser: 'stream', acks });
  await v.ready;
  let budget = bytesPerSec / 10;
  v.socket.on('data', (c: Buffer) => {
    budget -= c.length;
    if (budget <= 0) v.socket.pause();
  });
  const tick = setInterval(() => {
    budget = Math.min(budget + bytesPerSec / 10, bytesPerSec / 10);
    if (budget > 0) v.socket.resume();
  }, 100);
  process.stdout.write(`| s | frames | median latency ms | relay sent | relay skipped |\n|---:|---:|---:|---:|---:|\n`);
  for (let s = 1; s <= seconds; s++) {
    v.reset();
    await sleep(1000);
    const vs = await relay.call<{ sent: number; skipped: number }[]>('viewers', { stream: 'slow' });
    const me = vs[0];
    process.stdout.write(
      `| ${s} | ${v.frames} | ${(median(v.latencies) / 1000).toFixed(0)} | ${me?.sent ?? '?'} | ${me?.skipped ?? '?'} |\n`,
    );
  }
  clearInterval(tick);
  v.close();
} finally {
  await pub.close();
  await relay.close();
}
