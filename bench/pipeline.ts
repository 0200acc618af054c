/**
 * (a) latency at 30 fps and (b) unthrottled throughput: one publisher, one
 * relay, one viewer — three processes:
 *
 *   publisher-child (testPattern + sharp encode + publish())
 *     ──tcp──► relay-child (createRelay().listenTcp)
 *       ──tcp──► this process (subscribe(), the library's viewer; optional sharp decode)
 *
 * Latency is capture→arrival as the library computes it: the Subscription
 * converts captureUs to this process's clock (relay restamp + ping/pong
 * offset), and we take nowUs() − captureUs when the iterator yields the
 * frame (microseconds after the parser emitted it). "decoded" adds a JPEG
 * decode with sharp (to raw RGB) at the viewer, one decode at a time (a
 * frame that arrives while one is decoding is not decoded — a display shows
 * the newest picture), to compare with the seeds' capture→decoded figure.
 */
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { nowUs, subscribe } from '../src/index.js';
import os from 'node:os';
import { cpuPercent, spawnChild, type Child, type ProcUsage } from './ipc.js';
import { busyCores, cpuTimes } from './machine.js';
import { mean, median, ms, pct, sleep } from './stats.js';

export interface PipelineOptions {
  width: number;
  height: number;
  /** 0 = unthrottled. */
  fps: number;
  seconds: number;
  warmupSeconds: number;
  decode: boolean;
}

export interface PipelineResult {
  width: number;
  height: number;
  fpsTarget: number;
  seconds: number;
  frames: number;
  viewerFps: number;
  publisherFps: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  latencyMaxMs: number;
  firstSecondP50Ms: number;
  lastSecondP50Ms: number;
  /** Median over the window of the library's own 1-second stats (cross-check). */
  libStatsP50Ms: number;
  libStatsP95Ms: number;
  /** Publisher side, median of its 1-s stats: capture → frame handed to the socket (draw + JPEG encode + send). */
  pubCaptureToSentP50Ms: number;
  decodedFrames: number;
  decodedMeanMs: number;
  decodedP50Ms: number;
  decodedP95Ms: number;
  decodeOnlyP50Ms: number;
  relaySkipped: number;
  viewerDropped: number;
  relayCpuPct: number;
  publisherCpuPct: number;
  viewerCpuPct: number;
  bytesPerFrame: number;
  /** Busy cores machine-wide during the window, and the part not used by the three processes. */
  machineBusyCores: number;
  otherBusyCores: number;
}

interface PubStats {
  framesReceived: number;
  latencyP50Ms: number | null;
  framesNotSent: number;
  kbps: number;
  usage: ProcUsage;
}

/** Starts a relay child; resolves with it and its port. */
export async function startRelay(tls?: { cert: string; key: string }): Promise<{ relay: Child; port: number }> {
  // BENCH_PROFILE=1: the relay writes a V8 CPU profile to bench-results/prof/ when it exits.
  const prof =
    process.env.BENCH_PROFILE === '1'
      ? ['--cpu-prof', `--cpu-prof-dir=${fileURLToPath(new URL('../../bench-results/prof/', import.meta.url))}`]
      : [];
  // With `tls` (PEM), the relay's TCP port speaks tls:// only.
  const relay = spawnChild('relay-child', 'relay', tls ? [JSON.stringify({ tls })] : [], prof);
  const { port } = await relay.once<{ port: number }>('ready');
  return { relay, port };
}

/** Starts a test-pattern publisher child on `url`. */
export async function startPublisher(url: string, width: number, height: number, fps: number): Promise<Child> {
  // A tls:// URL: the bench's own relay, its throwaway certificate not checked.
  const tls = url.startsWith('tls:') ? { insecure: true } : undefined;
  const pub = spawnChild('publisher-child', 'publisher', [JSON.stringify({ url, width, height, fps, tls })]);
  await pub.once('ready');
  return pub;
}

function selfUsage(): ProcUsage {
  const c = process.cpuUsage();
  return { cpuUs: c.user + c.system, wallUs: performance.now() * 1000, rss: process.memoryUsage.rss() };
}

