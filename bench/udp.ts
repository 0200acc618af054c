/**
 * UDP benchmark: framewire's UDP (fragmentation, NACK, optional FEC) beside
 * the tutorials' approach (one JPEG per datagram), 1080p60 of noisy
 * camera-like JPEGs, on loopback and under random loss made by nftables in
 * a pair of network namespaces (or an in-process lossy wrapper where those
 * cannot be made). Prints a markdown table.
 *
 *   node dist/bench/udp.js [--frames=300] [--fps=60]
 */
import { createInProcessLab, createNetnsLab, netnsUnavailable, type LossLab } from '../test/helpers/udp-lab.js';

const opt = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const FRAMES = Number(opt.get('frames') ?? 300);
const FPS = Number(opt.get('fps') ?? 60);
const W = 1920;
const H = 1080;

interface Row {
  approach: string;
  path: string;
  loss: number;
  frameKB: number;
  delivered: number;
  within: number;
  p50: number;
  p95: number;
  fragLost: string;
  framesLost: string;
  nack: string;
  fec: string;
  cpu: string;
  note: string;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');

async function framewire(lab: LossLab, path: string, loss: number, mode: 'off' | 'nack' | 'nack+fec'): Promise<Row> {
  await lab.setLoss(loss);
  const a = lab.spawnA('relay', { fps: FPS, frames: FRAMES, width: W, height: H, linger: 800 });
  try {
    const l = await a.event('listening');
    const b = lab.spawnB('view', {
      host: lab.hostA,
      port: Number(l.port),
      frames: FRAMES,
      fps: FPS,
      nack: mode !== 'off',
      fec: mode === 'nack+fec' ? 10 : 0,
      timeout: 40,
    });
    await b.event('subscribed', 15_000);
    a.send('go');
    const r = await b.event('result', 60_000);
    const u = (r.udp ?? {}) as Record<string, number>;
    return {
      approach: `framewire UDP, repair ${mode}`,
      path,
      loss,
      frameKB: Number(l.frameBytes) / 1024,
      delivered: Number(r.received) / FRAMES,
      within: Number(r.withinBudget) / FRAMES,
      p50: Number(r.p50Ms),
      p95: Number(r.p95Ms),
      fragLost: String(u.fragmentsLost ?? '?'),
      framesLost: `${u.framesLost ?? '?'} / ${String(r.skipped ?? '?')}`,
      nack: String(u.repairedByNack ?? '?'),
      fec: String(u.repairedByFec ?? '?'),
      cpu: `${Number(r.cpuPct).toFixed(1)} % / ${Number(r.reassemblyPct).toFixed(2)} %`,
      note: '',
    };
  } finally {
    a.kill();
  }
}

async function naive(lab: LossLab, path: string, loss: number, w: number, h: number, quality: number): Promise<Row> {
  await lab.setLoss(loss);
  const b = lab.spawnB('naive-recv', { fps: FPS });
  try {
    const l = await b.event('listening');
    const a = lab.spawnA('naive-send', { host: lab.hostB, port: Number(l.port), fps: FPS, frames: FRAMES, width: w, height: h, quality });
    const ready = await a.event('ready');
    a.send('go');
    const done = await a.event('done', 60_000);
    b.send('go');
    const r = await b.event('result');
    const errors = Object.entries((done.errors ?? {}) as Record<string, number>)
      .map(([k, v]) => `${v}× ${k}`)
      .join(', ');
    return {
      approach: `tutorial: 1 datagram per frame (${w}x${h})`,
      path,
      loss,
      frameKB: Number(ready.frameBytes) / 1024,
      delivered: Number(r.received) / FRAMES,
      within: Number(r.withinBudget) / FRAMES,
      p50: Number(r.p50Ms),
      p95: Number(r.p95Ms),
      fragLost: '–',
      framesLost: '–',
      nack: '–',
      fec: '–',
      cpu: '–',
      note: errors ? `sender errors: ${errors}` : loss > 0 ? 'loss silent on both sides' : '',
    };
  } finally {
    b.kill();
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const loop = createInProcessLab();
  try {
    rows.push(await framewire(loop, 'loopback', 0, 'nack'));
    rows.push(await naive(loop, 'loopback', 0, W, H, 75));
    rows.push(await naive(loop, 'loopback', 0, 640, 360, 75));
  } finally {
    loop.close();
  }
  const why = netnsUnavailable();
  const lab = why ? createInProcessLab() : createNetnsLab();
  const path = why ? 'loopback + in-process drop' : 'veth + nftables drop';
  try {
    for (const loss of [5, 10]) {
      for (const mode of ['off', 'nack', 'nack+fec'] as const) rows.push(await framewire(lab, path, loss, mode));
      rows.push(await naive(lab, path, loss, W, H, 75));
      rows.push(await naive(lab, path, loss, 640, 360, 75));
    }
  } finally {
    lab.close();
  }
  const out: string[] = [];
  out.push(
    `UDP, ${W}x${H} @ ${FPS} fps noisy JPEG, ${FRAMES} frames per row; loss method: ${why ? `in-process lossy socket wrapper (${why})` : 'two network namespaces + veth, nftables numgen random drop both ways on the viewer side'}.`,
  );
  out.push(
    `"within budget": capture-to-delivery latency ≤ two frame intervals (${ms(2000 / FPS)} ms). CPU: viewer process / reassembly alone, % of one core.`,
  );
  out.push('');
  out.push(
    '| approach | path | loss | frame KB | delivered | within budget | p50 ms | p95 ms | frames lost / relay-skipped | fragments lost | repaired NACK | repaired FEC | viewer CPU / reassembly | note |',
  );
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    out.push(
      `| ${r.approach} | ${r.path} | ${r.loss} % | ${r.frameKB.toFixed(0)} | ${pct(r.delivered)} | ${pct(r.within)} | ${ms(r.p50)} | ${ms(r.p95)} | ${r.framesLost} | ${r.fragLost} | ${r.nack} | ${r.fec} | ${r.cpu} | ${r.note} |`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/udp: ${String(err)}\n`);
  process.exit(1);
});
