/**
 * Soak: the real CLI relay (`framewire serve --tcp 0 --http 0 --udp 0`)
 * alone in its process, 50 viewers over TCP, WebSocket, MJPEG and UDP in two
 * viewer processes, a CLI publisher (test pattern) killed and started afresh
 * every minute, and one more viewer arriving and leaving every second on
 * each transport in turn. Prints a table per minute (relay RSS, open fds,
 * CPU, viewers with frames, frames per transport), a table per publisher
 * restart (how long each transport's viewers took to get frames again), and
 * PASS/FAIL per target.
 *
 *   processes:  bench ─┬─ relay      node bin/framewire.js serve …   (RSS, fds, CPU from /proc)
 *                      ├─ publisher  node bin/framewire.js publish …  (SIGKILL / SIGTERM in turn, every minute)
 *                      └─ viewers ×2 dist/bench/soak-viewers.js        (25 viewers each; the first also churns)
 *
 * Environment: SOAK_MINUTES (default 10), SOAK_SIZE (default 640x360), SOAK_FPS (default 30),
 * SOAK_HEAP=1 (relay under --inspect: a forced GC and its heap figures each minute, to tell a leak from GC slack).
 * Usage: node dist/bench/soak.js   (or BENCH_ONLY=soak npm run bench)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { nowUs } from '../src/index.js';
import { killAllChildren, spawnChild, type Child } from './ipc.js';
import { connectInspector, inspectorUrl, type HeapFigures, type Inspector } from './inspector.js';
import { busyCores, cpuTimes } from './machine.js';
import { allProcesses, descendants, fdCount, procStat, rssBytes, TICKS_PER_S, type ProcStat } from './procfs.js';
import { renderSoak, type MinuteRow, type RestartRow, type SoakEnd } from './soak-report.js';
import type { BackSample, MinuteReport, SoakViewerArgs, Transport } from './soak-viewers.js';
import { median, sleep } from './stats.js';

const minutes = Number(process.env.SOAK_MINUTES ?? 10);
if (!(minutes >= 1)) throw new Error(`SOAK_MINUTES must be ≥ 1, got ${process.env.SOAK_MINUTES}`);
const size = process.env.SOAK_SIZE ?? '640x360';
const fps = Number(process.env.SOAK_FPS ?? 30);
/** SOAK_HEAP=1: relay under --inspect; each minute a forced GC and the heap figures (the RSS column then shows post-GC behaviour). */
const heapMode = process.env.SOAK_HEAP === '1';
const STREAM = 'soak';
const BIN = fileURLToPath(new URL('../../bin/framewire.js', import.meta.url));
/** The 50 viewers, per viewer process. */
const SPLIT: Record<Transport, number>[] = [
  { tcp: 8, ws: 8, mjpeg: 5, udp: 5 },
  { tcp: 7, ws: 7, mjpeg: 5, udp: 5 },
];
const log = (line: string): void => void process.stderr.write(`[soak] ${line}\n`);

/** Every process the bench started or saw in its tree, to prove at the end that none outlived it. */
const seen = new Map<number, ProcStat & { what: string }>();
function track(pid: number | undefined, what: string): void {
  const st = pid === undefined ? undefined : procStat(pid);
  if (st && !seen.has(st.pid)) seen.set(st.pid, { ...st, what });
}

/** A CLI child whose stderr lines are kept (the last 20) and counted by JSON event. */
interface CliChild {
  cp: ChildProcess;
  exited: Promise<void>;
  lines: string[];
  events: Map<string, number>;
  /** The last 10 "error" events (JSON lines). */
  errors: string[];
  onLine?: (line: string) => void;
}

/** CLI children not yet reaped (killed if the bench fails or is interrupted). */
const cliLive = new Set<ChildProcess>();

