/**
 * Optional side-by-side: the seeds' seed003 (Python + OpenCV, TCP 'lhh') at
 * 720p30, no sleep, run in the same bench run (same machine state). Needs
 * /usr/bin/python3 with cv2 and ffmpeg for a short testsrc2 clip (made once
 * into the OS temp dir, not into the shared seeds folder). Skips with a note
 * when anything is missing.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sleep } from './stats.js';

const SEEDS = '/work/shared/bench/seeds';
const PY = '/usr/bin/python3';

export type SeedResult =
  | { ran: false; note: string }
  | {
      ran: true;
      seconds: number;
      rxFps: number;
      frames: number;
      latencyMeanMs: number;
      latencyP50Ms: number;
      latencyP95Ms: number;
      bytesPerFrame: number;
      jpegQuality: number;
      command: string[];
    };

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, _stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr: String(stderr) });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
}

/** Makes (once) a 4-second 720p30 testsrc2 clip like make_media.sh's, in the temp dir. */
async function media(): Promise<string | undefined> {
  const dir = path.join(os.tmpdir(), 'framewire-bench-media');
  const file = path.join(dir, 'test_1280x720_4s.mp4');
  if (existsSync(file) && statSync(file).size > 0) return file;
  mkdirSync(dir, { recursive: true });
  const r = await run(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=1280x720:rate=30:duration=4',
      '-c:v',
      'libx264',
      '-preset',
      'medium',
      '-crf',
      '18',
      '-pix_fmt',
      'yuv420p',
      '-g',
      '30',
      file,
    ],
    60_000,
  );
  return r.code === 0 ? file : undefined;
}

export async function runSeed003(seconds: number): Promise<SeedResult> {
  if (!existsSync(PY) || !existsSync(path.join(SEEDS, 'seed003_tcp_lhh.py'))) return { ran: false, note: `${PY} or seed003 not found` };
  if ((await run(PY, ['-c', 'import cv2, numpy'], 20_000)).code !== 0)
    return { ran: false, note: `${PY} has no cv2 (python3-opencv not installed yet)` };
  const video = await media();
  if (!video) return { ran: false, note: 'ffmpeg could not make the test clip' };
  const tmp = path.join(os.tmpdir(), `framewire-bench-seed-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  const port = await freePort();
  const ready = path.join(tmp, 'ready');
  const txOut = path.join(tmp, 'tx.json');
  const rxOut = path.join(tmp, 'rx.json');
  const script = path.join(SEEDS, 'seed003_tcp_lhh.py');
  const server = [
    script,
    '--role',
    'server',
    '--port',
    String(port),
    '--video',
    video,
    '--sleep',
    '0',
    '--fps',
    '30',
    '--duration',
    String(seconds),
    '--ready',
    ready,
    '--out',
    txOut,
    '--start-timeout',
    '20',
  ];
  const client = [
    script,
    '--role',
    'client',
    '--port',
    String(port),
    '--width',
    '1280',
    '--height',
    '720',
    '--duration',
    String(seconds),
    '--out',
    rxOut,
    '--start-timeout',
    '20',
  ];
  const procs = [spawn(PY, server, { cwd: SEEDS, stdio: 'ignore' })];
  const killAll = (): void => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  };
  // If the bench is interrupted (process.exit in its signal handler), take the Python pair down too.
  process.once('exit', killAll);
  const exited = (p: (typeof procs)[number]): Promise<void> =>
    new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));
  try {
    const deadline = Date.now() + 30_000;
    while (!existsSync(ready)) {
      if (Date.now() > deadline || procs[0]?.exitCode !== null) return { ran: false, note: 'seed003 server did not start' };
      await sleep(100);
    }
    procs.push(spawn(PY, client, { cwd: SEEDS, stdio: 'ignore' }));
    const limit = setTimeout(killAll, (seconds + 40) * 1000);
    await Promise.all(procs.map(exited));
    clearTimeout(limit);
    if (!existsSync(rxOut) || !existsSync(txOut)) return { ran: false, note: 'seed003 wrote no results' };
    const rx = JSON.parse(readFileSync(rxOut, 'utf8')) as {
      rx_fps: number;
      rx_window_s: number;
      frames_intact: number;
      latency_capture_to_decoded: { mean_ms: number; p50_ms: number; p95_ms: number };
    };
    const tx = JSON.parse(readFileSync(txOut, 'utf8')) as { bytes_per_frame_mean: number; jpeg_quality: number };
    return {
      ran: true,
      seconds: rx.rx_window_s,
      rxFps: rx.rx_fps,
      frames: rx.frames_intact,
      latencyMeanMs: rx.latency_capture_to_decoded.mean_ms,
      latencyP50Ms: rx.latency_capture_to_decoded.p50_ms,
      latencyP95Ms: rx.latency_capture_to_decoded.p95_ms,
      bytesPerFrame: tx.bytes_per_frame_mean,
      jpegQuality: tx.jpeg_quality,
      command: [`${PY} ${server.join(' ')}`, `${PY} ${client.join(' ')}`],
    };
  } finally {
    process.off('exit', killAll);
    killAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}
