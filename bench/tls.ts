/**
 * (tls) The cost of TLS on the fan-out: one 720p30 publisher to N viewers
 * (default 200), once over tcp:// and once over tls://, in one run, the same
 * processes as (c) (see fanout.ts). TLS is a throwaway self-signed EC P-256
 * certificate (needs openssl); the viewers decrypt in their own processes, so
 * the relay's CPU is its own: AES-GCM for every viewer's copy of every frame.
 * Target: relay CPU over tls:// ≤ 1.5 × tcp://.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { relayNames, selfSignedCertificate } from '../src/cli/tls-cert.js';
import { medianWindow, runFanout, type FanoutOptions, type WindowResult } from './fanout.js';
import { f, table } from './stats.js';
import { renderTlsWrite, runTlsWrite, type WriteCost } from './tls-write.js';

export interface TlsResult {
  n: number;
  rounds: number;
  /** Element-wise medians over the rounds. */
  tcp: WindowResult;
  tls: WindowResult;
  /** Per round: relay CPU tls:// / tcp://, and the same per frame delivered. */
  ratios: { cpu: number; perFrame: number }[];
  /** The bare write of a frame to 100 sockets, tcp and tls (see tls-write.ts). */
  write: WriteCost[];
}

/**
 * Runs the fan-out at `n` viewers over tcp:// then tls://, `rounds` times
 * in turn (tcp, tls, tcp, tls…), so a change in the machine's load hits
 * both alike; reports the medians.
 */
export async function runTls(n: number, o: Omit<FanoutOptions, 'tls'>, rounds = 2): Promise<TlsResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fw-bench-tls-'));
  try {
    const c = await selfSignedCertificate(dir, relayNames('127.0.0.1'));
    const pem = { cert: c.cert.toString(), key: c.key.toString() };
    const write = await runTlsWrite(100, o.seconds);
    const tcp: WindowResult[] = [];
    const tls: WindowResult[] = [];
    for (let i = 0; i < rounds; i++) {
      tcp.push(await runFanout(n, o));
      tls.push(await runFanout(n, { ...o, tls: pem }));
    }
    const ratios = tcp.map((t, i) => {
      const s = tls[i] as WindowResult;
      return { cpu: s.relayCpuPct / t.relayCpuPct, perFrame: usPerFrame(s) / usPerFrame(t) };
    });
    return { n, rounds, tcp: medianWindow(tcp), tls: medianWindow(tls), ratios, write };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Relay CPU per frame it delivered to a viewer, µs: the figure that stays fair when a loaded machine delivers fewer frames. */
const usPerFrame = (w: WindowResult): number => ((w.relayCpuPct / 100) * 1e6) / w.fpsTotal;

export function renderTls(r: TlsResult): string {
  const ratio = r.tls.relayCpuPct / r.tcp.relayCpuPct;
  const perFrame = usPerFrame(r.tls) / usPerFrame(r.tcp);
  const row = (name: string, w: WindowResult): (string | number)[] => [
    name,
    w.viewers,
    f(w.relayCpuPct, 0),
    name === 'tls://' ? `${f(ratio, 2)}×` : '1×',
    f(w.fpsTotal, 0),
    f(usPerFrame(w), 1),
    name === 'tls://' ? `${f(perFrame, 2)}×` : '1×',
    `${f(w.relayRssMb, 0)} (${f(w.relayRssPeakMb, 0)})`,
    f(w.fpsMin, 1),
    f(w.fpsMedian, 1),
    f(w.latencyP50Ms, 2),
    f(w.latencyP95Ms, 2),
    `${f(w.fanOutP50Ms, 2)} / ${f(w.fanOutP95Ms, 2)}`,
    w.viewerCpuPct.map((c) => f(c, 0)).join(' + '),
    w.relaySkipped,
    `${f(w.machineBusyCores, 2)} / ${f(w.otherBusyCores, 2)}`,
  ];
  return [
    `### (tls) TLS on the fan-out: one 1280×720 @ 30 fps publisher to ${r.n} viewers, tcp:// vs tls://`,
    '',
    'Same processes as (c); over tls:// the publisher, the relay and every viewer speak TLS 1.3 (AES-GCM) on the TCP port. ' +
      'Relay CPU is % of one core; "per frame" divides it by the frames the viewers received (all viewers together), ' +
      'which keeps the comparison fair when a loaded machine delivers fewer frames in one of the runs. ' +
      `${r.rounds} rounds in turn (tcp, tls, …), medians shown; per round tls/tcp: ${r.ratios.map((x) => `${f(x.cpu, 2)}× CPU, ${f(x.perFrame, 2)}× per frame`).join('; ')}. ` +
      `Target: tls:// ≤ 1.5 × tcp://. Medians: ${f(ratio, 2)}× in CPU, ${f(perFrame, 2)}× per frame delivered (${Math.max(ratio, perFrame) <= 1.5 ? 'met' : 'NOT met'}).`,
    '',
    table(
      [
        'transport',
        'viewers',
        'relay CPU %',
        'relay CPU vs tcp://',
        'frames/s to all viewers',
        'relay CPU µs per frame delivered',
        'per frame vs tcp://',
        'relay RSS MB (peak)',
        'fps min',
        'fps median',
        'latency p50 ms',
        'latency p95 ms',
        'relay fanOut() p50 / p95 ms',
        'viewer procs CPU %',
        'relay skips',
        'machine busy / not bench, cores',
      ],
      [row('tcp://', r.tcp), row('tls://', r.tls)],
    ),
    '',
    renderTlsWrite(r.write),
  ].join('\n');
}
