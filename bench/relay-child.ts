/**
 * The relay alone in its own process, so its CPU and RSS are measured
 * without the publisher or the viewers. Started by the bench with fork();
 * sends { event: "ready", data: { port } } once listening on 127.0.0.1.
 *
 * Calls: usage (cpu, rss), rssTimeline (samples every 250 ms since `sinceUs`),
 * viewers (relay.viewers(stream): per-viewer sent/skipped), streams,
 * loopDelay (event-loop delay percentiles since the last reset).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createRelay } from '../src/index.js';
import { emitToParent, procUsage, serveParent } from './ipc.js';

const relay = createRelay({ maxClients: 20_000, idleTimeoutMs: 60_000 });
const { port } = await relay.listenTcp(0, '127.0.0.1');

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
      return true;
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
