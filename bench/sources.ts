/**
 * Sources benchmark: for each source type at 1280x720, 30 fps, publish
 * through an in-process relay to one viewer and measure, over a few seconds,
 * the CPU of the source's ffmpeg child and of this Node process (relay,
 * publisher and viewer together), the frame rate the viewer gets, and the
 * capture-to-viewer latency (capture = when the picture's last byte left
 * ffmpeg, or the HTTP chunk that completed it arrived).
 *
 *   node dist/bench/sources.js [seconds]     prints a markdown table
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRelay, nowUs, openSource, publish, subscribe, type OpenedSource } from '../src/index.js';
import { freePort, noFfmpeg, own, runFfmpeg, type Owned } from '../test/helpers/procs.js';
import { startRtspServer, type RtspServer } from '../test/helpers/rtsp-server.js';
import { noXvfb, startXvfb, type Xvfb } from '../test/helpers/xvfb.js';

const seconds = Number(process.argv[2] ?? 4);
const W = 1280;
const H = 720;
const FPS = 30;

/** CPU seconds (user+system) of a process from /proc; 0 when unknown. */
function procCpu(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

function pct(sorted: number[], p: number): number {
  return sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number) : NaN;
}

interface Row {
  source: string;
  fps: number;
  ffmpegCpu: string;
  nodeCpu: number;
  p50: number;
  p95: number;
  kb: number;
}

async function measure(name: string, src: OpenedSource, port: number): Promise<Row> {
  await src.ready;
  const stream = name.replace(/[^a-z0-9]/gi, '').slice(0, 40);
  const pub = await publish(`tcp://127.0.0.1:${port}/${stream}`, src, { reconnect: false });
  const sub = subscribe(`tcp://127.0.0.1:${port}/${stream}`, { reconnect: false });
  const pid = (src as { pid?: number }).pid;
  const lat: number[] = [];
  let bytes = 0;
  let frames = 0;
  let t0 = 0;
  let cpu0 = process.cpuUsage();
  let ff0 = 0;
  const warmUntil = Date.now() + 1000;
  const endAt = warmUntil + seconds * 1000;
  for await (const f of sub) {
    const now = Date.now();
    if (now < warmUntil) continue;
    if (t0 === 0) {
      t0 = performance.now();
      cpu0 = process.cpuUsage();
      ff0 = procCpu(pid);
      continue;
    }
    lat.push((nowUs() - f.captureUs) / 1000);
    bytes += f.data.length;
    frames++;
    if (now >= endAt) break;
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const ff = procCpu(pid) - ff0;
  sub.close();
  pub.close();
  await pub.done.catch(() => undefined);
  lat.sort((a, b) => a - b);
  return {
    source: name,
    fps: frames / wall,
    ffmpegCpu: pid === undefined ? '–' : `${((ff / wall) * 100).toFixed(0)} %`,
    nodeCpu: ((cpu.user + cpu.system) / 1e6 / wall) * 100,
    p50: pct(lat, 50),
    p95: pct(lat, 95),
    kb: bytes / Math.max(1, frames) / 1024,
  };
}

async function main(): Promise<void> {
  const relay = createRelay();
  const { port } = await relay.listenTcp(0);
  const rows: Row[] = [];
  const notes: string[] = [];
  const opts = { width: W, height: H, fps: FPS, quality: 75 };
  rows.push(await measure('test pattern (sharp, in Node)', openSource('test', opts), port));
  if (noFfmpeg) notes.push(`ffmpeg sources skipped: ${noFfmpeg}`);
  else {
    const dir = mkdtempSync(path.join(tmpdir(), 'fw-bench-'));
    const clip = path.join(dir, 'clip.mp4');
    await runFfmpeg([
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${W}x${H}:rate=${FPS}`,
      '-t',
      '4',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      clip,
    ]);
    rows.push(await measure('file (H.264 mp4, real time, --loop)', openSource(clip, { ...opts, loop: true }), port));
    if (noXvfb) notes.push(`screen skipped: ${noXvfb}`);
    else {
      const x: Xvfb = await startXvfb(W, H);
      x.fill('#336699');
      try {
        rows.push(await measure('screen (x11grab on Xvfb)', openSource(`screen:${x.display}`, opts), port));
      } finally {
        await x.stop();
      }
    }
    let rtsp: RtspServer | undefined;
    try {
      rtsp = await startRtspServer();
      rows.push(await measure('rtsp (H.264 320x240 15 fps camera, scaled up)', openSource(rtsp.url, opts), port));
    } finally {
      await rtsp?.stop();
    }
    const httpPort = await freePort();
    const cam: Owned = own(process.env.FFMPEG_PATH || 'ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-re',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${W}x${H}:rate=${FPS}`,
      '-c:v',
      'mjpeg',
      '-q:v',
      '9',
      '-f',
      'mpjpeg',
      '-listen',
      '1',
      `http://127.0.0.1:${httpPort}/`,
    ]);
    await new Promise((r) => setTimeout(r, 400));
    try {
      rows.push(
        await measure(
          'http MJPEG (ffmpeg server; passthrough, no ffmpeg child)',
          openSource(`http://127.0.0.1:${httpPort}/`, { fps: FPS }),
          port,
        ),
      );
    } finally {
      await cam.stop();
    }
    rmSync(dir, { recursive: true, force: true });
  }
  await relay.close();
  process.stdout.write(
    `Sources at ${W}x${H} @ ${FPS} fps, q75, ${seconds} s each, one viewer through an in-process TCP relay (${process.platform}, ${process.arch}, Node ${process.version}).\n\n`,
  );
  process.stdout.write(
    '| source | viewer fps | ffmpeg CPU | Node CPU (relay+pub+viewer) | latency p50 | latency p95 | KiB/frame |\n|---|---:|---:|---:|---:|---:|---:|\n',
  );
  for (const r of rows) {
    process.stdout.write(
      `| ${r.source} | ${r.fps.toFixed(1)} | ${r.ffmpegCpu} | ${r.nodeCpu.toFixed(0)} % | ${r.p50.toFixed(1)} ms | ${r.p95.toFixed(1)} ms | ${r.kb.toFixed(0)} |\n`,
    );
  }
  for (const n of notes) process.stdout.write(`\n${n}\n`);
  process.stdout.write(
    '\nCPU is per core (100 % = one core). Latency is capture (last byte out of ffmpeg / of the HTTP chunk) to the viewer. The RTSP and HTTP cameras are emulated by other ffmpeg processes, not counted.\n',
  );
}

await main();
process.exit(0);
