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
import { cpuPercent, spawnChild, type Child, type ProcUsage } from './ipc.js';
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
  sent: number;
  skipped: number;
}

/** Starts relay, publisher and `procs` viewer processes with `n` viewers between them. */
export async function setupFanout(n: number, procs: number, parser: ParserKind, width = 1280, height = 720, fps = 30): Promise<FanoutSetup> {
  const stream = `fan-${n}`;
  const { relay, port } = await startRelay();
  const all: Child[] = [relay];
  const close = async (): Promise<void> => {
    await Promise.all(all.map((c) => c.close()));
  };
  try {
    const pub = await startPublisher(`tcp://127.0.0.1:${port}/${stream}`, width, height, fps);
    all.push(pub);
    const viewerProcs: Child[] = [];
    for (let i = 0; i < procs; i++) {
      const c = spawnChild('viewer-child', `viewers${i}`, [JSON.stringify({ port, stream, parser })]);
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
  /** Pooled over every frame of every (non-stalled) viewer. */
  latencyP50Ms: number;
  latencyP95Ms: number;
  /** Worst single viewer's p95. */
  worstViewerP95Ms: number;
  relayCpuPct: number;
  relayRssMb: number;
  relayRssPeakMb: number;
  relayLoopDelayP99Ms: number;
  viewerCpuPct: number[];
  publisherCpuPct: number;
  publisherFps: number;
  relaySkipped: number;
  closedViewers: number;
  /** Largest |clock offset| a viewer measured to the relay (same machine: should be ~0). */
  maxAbsOffsetUs: number;
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
  await sleep(seconds * 1000);
  const reports = await Promise.all(s.viewerProcs.map((c) => c.call<Report>('report')));
  const r1 = await s.relay.call<ProcUsage>('usage');
  const p1 = await s.pub.call<PubStats>('stats');
  const loop = await s.relay.call<{ p99Ms: number }>('loopDelay');
  const timeline = await s.relay.call<{ rss: number }[]>('rssTimeline', { sinceUs: r0.wallUs });
  const sk1 = skippedOf(await s.relay.call<RelayViewer[]>('viewers', { stream: s.stream }));

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
      for (let i = 0; i < v.latenciesUs.length; i++) {
        lat.push(v.latenciesUs[i] as number);
        at.push(v.arrivalsUs[i] as number);
      }
      maxOff = Math.max(maxOff, Math.abs(v.offsetUs));
    }
  });
  return {
    seconds: (r1.wallUs - r0.wallUs) / 1e6,
    viewers: fps.length,
    fpsMin: min(fps),
    fpsMedian: median(fps),
    latencyP50Ms: ms(pct(lat, 0.5)),
    latencyP95Ms: ms(pct(lat, 0.95)),
    worstViewerP95Ms: ms(max(p95s)),
    relayCpuPct: cpuPercent(r0, r1),
    relayRssMb: r1.rss / 1024 / 1024,
    relayRssPeakMb: Math.max(r1.rss, ...timeline.map((t) => t.rss)) / 1024 / 1024,
    relayLoopDelayP99Ms: loop.p99Ms,
    viewerCpuPct: reports.map((rep, i) => cpuPercent((v0[i] as { usage: ProcUsage }).usage, rep.usage)),
    publisherCpuPct: cpuPercent(p0.usage, p1.usage),
    publisherFps: (p1.framesReceived - p0.framesReceived) / ((p1.usage.wallUs - p0.usage.wallUs) / 1e6),
    relaySkipped: sk1 - sk0,
    closedViewers: closed,
    maxAbsOffsetUs: maxOff,
    samples: { at, lat },
  };
}

export interface FanoutOptions {
  seconds: number;
  warmupSeconds: number;
  parser: ParserKind;
  /** Viewer processes for n viewers. */
  procsFor(n: number): number;
}

/** (c) One point: n viewers of one 720p30 publisher. */
export async function runFanout(n: number, o: FanoutOptions): Promise<WindowResult & { n: number; procs: number }> {
  const procs = o.procsFor(n);
  const s = await setupFanout(n, procs, o.parser);
  try {
    await sleep(o.warmupSeconds * 1000);
    const w = await measureWindow(s, o.seconds);
    return { ...w, n, procs };
  } finally {
    await s.close();
  }
}
