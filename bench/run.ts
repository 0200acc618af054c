/**
 * `npm run bench`: latency, throughput, fan-out and stalled-viewer isolation
 * of framewire on this machine, over 127.0.0.1. Prints markdown tables to
 * stdout and writes the same results as JSON to bench-results/latest.json.
 *
 * Environment:
 *   BENCH_SECONDS   measurement window per point, s (default 5)
 *   BENCH_WARMUP    warm-up before each window, s (default 1)
 *   BENCH_REPS      windows per fan-out point, reported as their medians (default 3)
 *   BENCH_VIEWERS   fan-out points (default 1,50,200,500)
 *   BENCH_PROCS     viewer processes for fan-out points of ≥ 50 viewers (default 2)
 *   BENCH_PARSER    fan-out viewers: stream (light raw socket + the library's StreamParser, default)
 *                   | skip (header-only parse) | subscribe (the library's subscribe(), heavier)
 *   BENCH_STALL_N   normal viewers in the stall test (default 50)
 *   BENCH_ONLY      comma list of sections to run: a,b,c,d,tls,seed,web,udp,udp-fragments,sources,renditions,tokens,push (default all),
 *                   and soak (10 minutes, so only when named; SOAK_MINUTES=N to shorten, see bench/soak.ts);
 *   BENCH_TLS_VIEWERS  viewers in the tcp:// vs tls:// fan-out (section tls, default 200)
 *   BENCH_TLS_ROUNDS   tcp:// and tls:// runs in turn in that section (default 2)
 *                   the last sections run their own scripts (dist/bench/NAME.js) in a child and append its table
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { measureCosts, type CostResult } from './costs.js';
import { runFanout } from './fanout.js';
import { killAllChildren } from './ipc.js';
import type { ParserKind } from './light-viewer.js';
import { runPipeline, type PipelineResult } from './pipeline.js';
import { renderFanout, renderLatency, renderMachine, renderSeed, renderStall, renderThroughput, type Machine } from './report.js';
import { runSeed003, type SeedResult } from './seed.js';
import { runStall, type StallResult } from './stall.js';
import { renderTls, runTls, type TlsResult } from './tls.js';

function envNum(name: string, dflt: number): number {
  const v = process.env[name];
  const n = v === undefined || v === '' ? dflt : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${v}`);
  return n;
}

const seconds = envNum('BENCH_SECONDS', 5);
const warmup = envNum('BENCH_WARMUP', 1);
const reps = envNum('BENCH_REPS', 3);
const viewerCounts = (process.env.BENCH_VIEWERS ?? '1,50,200,500')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const procs = envNum('BENCH_PROCS', 2);
const parser = (process.env.BENCH_PARSER ?? 'stream') as ParserKind;
const stallN = envNum('BENCH_STALL_N', 50);
const tlsViewers = envNum('BENCH_TLS_VIEWERS', 200);
const tlsRounds = envNum('BENCH_TLS_ROUNDS', 2);
const only = new Set((process.env.BENCH_ONLY ?? 'a,b,c,d,tls,seed,web,udp,udp-fragments,sources,renditions,tokens,push').split(','));
/** Sections that are their own scripts, with their arguments and how long they may take (default 10 minutes). */
const soakMinutes = envNum('SOAK_MINUTES', 10);
const scripts: [string, string[], number?][] = [
  ['web', ['--seconds', String(Math.max(5, seconds))]],
  ['udp', []],
  ['udp-fragments', [`--seconds=${seconds}`]],
  ['sources', [String(Math.max(4, seconds - 1))]],
  ['renditions', ['60']],
  ['tokens', []],
  ['push', [String(Math.max(3, seconds - 1))]],
  ['soak', [], (soakMinutes + 3) * 60_000],
];
if (!['skip', 'stream', 'subscribe'].includes(parser)) throw new Error('BENCH_PARSER must be skip, stream or subscribe');

const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

function cleanupAndExit(code: number): never {
  killAllChildren();
  process.exit(code);
}
process.on('SIGINT', () => cleanupAndExit(130));
process.on('SIGTERM', () => cleanupAndExit(143));

