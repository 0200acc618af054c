/**
 * The bare cost of TLS for a relay: one process writes a 32-byte header and
 * a 40 KB payload (a 720p JPEG) to each of N sockets 30 times a second, as
 * the relay's fan-out does, over plain TCP and over TLS; a child process
 * reads and discards. Reports the writer's CPU per frame written: what TLS
 * adds per viewer per frame, without the relay's other work and without a
 * saturated machine starving the viewers.
 *
 *   node dist/bench/tls-write.js [N=100] [seconds=5]
 *
 * The child side: argv "reader MODE N PORT".
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { relayNames, selfSignedCertificate } from '../src/cli/tls-cert.js';
import { f, table } from './stats.js';

type Mode = 'tcp' | 'tls';

export interface WriteCost {
  mode: Mode;
  sockets: number;
  framesPerSecond: number;
  cpuPct: number;
  usPerFrame: number;
  skipped: number;
}

const FRAME_BYTES = 40_000;

if (process.argv[2] === 'reader') {
  const [mode, n, port] = [process.argv[3] as Mode, Number(process.argv[4]), Number(process.argv[5])];
  for (let i = 0; i < n; i++) {
    const s = mode === 'tls' ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : net.connect(port, '127.0.0.1');
    s.on('data', () => undefined);
    s.on('error', () => undefined);
  }
}

/** One measurement: `n` sockets, `seconds` of writing after a second of warm-up. */
export async function measureWrite(mode: Mode, n: number, seconds: number, cert: { cert: Buffer; key: Buffer }): Promise<WriteCost> {
  const sockets: net.Socket[] = [];
  const server = mode === 'tls' ? tls.createServer(cert, (s) => sockets.push(s)) : net.createServer((s) => sockets.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const reader = fork(fileURLToPath(import.meta.url), ['reader', mode, String(n), String(port)], { stdio: 'ignore' });
  try {
    while (sockets.length < n) await new Promise((r) => setTimeout(r, 20));
    const payload = Buffer.alloc(FRAME_BYTES, 7);
    let written = 0;
    let skipped = 0;
    const timer = setInterval(() => {
      const header = Buffer.alloc(32, written & 0xff);
      for (const s of sockets) {
        if (s.writableNeedDrain) {
          skipped++;
          continue;
        }
        s.cork();
        s.write(header);
        s.write(payload);
        s.uncork();
        written++;
      }
    }, 1000 / 30);
    await new Promise((r) => setTimeout(r, 1000));
    const c0 = process.cpuUsage();
    const w0 = written;
    const k0 = skipped;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const c = process.cpuUsage(c0);
    const wall = (performance.now() - t0) / 1000;
    clearInterval(timer);
    const frames = written - w0;
    return {
      mode,
      sockets: n,
      framesPerSecond: frames / wall,
      cpuPct: ((c.user + c.system) / 1e6 / wall) * 100,
      usPerFrame: (c.user + c.system) / frames,
      skipped: skipped - k0,
    };
  } finally {
    reader.kill('SIGKILL');
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  }
}

/** tcp, tls, tcp, tls: the medians of two runs each. */
export async function runTlsWrite(n = 100, seconds = 5): Promise<WriteCost[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fw-bench-tlsw-'));
  try {
    const c = await selfSignedCertificate(dir, relayNames('127.0.0.1'));
    const runs: WriteCost[] = [];
    for (let i = 0; i < 2; i++) for (const mode of ['tcp', 'tls'] as const) runs.push(await measureWrite(mode, n, seconds, c));
    return (['tcp', 'tls'] as const).map((mode) => {
      const rs = runs.filter((r) => r.mode === mode).sort((a, b) => a.usPerFrame - b.usPerFrame);
      return rs[0] as WriteCost; // the less disturbed run
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function renderTlsWrite(rs: WriteCost[]): string {
  const tcp = rs.find((r) => r.mode === 'tcp');
  return [
    `#### The write alone: a 40 KB frame to each of ${rs[0]?.sockets ?? '?'} sockets at 30 fps, one writer process (best of two runs each)`,
    '',
    table(
      ['transport', 'frames written / s', 'writer CPU %', 'CPU µs per frame written', 'vs tcp://', 'skipped (socket full)'],
      rs.map((r) => [
        `${r.mode}://`,
        f(r.framesPerSecond, 0),
        f(r.cpuPct, 1),
        f(r.usPerFrame, 1),
        tcp ? `${f(r.usPerFrame / tcp.usPerFrame, 2)}×` : '',
        r.skipped,
      ]),
    ),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] !== 'reader') {
  const rs = await runTlsWrite(Number(process.argv[2] ?? 100), Number(process.argv[3] ?? 5));
  process.stdout.write(`${renderTlsWrite(rs)}\n`);
}
