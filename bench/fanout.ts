/**
 * (c) fan-out and (d) stalled-viewer isolation. Processes:
 *
 *   publisher-child (720p30 test pattern) ──► relay-child ──► viewer-child × P
 *                                                             (N light viewers split evenly)
 *
 * The relay is alone in its process, so its CPU % (of one core) and RSS are
 * its own. Viewer processes report their CPU too, to show they are not the
 * bottleneck.
 */
import os from 'node:os';
import { cpuPercent, spawnChild, type Child, type ProcUsage } from './ipc.js';
import { busyCores, cpuTimes } from './machine.js';
import type { ParserKind } from './light-viewer.js';
import { startPublisher, startRelay } from './pipeline.js';
import { max, median, min, ms, pct, sleep } from './stats.js';
import type { ViewerReport } from './viewer-child.js';

export interface FanoutSetup {
  relay: Child;
  pub: Child;
  viewerProcs: Child[];
  stream: string;
  close(): Promise<void>;
}

interface Report {
  windowUs: number;
  usage: ProcUsage;
  viewers: ViewerReport[];
}

interface RelayViewer {
  session: string;
  remote: string;
  sent: number;
  skipped: number;
}

/**
 * Starts relay, publisher and `procs` viewer processes with `n` viewers
 * between them; with `tls` (PEM certificate and key) everyone speaks tls://.
 */