const machine: Machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  memGb: os.totalmem() / 1024 ** 3,
  node: process.version,
  os: `${os.type()} ${os.release()}`,
  loadAvgStart: os.loadavg(),
  startedAt: new Date().toISOString(),
  seconds,
  warmup,
  reps,
  parser,
};

const results: {
  machine: Machine;
  costs: CostResult[];
  latency: PipelineResult[];
  throughput: PipelineResult[];
  fanout: Awaited<ReturnType<typeof runFanout>>[];
  stall: StallResult | null;
  tls: TlsResult | null;
  seed003: SeedResult | null;
  loadAvgEnd?: number[];
  wallSeconds?: number;
} = { machine, costs: [], latency: [], throughput: [], fanout: [], stall: null, tls: null, seed003: null };

const sizes: [number, number][] = [
  [640, 480],
  [1280, 720],
];
const t0 = performance.now();
try {
  if (only.has('a')) {
    for (const [width, height] of sizes) results.costs.push(await measureCosts(width, height));
    for (const [width, height] of sizes) {
      log(`(a) latency ${width}x${height} @ 30 fps`);
      results.latency.push(await runPipeline({ width, height, fps: 30, seconds, warmupSeconds: warmup, decode: true }));
    }
  }
  if (only.has('b')) {
    for (const [width, height] of sizes) {
      log(`(b) unthrottled ${width}x${height}`);
      results.throughput.push(await runPipeline({ width, height, fps: 0, seconds, warmupSeconds: warmup, decode: false }));
    }
  }
  if (only.has('c')) {
    for (const n of viewerCounts) {
      log(`(c) fan-out 720p30 to ${n} viewers`);
      results.fanout.push(await runFanout(n, { reps, seconds, warmupSeconds: warmup + 1, parser, procsFor: (k) => (k >= 50 ? procs : 1) }));
    }
  }
  if (only.has('d')) {
    log(`(d) stalled viewer among ${stallN}`);
    results.stall = await runStall({ reps, normals: stallN, seconds, warmupSeconds: warmup + 1, parser, procs: stallN >= 50 ? procs : 1 });
  }
  if (only.has('tls')) {
    log(`(tls) fan-out 720p30 to ${tlsViewers} viewers, tcp:// then tls://`);
    results.tls = await runTls(
      tlsViewers,
      { reps, seconds, warmupSeconds: warmup + 1, parser, procsFor: (k) => (k >= 50 ? procs : 1) },
      tlsRounds,
    );
  }
  if (only.has('seed')) {
    log('seed003 720p30 (Python + OpenCV) side by side');
    results.seed003 = await runSeed003(Math.max(5, seconds));
  }
} catch (err) {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  cleanupAndExit(1);
}
const extra: string[] = [];
for (const [name, args, timeout = 10 * 60_000] of scripts) {
  if (!only.has(name)) continue;
  log(`${name}: node dist/bench/${name}.js ${args.join(' ')}`);
  const file = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  const r = spawnSync(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout });
  if (r.status === 0) extra.push(`### ${name}\n\n${r.stdout.trim()}`);
  else extra.push(`### ${name}\n\nfailed (exit ${r.status ?? r.signal}); run \`node dist/bench/${name}.js\` alone to see why.`);
}
results.loadAvgEnd = os.loadavg();
results.wallSeconds = (performance.now() - t0) / 1000;

const out: string[] = [renderMachine(machine, results.loadAvgEnd, results.wallSeconds)];
if (results.latency.length) out.push(renderLatency(results.latency, results.seed003, results.costs));
if (results.throughput.length) out.push(renderThroughput(results.throughput));
if (results.fanout.length) out.push(renderFanout(results.fanout));
if (results.stall) out.push(renderStall(results.stall));
if (results.tls) out.push(renderTls(results.tls));
if (results.seed003) out.push(renderSeed(results.seed003, results.latency));
out.push(...extra);
process.stdout.write(`${out.join('\n\n')}\n`);

// JSON without the per-frame samples.
const json = JSON.stringify(results, (k, v: unknown) => (k === 'samples' ? undefined : v), 2);
const dir = fileURLToPath(new URL('../../bench-results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}latest.json`, `${json}\n`);
log(`wrote ${dir}latest.json`);
process.exit(0);