export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  sharp.cache(false);
  const stream = `bench-${o.width}x${o.height}-${o.fps}`;
  const { relay, port } = await startRelay();
  const children: Child[] = [relay];
  try {
    const url = `tcp://127.0.0.1:${port}/${stream}`;
    children.push(await startPublisher(url, o.width, o.height, o.fps));
    const pub = children[1] as Child;
    const sub = subscribe(url, { reconnect: false });
    await sub.ready;

    let recording = false;
    let t0 = 0;
    const lat: number[] = [];
    const at: number[] = [];
    const dec: number[] = [];
    const decOnly: number[] = [];
    let bytes = 0;
    let decoding = false;
    const libP50: number[] = [];
    const libP95: number[] = [];

    const consume = (async () => {
      for await (const frame of sub) {
        const now = nowUs();
        if (!recording) continue;
        lat.push(now - frame.captureUs);
        at.push(now - t0);
        bytes += frame.data.length;
        if (o.decode && !decoding) {
          decoding = true;
          const cap = frame.captureUs;
          sharp(frame.data)
            .raw()
            .toBuffer()
            .then(
              () => {
                const done = nowUs();
                if (recording) {
                  dec.push(done - cap);
                  decOnly.push(done - now);
                }
              },
              () => undefined,
            )
            .finally(() => (decoding = false));
        }
      }
    })();

    await sleep(o.warmupSeconds * 1000);
    const skipped0 = (await relay.call<{ skipped: number }[]>('viewers', { stream }))[0]?.skipped ?? 0;
    const dropped0 = sub.stats().framesDropped;
    const r0 = await relay.call<ProcUsage>('usage');
    const p0 = await pub.call<PubStats>('stats');
    const v0 = selfUsage();
    const m0 = cpuTimes();
    t0 = nowUs();
    recording = true;
    const pubP50: number[] = [];
    const libTimer = setInterval(() => {
      const s = sub.stats();
      if (s.latencyP50Ms !== null) libP50.push(s.latencyP50Ms);
      if (s.latencyP95Ms !== null) libP95.push(s.latencyP95Ms);
      void pub.call<PubStats>('stats').then(
        (p) => p.latencyP50Ms !== null && pubP50.push(p.latencyP50Ms),
        () => undefined,
      );
    }, 1000);
    await sleep(o.seconds * 1000);
    recording = false;
    clearInterval(libTimer);
    const windowUs = nowUs() - t0;
    const v1 = selfUsage();
    const m1 = cpuTimes();
    const r1 = await relay.call<ProcUsage>('usage');
    const p1 = await pub.call<PubStats>('stats');
    const skipped1 = (await relay.call<{ skipped: number }[]>('viewers', { stream }))[0]?.skipped ?? 0;
    const dropped1 = sub.stats().framesDropped;
    sub.close();
    await consume.catch(() => undefined);
    // Let a decode in flight finish before the next run starts.
    while (decoding) await sleep(5);

    const machine = busyCores(m0, m1, os.cpus().length);
    const ours = (cpuPercent(r0, r1) + cpuPercent(p0.usage, p1.usage) + cpuPercent(v0, v1)) / 100;
    const inSecond = (from: number, to: number): number[] => lat.filter((_, i) => (at[i] as number) >= from && (at[i] as number) < to);
    return {
      width: o.width,
      height: o.height,
      fpsTarget: o.fps,
      seconds: windowUs / 1e6,
      frames: lat.length,
      viewerFps: lat.length / (windowUs / 1e6),
      publisherFps: (p1.framesReceived - p0.framesReceived) / ((p1.usage.wallUs - p0.usage.wallUs) / 1e6),
      latencyP50Ms: ms(pct(lat, 0.5)),
      latencyP95Ms: ms(pct(lat, 0.95)),
      latencyMaxMs: ms(pct(lat, 1)),
      firstSecondP50Ms: ms(median(inSecond(0, 1e6))),
      lastSecondP50Ms: ms(median(inSecond(windowUs - 1e6, windowUs))),
      libStatsP50Ms: median(libP50),
      libStatsP95Ms: median(libP95),
      pubCaptureToSentP50Ms: median(pubP50),
      decodedFrames: dec.length,
      decodedMeanMs: ms(mean(dec)),
      decodedP50Ms: ms(pct(dec, 0.5)),
      decodedP95Ms: ms(pct(dec, 0.95)),
      decodeOnlyP50Ms: ms(pct(decOnly, 0.5)),
      relaySkipped: skipped1 - skipped0,
      viewerDropped: dropped1 - dropped0,
      relayCpuPct: cpuPercent(r0, r1),
      publisherCpuPct: cpuPercent(p0.usage, p1.usage),
      viewerCpuPct: cpuPercent(v0, v1),
      bytesPerFrame: lat.length ? bytes / lat.length : NaN,
      machineBusyCores: machine,
      otherBusyCores: machine - ours,
    };
  } finally {
    await Promise.all(children.map((c) => c.close()));
  }
}
