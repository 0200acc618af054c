/**
 * (d) Stalled-viewer isolation: N normal light viewers of a 720p30 stream;
 * then one more viewer connects, says hello and never reads again (its
 * socket is paused). Three windows: before the stall, the first window after
 * it (kernel socket buffers filling), and the next one (relay skipping for
 * the stalled viewer, measured once the first skip is seen). Meanwhile the relay's RSS and the stalled viewer's
 * sent/skipped counts (relay.viewers()) are sampled every 500 ms.
 */
import type { ProcUsage } from './ipc.js';
import type { ParserKind } from './light-viewer.js';
import { measureWindow, medianWindow, setupFanout, type WindowResult } from './fanout.js';
import { sleep } from './stats.js';

export interface StallOptions {
  /** Windows before the stall and once the relay skips for it (medians reported). */
  reps: number;
  normals: number;
  seconds: number;
  warmupSeconds: number;
  parser: ParserKind;
  procs: number;
}

export interface StallSample {
  tS: number;
  relayRssMb: number;
  stalledSent: number;
  stalledSkipped: number;
}

export interface StallResult {
  normals: number;
  before: WindowResult;
  after1: WindowResult;
  after2: WindowResult;
  /** Others' pooled p95 of each window before the stall (their spread is the noise floor). */
  beforeP95s: number[];
  after2P95s: number[];
  timeline: StallSample[];
  /** Seconds from the stall until the relay first skipped a frame for the stalled viewer. */
  firstSkipAfterS: number | null;
  stalledSent: number;
  stalledSkipped: number;
  /** Stalled viewer's sent count stopped growing (the relay holds it at one pending frame). */
  stalledSentPlateau: boolean;
}

interface RelayViewer {
  session: string;
  sent: number;
  skipped: number;
}

export async function runStall(o: StallOptions): Promise<StallResult> {
  const s = await setupFanout(o.normals, o.procs, o.parser);
  try {
    await sleep(o.warmupSeconds * 1000);
    const beforeWs: WindowResult[] = [];
    for (let i = 0; i < o.reps; i++) beforeWs.push(await measureWindow(s, o.seconds));
    const before = medianWindow(beforeWs);
    const known = new Set((await s.relay.call<RelayViewer[]>('viewers', { stream: s.stream })).map((v) => v.session));
    const t0 = performance.now();
    await (s.viewerProcs[0] as (typeof s.viewerProcs)[number]).call('add', { n: 1, stall: true });
    const timeline: StallSample[] = [];
    let stalledId: string | undefined;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [vs, u] = await Promise.all([s.relay.call<RelayViewer[]>('viewers', { stream: s.stream }), s.relay.call<ProcUsage>('usage')]);
        stalledId ??= vs.find((v) => !known.has(v.session))?.session;
        const st = vs.find((v) => v.session === stalledId);
        timeline.push({
          tS: (performance.now() - t0) / 1000,
          relayRssMb: u.rss / 1024 / 1024,
          stalledSent: st?.sent ?? 0,
          stalledSkipped: st?.skipped ?? 0,
        });
        await sleep(500);
      }
    })();
    const after1 = await measureWindow(s, o.seconds);
    // Window 2 starts once the relay is skipping for the stalled viewer (its
    // kernel socket buffers are full), so it measures the steady stalled state.
    const waitUntil = performance.now() + 20_000;
    while (!timeline.some((t) => t.stalledSkipped > 0) && performance.now() < waitUntil) await sleep(250);
    const after2Ws: WindowResult[] = [];
    for (let i = 0; i < o.reps; i++) after2Ws.push(await measureWindow(s, o.seconds));
    const after2 = medianWindow(after2Ws);
    sampling = false;
    await sampler;
    const last = timeline[timeline.length - 1];
    const firstSkip = timeline.find((t) => t.stalledSkipped > 0);
    // Plateau: the sent count did not move over the last 3 s of samples.
    const tail = timeline.filter((t) => last && t.tS >= last.tS - 3);
    const plateau = tail.length >= 2 && tail[0]?.stalledSent === last?.stalledSent;
    return {
      normals: o.normals,
      before,
      after1,
      after2,
      beforeP95s: beforeWs.map((w) => w.latencyP95Ms),
      after2P95s: after2Ws.map((w) => w.latencyP95Ms),
      timeline,
      firstSkipAfterS: firstSkip ? firstSkip.tS : null,
      stalledSent: last?.stalledSent ?? 0,
      stalledSkipped: last?.stalledSkipped ?? 0,
      stalledSentPlateau: plateau,
    };
  } finally {
    await s.close();
  }
}