function spawnCli(args: string[], what: string, nodeArgs: string[] = []): CliChild {
  const cp = spawn(process.execPath, [...nodeArgs, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  cliLive.add(cp);
  const c: CliChild = {
    cp,
    exited: new Promise((r) => cp.once('exit', () => r(void cliLive.delete(cp)))),
    lines: [],
    events: new Map(),
    errors: [],
  };
  track(cp.pid, what);
  createInterface({ input: cp.stderr as NodeJS.ReadableStream }).on('line', (line) => {
    c.onLine?.(line);
    c.lines.push(line);
    if (c.lines.length > 20) c.lines.shift();
    if (!line.startsWith('{')) return;
    try {
      const ev = String((JSON.parse(line) as { event?: unknown }).event);
      c.events.set(ev, (c.events.get(ev) ?? 0) + 1);
      if (ev === 'error') {
        c.errors.push(line);
        if (c.errors.length > 10) c.errors.shift();
      }
    } catch {
      // not JSON: kept in lines only
    }
  });
  return c;
}

async function stopCli(c: CliChild, signal: NodeJS.Signals, graceMs = 5000): Promise<{ ms: number; forced: boolean }> {
  const t = performance.now();
  if (c.cp.exitCode !== null || c.cp.signalCode !== null) return { ms: 0, forced: false };
  c.cp.kill(signal);
  let forced = false;
  const timer = setTimeout(() => {
    forced = true;
    c.cp.kill('SIGKILL');
  }, graceMs);
  await c.exited;
  clearTimeout(timer);
  return { ms: performance.now() - t, forced };
}

async function startRelay(): Promise<{
  relay: CliChild;
  ports: { tcp: number; http: number; udp: number };
  inspector: Inspector | undefined;
}> {
  const relay = spawnCli(
    ['serve', '--tcp', '0', '--http', '0', '--udp', '0', '--json'],
    'relay',
    heapMode ? ['--inspect=127.0.0.1:0'] : [],
  );
  const inspector = heapMode
    ? new Promise<Inspector>((resolve, reject) => {
        relay.onLine = (line) => {
          const url = inspectorUrl(line);
          if (url) connectInspector(url).then(resolve, reject);
        };
      })
    : undefined;
  const first = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: relay.cp.stdout as NodeJS.ReadableStream });
    rl.once('line', resolve);
    void relay.exited.then(() => reject(new Error(`relay exited: ${relay.lines.join('\n')}`)));
  });
  const l = JSON.parse(first) as { tcp: { port: number }; http: { port: number }; udp: { port: number } };
  relay.cp.stdout?.resume();
  return { relay, ports: { tcp: l.tcp.port, http: l.http.port, udp: l.udp.port }, inspector: await inspector };
}

function startPublisher(tcp: number): CliChild {
  return spawnCli(['publish', `tcp://127.0.0.1:${tcp}/${STREAM}`, '--size', size, '--fps', String(fps)], 'publisher');
}

async function relayClients(http: number): Promise<{ clients: number; viewers: number; live: boolean }> {
  try {
    const r = await fetch(`http://127.0.0.1:${http}/api/streams`);
    const j = (await r.json()) as { clients: number; streams: { name: string; viewers: number; live: boolean }[] };
    const s = j.streams.find((x) => x.name === STREAM);
    return { clients: j.clients, viewers: s?.viewers ?? 0, live: s?.live ?? false };
  } catch {
    return { clients: NaN, viewers: NaN, live: false };
  }
}

