/**
 * What a UDP viewer's fragment size costs the relay: a relay in its own
 * process, a 1280x720 30 fps publisher (camera-like JPEGs) over TCP, and N
 * raw UDP viewers whose open asks for a given fragment size (64 is clamped
 * to 512 by the relay). Prints a markdown table: size asked and granted,
 * datagrams per frame and per second reaching the viewers, and the relay's
 * CPU (% of one core).
 *
 *   node dist/bench/udp-fragments.js [--viewers=4] [--seconds=5] [--relay-child=PATH]
 *
 * `--relay-child` runs another build's compiled test/helpers/udp-relay-child.js
 * (to compare with a relay that did not clamp).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { publish } from '../src/client/publish.js';
import { encodeFrames, replaySource } from '../test/helpers/udp-frames.js';
import { RawUdp } from '../test/helpers/udp-raw.js';

const opt = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const VIEWERS = Number(opt.get('viewers') ?? 4);
const SECONDS = Number(opt.get('seconds') ?? 5);
const CHILD = opt.get('relay-child') ?? fileURLToPath(new URL('../test/helpers/udp-relay-child.js', import.meta.url));

async function run(asked: number, pictures: Buffer[]): Promise<string> {
  const child = spawn(process.execPath, [CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const next = (): Promise<Record<string, number>> =>
    new Promise((r) => lines.once('line', (l) => r(JSON.parse(l) as Record<string, number>)));
  const ports = await next();
  const pub = await publish(`tcp://127.0.0.1:${ports.tcp}/cam`, replaySource(pictures, 1280, 720, 30, 1e6), { reconnect: false });
  const viewers: RawUdp[] = [];
  let granted: number | undefined;
  for (let i = 0; i < VIEWERS; i++) {
    const v = await RawUdp.create(ports.udp as number);
    granted = (await v.handshake(asked)).fragmentSize;
    await v.sendControl({ type: 'hello', body: { role: 'view', stream: 'cam' } });
    viewers.push(v);
  }
  await new Promise((r) => setTimeout(r, 1000));
  const count = (): { datagrams: number; frames: number } => {
    let datagrams = 0;
    const seqs = new Set<string>();
    viewers.forEach((v, i) => {
      datagrams += v.fragments.length;
      for (const h of v.fragments) seqs.add(`${i}:${h.seq}`);
    });
    return { datagrams, frames: seqs.size };
  };
  const c0 = count();
  child.stdin.write('cpu\n');
  const cpu0 = (await next()).cpuUs as number;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  child.stdin.write('cpu\n');
  const cpu1 = (await next()).cpuUs as number;
  const ms = performance.now() - t0;
  const c1 = count();
  for (const v of viewers) v.close();
  pub.close();
  child.kill('SIGKILL');
  const datagrams = c1.datagrams - c0.datagrams;
  const frames = c1.frames - c0.frames;
  return `| ${asked} | ${granted ?? '?'} | ${VIEWERS} | ${(datagrams / Math.max(1, frames)).toFixed(1)} | ${Math.round((datagrams / ms) * 1000)} | ${(((cpu1 - cpu0) / 1000 / ms) * 100).toFixed(0)} % |`;
}

const pictures = await encodeFrames(1280, 720, 6);
const kb = Math.round(pictures.reduce((s, p) => s + p.length, 0) / pictures.length / 1024);
const rows: string[] = [];
for (const asked of [64, 512, 1200, 8948]) rows.push(await run(asked, pictures));
process.stdout.write(
  `\nUDP viewers by fragment size: 1280x720 30 fps, ${kb} KB frames, relay in its own process, ${SECONDS} s\n\n` +
    '| asked | granted | viewers | datagrams/frame | datagrams/s (all viewers) | relay CPU |\n|---|---|---|---|---|---|\n' +
    `${rows.join('\n')}\n`,
);
process.exit(0);
