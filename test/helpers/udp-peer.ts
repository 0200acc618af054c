/**
 * One end of a UDP loss experiment, run as its own process (so it can live
 * in a network namespace): `relay` (relay + publisher of pre-encoded frames,
 * started on "go" from stdin), `view` (a viewer that prints a JSON summary),
 * and the tutorials' approach: `naive-send` (one datagram per frame) and
 * `naive-recv`. Results go to stdout as one JSON line.
 */
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';
import { publish } from '../../src/client/publish.js';
import { subscribe } from '../../src/client/subscribe.js';
import { nowUs } from '../../src/frame/clock.js';
import { createRelay } from '../../src/relay/relay.js';
import { installLossyDgram } from './lossy-dgram.js';
import { encodeFrames, replaySource } from './udp-frames.js';

const args = new Map<string, string>();
for (const a of process.argv.slice(3)) {
  const [k, v] = a.replace(/^--/, '').split('=');
  if (k) args.set(k, v ?? 'true');
}
const num = (k: string, d: number): number => (args.has(k) ? Number(args.get(k)) : d);
if (args.has('inproc-loss')) installLossyDgram(num('inproc-loss', 0));
const out = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
const waitGo = (): Promise<void> =>
  new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (l) => {
      if (l.trim() === 'go') {
        rl.close();
        resolve();
      }
    });
  });

async function relayMode(): Promise<void> {
  const width = num('width', 1920);
  const height = num('height', 1080);
  const pictures = await encodeFrames(width, height, 8, num('quality', 75), num('sigma', 6));
  const relay = createRelay();
  const { port } = await relay.listenUdp(num('port', 0), '0.0.0.0');
  out({ event: 'listening', port, frameBytes: Math.round(pictures.reduce((s, p) => s + p.length, 0) / pictures.length) });
  await waitGo();
  const pub = await publish(`udp://127.0.0.1:${port}/cam`, replaySource(pictures, width, height, num('fps', 60), num('frames', 300)), {
    reconnect: false,
  });
  await pub.done;
  await new Promise((r) => setTimeout(r, num('linger', 1500)));
  out({ event: 'done', relay: relay.udpStats()[0], viewers: relay.viewers('cam') });
  await relay.close();
  process.exit(0);
}

async function viewMode(): Promise<void> {
  const expected = num('frames', 300);
  const budgetMs = num('budget', 0);
  const sub = subscribe(`udp://${args.get('host') ?? '127.0.0.1'}:${num('port', 0)}/cam`, {
    onDisconnect: () => {
      udp = sub.stats().udp ?? udp;
    },
    reconnect: false,
    udp: { nack: args.get('nack') !== 'false', fecGroup: num('fec', 0), ...(budgetMs > 0 ? { latencyBudgetMs: budgetMs } : {}) },
  });
  await sub.ready;
  out({ event: 'subscribed' });
  const latencies: number[] = [];
  let cpu0: NodeJS.CpuUsage | undefined;
  let t0 = 0;
  let idle: NodeJS.Timeout | undefined;
  let udp: Record<string, number> | undefined;
  const stop = (): void => {
    udp = sub.stats().udp ?? udp;
    sub.close();
  };
  const overall = setTimeout(stop, num('timeout', 30) * 1000);
  const sample = setInterval(() => {
    udp = sub.stats().udp ?? udp;
  }, 250);
  try {
    for await (const f of sub) {
      if (!cpu0) {
        cpu0 = process.cpuUsage();
        t0 = nowUs();
      }
      latencies.push((nowUs() - f.captureUs) / 1000);
      clearTimeout(idle);
      if (f.seq >= expected - 1) {
        stop();
        break;
      }
      idle = setTimeout(stop, 1500);
    }
  } catch {
    // The relay said bye after the last frame: the figures so far are the result.
  }
  clearTimeout(idle);
  clearTimeout(overall);
  clearInterval(sample);
  const cpu = process.cpuUsage(cpu0);
  const wallUs = Math.max(1, nowUs() - t0);
  const skipped = sub.stats().framesSkipped;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  const budget = budgetMs > 0 ? budgetMs : (2 * 1000) / num('fps', 60);
  out({
    event: 'result',
    expected,
    received: latencies.length,
    skipped,
    withinBudget: latencies.filter((l) => l <= budget).length,
    budgetMs: budget,
    p50Ms: pct(0.5),
    p95Ms: pct(0.95),
    maxMs: latencies.at(-1) ?? NaN,
    cpuPct: ((cpu.user + cpu.system) / wallUs) * 100,
    reassemblyPct: ((udp?.reassemblyUs ?? 0) / wallUs) * 100,
    udp,
  });
  process.exit(0);
}

async function naiveSend(): Promise<void> {
  const width = num('width', 1920);
  const height = num('height', 1080);
  const pictures = await encodeFrames(width, height, 8, num('quality', 75), num('sigma', 6));
  out({ event: 'ready', frameBytes: Math.round(pictures.reduce((s, p) => s + p.length, 0) / pictures.length) });
  await waitGo();
  const sock = dgram.createSocket('udp4');
  const errors = new Map<string, number>();
  const frames = num('frames', 300);
  const intervalMs = 1000 / num('fps', 60);
  const start = performance.now();
  for (let i = 0; i < frames; i++) {
    const wait = start + i * intervalMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const pic = pictures[i % pictures.length] as Buffer;
    const head = Buffer.alloc(12);
    head.writeUInt32BE(i, 0);
    head.writeDoubleBE(nowUs(), 4);
    sock.send([head, pic], num('port', 0), args.get('host') ?? '127.0.0.1', (err) => {
      if (err) errors.set(err.message, (errors.get(err.message) ?? 0) + 1);
    });
  }
  await new Promise((r) => setTimeout(r, 500));
  out({ event: 'done', sent: frames, errors: Object.fromEntries(errors) });
  sock.close();
  process.exit(0);
}

async function naiveRecv(): Promise<void> {
  const sock = dgram.createSocket('udp4');
  const latencies: number[] = [];
  sock.on('message', (m) => {
    if (m.length >= 12) latencies.push((nowUs() - m.readDoubleBE(4)) / 1000);
  });
  await new Promise<void>((r) => sock.bind(num('port', 0), '0.0.0.0', () => r()));
  out({ event: 'listening', port: sock.address().port });
  await waitGo();
  sock.close();
  latencies.sort((a, b) => a - b);
  const budget = (2 * 1000) / num('fps', 60);
  out({
    event: 'result',
    received: latencies.length,
    withinBudget: latencies.filter((l) => l <= budget).length,
    p50Ms: latencies[Math.floor(latencies.length / 2)] ?? NaN,
    p95Ms: latencies[Math.floor(latencies.length * 0.95)] ?? NaN,
  });
  process.exit(0);
}

const mode = process.argv[2];
const run =
  mode === 'relay'
    ? relayMode
    : mode === 'view'
      ? viewMode
      : mode === 'naive-send'
        ? naiveSend
        : mode === 'naive-recv'
          ? naiveRecv
          : undefined;
if (!run) {
  process.stderr.write('usage: udp-peer relay|view|naive-send|naive-recv --key=value ...\n');
  process.exit(2);
}
run().catch((err: unknown) => {
  process.stderr.write(`udp-peer ${mode}: ${String(err)}\n`);
  process.exit(1);
});
