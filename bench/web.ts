/**
 * Browser and HTTP benchmarks at 720p30, printed as a markdown table:
 *
 * - WebSocket viewers fan-out: N `ws` clients on /ws, per-client fps, relay CPU and RSS
 * - MJPEG clients fan-out: N raw HTTP clients on /streams/NAME.mjpg, same figures
 * - the viewer page in headless Chromium: fps and end-to-end latency read from the page
 *
 * Processes: the relay runs alone in a child (its CPU and RSS are read from
 * /proc), the clients in another child, the publisher here: it replays 60
 * pre-encoded 720p test-pattern frames at 30 fps with fresh capture times,
 * so encoding costs nothing during the run.
 *
 * Usage: node dist/bench/web.js [--ws N] [--mjpeg N] [--seconds S] [--skip-browser]
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { createRelay, nowUs, publish, testPattern, type EncodedFrame, type FrameSource } from '../src/index.js';
import { MessageType } from '../src/protocol/header.js';
import { procStat, rssBytes, TICKS_PER_S } from './procfs.js';

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const self = new URL(import.meta.url).pathname;

// ---------------------------------------------------------------- child roles

async function relayRole(): Promise<void> {
  const relay = createRelay({ maxClients: 100_000 });
  const tcp = await relay.listenTcp(0, '127.0.0.1');
  const httpAddr = await relay.listenHttp(0, '127.0.0.1');
  process.send?.({ tcp: tcp.port, http: httpAddr.port });
  process.on('message', (m: { cmd?: string }) => {
    if (m.cmd === 'stop') void relay.close().then(() => process.exit(0));
  });
}

/** Counts "--fwframe\r\n" in a byte stream, across chunk borders, without parsing. */
function partCounter(): (chunk: Buffer) => number {
  const needle = Buffer.from('--fwframe\r\n');
  let tail = Buffer.alloc(0);
  return (chunk) => {
    const buf = tail.length ? Buffer.concat([tail, chunk.subarray(0, needle.length)]) : Buffer.alloc(0);
    let n = 0;
    // Occurrences that straddle the border.
    for (let i = buf.indexOf(needle); i >= 0 && i < tail.length; i = buf.indexOf(needle, i + 1)) n++;
    for (let i = chunk.indexOf(needle); i >= 0; i = chunk.indexOf(needle, i + needle.length)) n++;
    tail = Buffer.from(chunk.subarray(Math.max(0, chunk.length - (needle.length - 1))));
    return n;
  };
}

async function clientsRole(kind: 'ws' | 'mjpeg', port: number, n: number, seconds: number): Promise<void> {
  const counts = new Array<number>(n).fill(0);
  const closers: (() => void)[] = [];
  for (let i = 0; i < n; i++) {
    if (kind === 'mjpeg') {
      const count = partCounter();
      const req = http.get({ host: '127.0.0.1', port, path: '/streams/bench.mjpg', agent: false }, (res) => {
        res.on('data', (c: Buffer) => (counts[i] = (counts[i] as number) + count(c)));
      });
      req.on('error', () => undefined);
      closers.push(() => req.destroy());
    } else {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
      ws.on('error', () => undefined);
      ws.on('open', () => {
        const body = Buffer.from(JSON.stringify({ role: 'view', stream: 'bench' }));
        const h = Buffer.alloc(12);
        h.writeUInt16BE(0x4657, 0);
        h.writeUInt8(1, 2);
        h.writeUInt8(MessageType.hello, 3);
        h.writeUInt16BE(12, 6);
        h.writeUInt32BE(body.length, 8);
        ws.send(Buffer.concat([h, body]));
      });
      ws.on('message', (d: Buffer) => {
        if (d[3] === MessageType.frame) counts[i] = (counts[i] as number) + 1;
        else if (d[3] === MessageType.ping) {
          const ping = JSON.parse(d.subarray(12).toString()) as { id: number; t0: number };
          const body = Buffer.from(JSON.stringify({ ...ping, t1: nowUs(), t2: nowUs() }));
          const h = Buffer.from(d.subarray(0, 12));
          h.writeUInt8(MessageType.pong, 3);
          h.writeUInt32BE(body.length, 8);
          ws.send(Buffer.concat([h, body]));
        }
      });
      closers.push(() => ws.terminate());
    }
  }
  process.on('message', (m: { cmd?: string }) => {
    if (m.cmd === 'start') counts.fill(0);
    if (m.cmd === 'report') {
      process.send?.({ counts });
      for (const c of closers) c();
      setTimeout(() => process.exit(0), 100);
    }
  });
  void seconds;
  process.send?.({ ready: true });
}

