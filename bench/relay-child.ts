/**
 * The relay alone in its own process, so its CPU and RSS are measured
 * without the publisher or the viewers. Started by the bench with fork();
 * sends { event: "ready", data: { port } } once listening on 127.0.0.1.
 * argv[2] (optional): JSON { tls: { cert, key } } to serve tls:// instead of tcp://.
 *
 * Calls: usage (cpu, rss), rssTimeline (samples every 250 ms since `sinceUs`),
 * viewers (relay.viewers(stream): per-viewer sent/skipped), streams,
 * loopDelay (event-loop delay percentiles since the last reset), fanOutTimes
 * (duration of each RelayStream.fanOut call since the last loopDelayReset).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createRelay } from '../src/index.js';
import { RelayStream } from '../src/relay/stream.js';
import { emitToParent, procUsage, serveParent } from './ipc.js';

// Instrumentation (bench only, src untouched): time each RelayStream.fanOut
// call — one frame written (or parked/skipped) for every viewer, in one loop.
const fanOutMs: number[] = [];
const original = RelayStream.prototype.fanOut;
RelayStream.prototype.fanOut = function timedFanOut(this: RelayStream, ...args: Parameters<typeof original>): void {
  const t = performance.now();
  original.apply(this, args);
  fanOutMs.push(performance.now() - t);
  if (fanOutMs.length > 100_000) fanOutMs.splice(0, 50_000);
};

// The stalled viewer of the stall test never answers pings; keep it for the whole test (default idle timeout is 20 s).
const relay = createRelay({ maxClients: 20_000, idleTimeoutMs: 60_000 });
const args = JSON.parse(process.argv[2] ?? '{}') as { tls?: { cert: string; key: string } };
const { port } = await relay.listenTcp(0, '127.0.0.1', { tls: args.tls });

const rss: { tUs: number; rss: number }[] = [];
const sampler = setInterval(() => {
  rss.push({ tUs: performance.now() * 1000, rss: process.memoryUsage.rss() });
  if (rss.length > 10_000) rss.shift();
}, 250);
/** The histogram records timer intervals, which include the resolution; subtract it. */
const LOOP_RESOLUTION_MS = 5;
const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
loop.enable();

serveParent(
  {
    usage: () => procUsage(),
    rssTimeline: (a: { sinceUs: number }) => rss.filter((s) => s.tUs >= a.sinceUs),
    viewers: (a: { stream: string }) => relay.viewers(a.stream) ?? [],
    streams: () => relay.streams(),
    clients: () => relay.clientCount,
    loopDelayReset: () => {
      loop.reset();
      fanOutMs.length = 0;
      return true;
    },
    fanOutTimes: () => {
      const v = Float64Array.from(fanOutMs).sort();
      const at = (p: number): number => (v.length ? (v[Math.min(v.length - 1, Math.ceil(p * v.length) - 1)] as number) : NaN);
      return { n: v.length, p50Ms: at(0.5), p95Ms: at(0.95), maxMs: at(1) };
    },
    loopDelay: () => ({
      p50Ms: Math.max(0, loop.percentile(50) / 1e6 - LOOP_RESOLUTION_MS),
      p99Ms: Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
      maxMs: Math.max(0, loop.max / 1e6 - LOOP_RESOLUTION_MS),
    }),
  },
  async () => {
    clearInterval(sampler);
    loop.disable();
    await relay.close('bench done');
  },
);
emitToParent('ready', { port });