/** Per-restart result from the viewers' first frames captured after the old publisher was gone. */
function restartRow(
  i: number,
  signal: string,
  killUs: number,
  goneUs: number,
  samples: { transport: Transport; back: BackSample | null }[],
): RestartRow {
  const got = samples.filter((s) => s.back !== null) as { transport: Transport; back: BackSample }[];
  // The new publisher's first frame: seq 0 on the wire if any viewer got it, else the earliest one seen.
  const first = got.find((s) => s.back.seq === 0)?.back ?? got.map((s) => s.back).sort((x, y) => x.captureUs - y.captureUs)[0];
  const refUs = first?.captureUs ?? NaN;
  const worst: Partial<Record<Transport, number>> = {};
  const missing: Partial<Record<Transport, number>> = {};
  for (const s of samples) {
    if (s.back === null) {
      missing[s.transport] = (missing[s.transport] ?? 0) + 1;
      continue;
    }
    const d = (s.back.arrivalUs - refUs) / 1000;
    worst[s.transport] = Math.max(worst[s.transport] ?? -Infinity, d);
  }
  const arrivals = got.map((s) => s.back.arrivalUs);
  const lastArrival = Math.max(...arrivals);
  return {
    i,
    signal,
    killToGoneMs: (goneUs - killUs) / 1000,
    goneToFirstFrameMs: (refUs - goneUs) / 1000,
    firstSeq: first?.seq ?? NaN,
    firstBackMs: (Math.min(...arrivals) - refUs) / 1000,
    worstBackMs: worst,
    missing,
    back: got.length,
    of: samples.length,
    killToAllBackMs: (lastArrival - killUs) / 1000,
  };
}