export async function setupFanout(
  n: number,
  procs: number,
  parser: ParserKind,
  width = 1280,
  height = 720,
  fps = 30,
  tls?: { cert: string; key: string },
): Promise<FanoutSetup> {
  const stream = `fan-${n}`;
  const { relay, port } = await startRelay(tls);
  const all: Child[] = [relay];
  const close = async (): Promise<void> => {
    await Promise.all(all.map((c) => c.close()));
  };
  try {
    const pub = await startPublisher(`${tls ? 'tls' : 'tcp'}://127.0.0.1:${port}/${stream}`, width, height, fps);
    all.push(pub);
    const viewerProcs: Child[] = [];
    for (let i = 0; i < procs; i++) {
      const c = spawnChild('viewer-child', `viewers${i}`, [JSON.stringify({ port, stream, parser, tls: tls !== undefined })]);
      all.push(c);
      viewerProcs.push(c);
      await c.once('ready');
    }
    await Promise.all(
      viewerProcs.map((c, i) => {
        const share = Math.floor(n / procs) + (i < n % procs ? 1 : 0);
        return share > 0 ? c.call('add', { n: share }, 60_000) : Promise.resolve();
      }),
    );
    return { relay, pub, viewerProcs, stream, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** One measurement window over a running setup. */
export interface WindowResult {
  seconds: number;
  viewers: number;
  fpsMin: number;
  fpsMedian: number;
  /** Frames per second received, summed over the (non-stalled) viewers: the relay's work rate. */
  fpsTotal: number;
  /** Pooled over every frame of every (non-stalled) viewer. */
  latencyP50Ms: number;
  latencyP95Ms: number;
  /** Worst single viewer's p95. */
  worstViewerP95Ms: number;
  /** Median over the window's whole seconds of the pooled p95 (robust to one noisy second). */
  p95PerSecondMedianMs: number;
  /**
   * Median of per-viewer p50 for the first and the last 10 % of viewers in
   * the relay's fan-out order (its Map order, matched by TCP port): the cost
   * of writing to every viewer one after the other in one loop.
   */
  fanoutOrderP50Ms: { first10: number; last10: number };
  relayCpuPct: number;
  relayRssMb: number;
  relayRssPeakMb: number;
  relayLoopDelayP99Ms: number;
  /** Time the relay spends in one fanOut() call (one frame to every viewer), p50 / p95, ms. */
  fanOutP50Ms: number;
  fanOutP95Ms: number;
  viewerCpuPct: number[];
  publisherCpuPct: number;
  publisherFps: number;
  relaySkipped: number;
  closedViewers: number;
  /** Largest |clock offset| a viewer measured to the relay (same machine: should be ~0). */
  maxAbsOffsetUs: number;
  /** Busy cores machine-wide during the window, and the part not used by the bench's processes. */
  machineBusyCores: number;
  otherBusyCores: number;
  /** Arrival (µs from window start) and latency of every frame, for timelines. */
  samples: { at: number[]; lat: number[] };
}

interface PubStats {
  framesReceived: number;
  usage: ProcUsage;
}

/** Resets every viewer, waits `seconds`, and collects one window. */
export async function measureWindow(s: FanoutSetup, seconds: number): Promise<WindowResult> {
  const skippedOf = (vs: RelayViewer[]): number => vs.reduce((a, v) => a + v.skipped, 0);
  const sk0 = skippedOf(await s.relay.call<RelayViewer[]>('viewers', { stream: s.stream }));
  await s.relay.call('loopDelayReset');
  const r0 = await s.relay.call<ProcUsage>('usage');
  const p0 = await s.pub.call<PubStats>('stats');
  const v0 = await Promise.all(s.viewerProcs.map((c) => c.call<{ usage: ProcUsage }>('reset')));
  const m0 = cpuTimes();
  await sleep(seconds * 1000);
  const m1 = cpuTimes();
  const reports = await Promise.all(s.viewerProcs.map((c) => c.call<Report>('report')));
  const r1 = await s.relay.call<ProcUsage>('usage');
  const p1 = await s.pub.call<PubStats>('stats');
  const loop = await s.relay.call<{ p99Ms: number }>('loopDelay');
  const fo = await s.relay.call<{ p50Ms: number; p95Ms: number }>('fanOutTimes');
  const timeline = await s.relay.call<{ rss: number }[]>('rssTimeline', { sinceUs: r0.wallUs });
  const relayViewers = await s.relay.call<RelayViewer[]>('viewers', { stream: s.stream });
  const sk1 = skippedOf(relayViewers);
  const order = new Map(relayViewers.map((v, i) => [Number(v.remote.slice(v.remote.lastIndexOf(':') + 1)), i]));
  const byOrder: { i: number; p50: number }[] = [];

  const fps: number[] = [];
  const p95s: number[] = [];
  const at: number[] = [];
  const lat: number[] = [];
  let closed = 0;
  let maxOff = 0;
  reports.forEach((rep) => {
    const sec = rep.windowUs / 1e6;
    for (const v of rep.viewers) {
      if (v.stalled) continue;
      if (v.closed) closed++;
      fps.push(v.frames / sec);
      if (v.latenciesUs.length) p95s.push(pct(v.latenciesUs, 0.95));
      const idx = order.get(v.localPort);
      if (idx !== undefined && v.latenciesUs.length) byOrder.push({ i: idx, p50: pct(v.latenciesUs, 0.5) });
      for (let i = 0; i < v.latenciesUs.length; i++) {
        lat.push(v.latenciesUs[i] as number);
        at.push(v.arrivalsUs[i] as number);
      }
      maxOff = Math.max(maxOff, Math.abs(v.offsetUs));
    }
  });
  byOrder.sort((x, y) => x.i - y.i);
  const tenth = Math.max(1, Math.floor(byOrder.length / 10));
  const windowS = Math.min(...reports.map((r) => r.windowUs)) / 1e6;
  const secP95: number[] = [];
  for (let sec = 0; sec + 1 <= windowS; sec++) {
    const inSec = lat.filter((_, i) => (at[i] as number) >= sec * 1e6 && (at[i] as number) < (sec + 1) * 1e6);
    if (inSec.length) secP95.push(pct(inSec, 0.95));
  }
  const viewerCpu = reports.map((rep, i) => cpuPercent((v0[i] as { usage: ProcUsage }).usage, rep.usage));
  const ours = (cpuPercent(r0, r1) + cpuPercent(p0.usage, p1.usage) + viewerCpu.reduce((x, y) => x + y, 0)) / 100;
  const machine = busyCores(m0, m1, os.cpus().length);
  return {
    seconds: (r1.wallUs - r0.wallUs) / 1e6,
    machineBusyCores: machine,
    otherBusyCores: machine - ours,
    viewers: fps.length,
    fpsMin: min(fps),
    fpsMedian: median(fps),
    fpsTotal: fps.reduce((x, y) => x + y, 0),
    latencyP50Ms: ms(pct(lat, 0.5)),
    latencyP95Ms: ms(pct(lat, 0.95)),
    worstViewerP95Ms: ms(max(p95s)),
    p95PerSecondMedianMs: ms(median(secP95)),
    fanoutOrderP50Ms: {
      first10: ms(median(byOrder.slice(0, tenth).map((x) => x.p50))),
      last10: ms(median(byOrder.slice(-tenth).map((x) => x.p50))),
    },
    relayCpuPct: cpuPercent(r0, r1),
    relayRssMb: r1.rss / 1024 / 1024,
    relayRssPeakMb: Math.max(r1.rss, ...timeline.map((t) => t.rss)) / 1024 / 1024,
    relayLoopDelayP99Ms: loop.p99Ms,
    fanOutP50Ms: fo.p50Ms,
    fanOutP95Ms: fo.p95Ms,
    viewerCpuPct: viewerCpu,
    publisherCpuPct: cpuPercent(p0.usage, p1.usage),
    publisherFps: (p1.framesReceived - p0.framesReceived) / ((p1.usage.wallUs - p0.usage.wallUs) / 1e6),
    relaySkipped: sk1 - sk0,
    closedViewers: closed,
    maxAbsOffsetUs: maxOff,
    samples: { at, lat },
  };
}

/** Element-wise median of several windows of the same setup (samples from the median-p95 window). */
export function medianWindow(ws: WindowResult[]): WindowResult {
  const first = ws[0] as WindowResult;
  if (ws.length === 1) return first;
  const med = (get: (w: WindowResult) => number): number => median(ws.map(get));
  const byP95 = [...ws].sort((a, b) => a.latencyP95Ms - b.latencyP95Ms)[Math.floor(ws.length / 2)] as WindowResult;
  return {
    seconds: ws.reduce((a, w) => a + w.seconds, 0),
    viewers: first.viewers,
    fpsMin: med((w) => w.fpsMin),
    fpsMedian: med((w) => w.fpsMedian),
    fpsTotal: med((w) => w.fpsTotal),
    latencyP50Ms: med((w) => w.latencyP50Ms),
    latencyP95Ms: med((w) => w.latencyP95Ms),
    worstViewerP95Ms: med((w) => w.worstViewerP95Ms),
    p95PerSecondMedianMs: med((w) => w.p95PerSecondMedianMs),
    fanoutOrderP50Ms: { first10: med((w) => w.fanoutOrderP50Ms.first10), last10: med((w) => w.fanoutOrderP50Ms.last10) },
    relayCpuPct: med((w) => w.relayCpuPct),
    relayRssMb: med((w) => w.relayRssMb),
    relayRssPeakMb: Math.max(...ws.map((w) => w.relayRssPeakMb)),
    relayLoopDelayP99Ms: med((w) => w.relayLoopDelayP99Ms),
    fanOutP50Ms: med((w) => w.fanOutP50Ms),
    fanOutP95Ms: med((w) => w.fanOutP95Ms),
    viewerCpuPct: first.viewerCpuPct.map((_, i) => med((w) => w.viewerCpuPct[i] as number)),
    publisherCpuPct: med((w) => w.publisherCpuPct),
    publisherFps: med((w) => w.publisherFps),
    relaySkipped: ws.reduce((a, w) => a + w.relaySkipped, 0),
    closedViewers: Math.max(...ws.map((w) => w.closedViewers)),
    maxAbsOffsetUs: Math.max(...ws.map((w) => w.maxAbsOffsetUs)),
    machineBusyCores: med((w) => w.machineBusyCores),
    otherBusyCores: med((w) => w.otherBusyCores),
    samples: byP95.samples,
  };
}

export interface FanoutOptions {
  /** Windows per point; the figures are their element-wise medians. */
  reps: number;
  seconds: number;
  warmupSeconds: number;
  parser: ParserKind;
  /** Viewer processes for n viewers. */
  procsFor(n: number): number;
  /** Serve and view over tls:// with this certificate and key (PEM) instead of tcp://. */
  tls?: { cert: string; key: string };
}

/** (c) One point: n viewers of one 720p30 publisher. */
export async function runFanout(
  n: number,
  o: FanoutOptions,
): Promise<WindowResult & { n: number; procs: number; windows: WindowResult[] }> {
  const procs = o.procsFor(n);
  const s = await setupFanout(n, procs, o.parser, 1280, 720, 30, o.tls);
  try {
    await sleep(o.warmupSeconds * 1000);
    const windows: WindowResult[] = [];
    for (let i = 0; i < o.reps; i++) windows.push(await measureWindow(s, o.seconds));
    return { ...medianWindow(windows), n, procs, windows };
  } finally {
    await s.close();
  }
}