// ---------------------------------------------------------------- orchestration

interface ProcSample {
  cpuTicks: number;
  rssMb: number;
}

function procSample(pid: number): ProcSample {
  return { cpuTicks: procStat(pid)?.cpuTicks ?? NaN, rssMb: (rssBytes(pid) ?? NaN) / 2 ** 20 };
}

function waitMessage<T>(child: ChildProcess, pred: (m: T) => boolean): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: T): void => {
      if (pred(m)) {
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
  });
}

/** A source replaying pre-encoded frames at 30 fps with fresh capture times. */
function replay(frames: EncodedFrame[]): FrameSource {
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  return {
    info: { width: WIDTH, height: HEIGHT, fps: FPS },
    close() {
      closed = true;
      clearTimeout(timer);
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      const start = performance.now();
      for (let i = 0; !closed; i++) {
        const due = start + (i * 1000) / FPS;
        await new Promise<void>((r) => {
          wake = r;
          timer = setTimeout(r, Math.max(0, due - performance.now()));
        });
        if (closed) return;
        const f = frames[i % frames.length] as EncodedFrame;
        yield { ...f, seq: i, captureUs: nowUs() };
      }
    },
  };
}

async function startRelayChild(): Promise<{ child: ChildProcess; tcp: number; http: number }> {
  const child = fork(self, ['--role', 'relay'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ports = await waitMessage<{ tcp: number; http: number }>(child, (m) => typeof m.tcp === 'number');
  return { child, ...ports };
}

async function fanOut(kind: 'ws' | 'mjpeg', n: number, seconds: number, frames: EncodedFrame[]): Promise<Record<string, string>> {
  const relay = await startRelayChild();
  const pub = await publish(`tcp://127.0.0.1:${relay.tcp}/bench`, replay(frames));
  const clients = fork(self, ['--role', 'clients', '--kind', kind, '--port', String(relay.http), '--n', String(n)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await waitMessage<{ ready?: boolean }>(clients, (m) => m.ready === true);
  await new Promise((r) => setTimeout(r, 3000)); // all connected, warm
  clients.send({ cmd: 'start' });
  const a = procSample(relay.child.pid as number);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const b = procSample(relay.child.pid as number);
  const elapsed = (performance.now() - t0) / 1000;
  clients.send({ cmd: 'report' });
  const { counts } = await waitMessage<{ counts: number[] }>(clients, (m) => Array.isArray(m.counts));
  pub.close();
  relay.child.send({ cmd: 'stop' });
  await new Promise((r) => relay.child.once('exit', r));
  const fps = counts.map((c) => c / elapsed).sort((x, y) => x - y);
  const avg = fps.reduce((s, v) => s + v, 0) / Math.max(1, fps.length);
  const cpu = ((b.cpuTicks - a.cpuTicks) / TICKS_PER_S / elapsed) * 100;
  return {
    scenario: `${kind === 'ws' ? 'WebSocket' : 'MJPEG'} viewers × ${n}, 720p30`,
    'per-client fps (min / avg)': `${(fps[0] ?? 0).toFixed(1)} / ${avg.toFixed(1)}`,
    'clients ≥ 29 fps': `${fps.filter((f) => f >= 29).length} / ${n}`,
    'relay CPU': `${cpu.toFixed(0)} % of a core`,
    'relay RSS': `${b.rssMb.toFixed(0)} MB`,
    latency: '–',
  };
}

async function browserRun(seconds: number, frames: EncodedFrame[]): Promise<Record<string, string>> {
  const { chromium } = await import('playwright-core');
  const relay = await startRelayChild();
  const pub = await publish(`tcp://127.0.0.1:${relay.tcp}/bench`, replay(frames));
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`http://127.0.0.1:${relay.http}/view?stream=bench`);
    await page.waitForFunction(`Number(document.getElementById('stat-fps')?.textContent) > 10`, undefined, { timeout: 20_000 });
    await page.waitForTimeout(2000);
    const startUs = (await page.evaluate('Math.round((performance.timeOrigin + performance.now()) * 1000)')) as number;
    const a = procSample(relay.child.pid as number);
    const fpsSamples: number[] = [];
    for (let s = 0; s < seconds; s++) {
      await page.waitForTimeout(1000);
      fpsSamples.push(Number(await page.locator('#stat-fps').textContent()));
    }
    const b = procSample(relay.child.pid as number);
    const stats = (await page.evaluate('window.framewire.stats()')) as { dropped: number; relaySkipped: number };
    const lat = ((await page.evaluate('window.framewire.latencySamples()')) as [number, number][])
      .filter(([at]) => at >= startUs)
      .map(([, l]) => l)
      .sort((x, y) => x - y);
    const pct = (p: number): number => lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)] ?? NaN;
    const shown = lat.length / seconds;
    return {
      scenario: 'viewer page, headless Chromium, 720p30',
      'per-client fps (min / avg)': `${Math.min(...fpsSamples)} / ${shown.toFixed(1)}`,
      'clients ≥ 29 fps': `${shown >= 29 ? 1 : 0} / 1 (drops page ${stats.dropped}, relay ${stats.relaySkipped})`,
      'relay CPU': `${(((b.cpuTicks - a.cpuTicks) / TICKS_PER_S / seconds) * 100).toFixed(0)} % of a core`,
      'relay RSS': `${b.rssMb.toFixed(0)} MB`,
      latency: `p50 ${pct(0.5).toFixed(1)} ms, p95 ${pct(0.95).toFixed(1)} ms, max ${pct(1).toFixed(1)} ms (capture → drawn)`,
    };
  } finally {
    await browser.close();
    pub.close();
    relay.child.send({ cmd: 'stop' });
    await new Promise((r) => relay.child.once('exit', r));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      kind: { type: 'string' },
      port: { type: 'string' },
      n: { type: 'string' },
      ws: { type: 'string', default: '200' },
      mjpeg: { type: 'string', default: '300' },
      seconds: { type: 'string', default: '10' },
      'skip-browser': { type: 'boolean', default: false },
    },
  });
  const seconds = Number(values.seconds);
  if (values.role === 'relay') return relayRole();
  if (values.role === 'clients') return clientsRole(values.kind === 'ws' ? 'ws' : 'mjpeg', Number(values.port), Number(values.n), seconds);

  const frames: EncodedFrame[] = [];
  const src = testPattern({ width: WIDTH, height: HEIGHT, fps: 0, frames: 60, quality: 75 });
  for await (const f of src) frames.push(f);
  const avgKb = frames.reduce((s, f) => s + f.data.length, 0) / frames.length / 1024;
  const rows: Record<string, string>[] = [];
  rows.push(await fanOut('ws', Number(values.ws), seconds, frames));
  rows.push(await fanOut('mjpeg', Number(values.mjpeg), seconds, frames));
  if (!values['skip-browser']) rows.push(await browserRun(seconds, frames));
  const cols = Object.keys(rows[0] as Record<string, string>);
  const out = [
    `framewire web benchmark — ${WIDTH}x${HEIGHT} @ ${FPS} fps, JPEG q75 test pattern (avg ${avgKb.toFixed(0)} KiB/frame), ${seconds} s per run, ${(await import('node:os')).cpus().length} cores`,
    '',
    `| ${cols.join(' | ')} |`,
    `| ${cols.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${cols.map((c) => r[c]).join(' | ')} |`),
    '',
  ];
  process.stdout.write(out.join('\n'));
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/web: ${String(err)}\n`);
  process.exit(1);
});