async function main(): Promise<void> {
  const { relay, ports, inspector } = await startRelay();
  const relayPid = relay.cp.pid as number;
  log(`relay pid ${relayPid} tcp=${ports.tcp} http=${ports.http} udp=${ports.udp}`);
  let pub = startPublisher(ports.tcp);
  const viewerProcs: Child[] = SPLIT.map((viewers, k) => {
    const args: SoakViewerArgs = { ...ports, stream: STREAM, viewers, churn: k === 0 };
    const c = spawnChild('soak-viewers', `viewers${k}`, [JSON.stringify(args)]);
    track(c.pid, `viewers${k}`);
    return c;
  });
  await Promise.all(viewerProcs.map((c) => c.once('ready')));
  await Promise.all(viewerProcs.map((c) => c.call('ready', {}, 60_000)));
  const nViewers = SPLIT.reduce((a, s) => a + s.tcp + s.ws + s.mjpeg + s.udp, 0);
  log(`${nViewers} viewers have frames; soaking ${minutes} min at ${size} ${fps} fps`);

  const rows: MinuteRow[] = [];
  const restarts: RestartRow[] = [];
  let samples: { rss: number; fds: number }[] = [];
  const sampler = setInterval(() => {
    const rss = rssBytes(relayPid);
    const fds = fdCount(relayPid);
    if (rss !== undefined && fds !== undefined) samples.push({ rss, fds });
  }, 1000);
  const t0 = performance.now();
  const at = (s: number): Promise<void> => sleep(Math.max(0, t0 + s * 1000 - performance.now()));
  let cpu0 = procStat(relayPid)?.cpuTicks ?? NaN;
  let wall0 = performance.now();
  let errors0 = 0;
  let machine0 = cpuTimes();
  try {
    for (let m = 1; m <= minutes; m++) {
      // Publisher restart at the middle of the minute.
      await at((m - 1) * 60 + 30);
      const signal: NodeJS.Signals = m % 2 === 1 ? 'SIGKILL' : 'SIGTERM';
      const killUs = nowUs();
      await stopCli(pub, signal);
      const goneUs = nowUs();
      await Promise.all(viewerProcs.map((c) => c.call('restart', { afterUs: goneUs })));
      pub = startPublisher(ports.tcp);
      await at(m * 60);
      const back = (await Promise.all(viewerProcs.map((c) => c.call<{ transport: Transport; back: BackSample | null }[]>('back')))).flat();
      restarts.push(restartRow(m, signal, killUs, goneUs, back));

      const reps = await Promise.all(viewerProcs.map((c) => c.call<MinuteReport>('minute')));
      const cpu1 = procStat(relayPid)?.cpuTicks ?? NaN;
      const wall1 = performance.now();
      const machine1 = cpuTimes();
      const tree = descendants(process.pid);
      for (const p of tree) track(p.pid, p.comm);
      const rc = await relayClients(ports.http);
      const heap: HeapFigures | undefined = await inspector?.heapAfterGc();
      const errors = relay.events.get('error') ?? 0;
      const vs = reps.flatMap((r) => r.viewers);
      const byT = (t: Transport): number => vs.filter((v) => v.transport === t).reduce((a, v) => a + v.frames, 0);
      const nT = (t: Transport): number => vs.filter((v) => v.transport === t).length;
      rows.push({
        minute: m,
        rssMedianMb: median(samples.map((s) => s.rss)) / 2 ** 20,
        rssMaxMb: Math.max(...samples.map((s) => s.rss)) / 2 ** 20,
        fdsMedian: median(samples.map((s) => s.fds)),
        fdsMax: Math.max(...samples.map((s) => s.fds)),
        cpuPct: ((cpu1 - cpu0) / TICKS_PER_S / ((wall1 - wall0) / 1000)) * 100,
        withFrames: vs.filter((v) => v.frames > 0).length,
        viewers: vs.length,
        frames: { tcp: byT('tcp'), ws: byT('ws'), mjpeg: byT('mjpeg'), udp: byT('udp') },
        fpsPerViewer: {
          tcp: byT('tcp') / nT('tcp') / 60,
          ws: byT('ws') / nT('ws') / 60,
          mjpeg: byT('mjpeg') / nT('mjpeg') / 60,
          udp: byT('udp') / nT('udp') / 60,
        },
        reconnects: vs.reduce((a, v) => a + v.reconnects, 0),
        churnOpened: reps.reduce((a, r) => a + r.churn.opened, 0),
        churnWithFrames: reps.reduce((a, r) => a + r.churn.withFrames, 0),
        relayClients: rc.clients,
        streamViewers: rc.viewers,
        relayErrors: errors - errors0,
        procs: tree.length,
        machineBusyCores: busyCores(machine0, machine1, os.cpus().length),
        heap,
      });
      log(
        `minute ${m}: RSS ${rows.at(-1)?.rssMedianMb.toFixed(1)} MB, fds ${rows.at(-1)?.fdsMedian}, restart worst ${JSON.stringify(restarts.at(-1)?.worstBackMs)}`,
      );
      samples = [];
      cpu0 = cpu1;
      wall0 = wall1;
      errors0 = errors;
      machine0 = machine1;
    }
  } finally {
    clearInterval(sampler);
  }

  // Teardown, then look for anything left alive.
  inspector?.close();
  await Promise.all(viewerProcs.map((c) => c.close()));
  const pubStop = await stopCli(pub, 'SIGTERM');
  const relayStop = await stopCli(relay, 'SIGTERM');
  await sleep(1000);
  const alive = allProcesses();
  const leftovers = [...seen.values()].filter((p) => alive.get(p.pid)?.startTicks === p.startTicks);
  const stillInTree = descendants(process.pid, alive);
  const end: SoakEnd = {
    minutes,
    size,
    fps,
    viewers: SPLIT,
    tracked: seen.size,
    leftovers: [...leftovers, ...stillInTree].map((p) => `${p.pid} ${p.comm} (${alive.get(p.pid)?.state ?? '?'})`),
    relayStopMs: relayStop.ms,
    relayStopForced: relayStop.forced,
    publisherStopForced: pubStop.forced,
    relayEvents: Object.fromEntries(relay.events),
    relayLastLines: relay.errors.slice(-5),
  };
  process.stdout.write(`${renderSoak(rows, restarts, end)}\n`);
}

function killEverything(): void {
  killAllChildren();
  for (const cp of cliLive) cp.kill('SIGKILL');
}
process.on('SIGINT', () => {
  killEverything();
  process.exit(130);
});
process.on('SIGTERM', () => {
  killEverything();
  process.exit(143);
});
main().catch((err: unknown) => {
  process.stderr.write(`bench/soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  killEverything();
  process.exit(1);
});
