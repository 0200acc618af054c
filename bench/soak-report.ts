/** The soak bench's tables and verdicts (see soak.ts). */
import os from 'node:os';
import type { HeapFigures } from './inspector.js';
import type { Transport } from './soak-viewers.js';
import { f, table } from './stats.js';

const ORDER: readonly Transport[] = ['tcp', 'ws', 'mjpeg', 'udp'];

export interface MinuteRow {
  minute: number;
  rssMedianMb: number;
  rssMaxMb: number;
  fdsMedian: number;
  fdsMax: number;
  /** Relay CPU over the minute, % of one core. */
  cpuPct: number;
  withFrames: number;
  viewers: number;
  frames: Record<Transport, number>;
  fpsPerViewer: Record<Transport, number>;
  reconnects: number;
  churnOpened: number;
  churnWithFrames: number;
  relayClients: number;
  streamViewers: number;
  relayErrors: number;
  /** Processes in the bench's tree at the minute's end. */
  procs: number;
  /** Busy cores machine-wide over the minute (this machine is shared: the bench's own processes and everyone else's). */
  machineBusyCores: number;
  /** SOAK_HEAP=1: the relay's memory right after a forced full GC at the minute's end. */
  heap?: HeapFigures | undefined;
}

export interface RestartRow {
  i: number;
  signal: string;
  /** Signal sent → old publisher reaped. */
  killToGoneMs: number;
  /** Old publisher reaped → the new one's first frame captured (a Node start, a connect, one encode). */
  goneToFirstFrameMs: number;
  firstSeq: number;
  /** The first viewer's first new frame, ms after that frame's capture (encode + relay + one viewer's delivery). */
  firstBackMs: number;
  /** Per transport, the last viewer's first new frame, ms after the new publisher's first frame was captured. */
  worstBackMs: Partial<Record<Transport, number>>;
  /** Viewers that had no new frame by the minute's end, per transport. */
  missing: Partial<Record<Transport, number>>;
  back: number;
  of: number;
  killToAllBackMs: number;
}

export interface SoakEnd {
  minutes: number;
  size: string;
  fps: number;
  viewers: Record<Transport, number>[];
  tracked: number;
  leftovers: string[];
  relayStopMs: number;
  relayStopForced: boolean;
  publisherStopForced: boolean;
  relayEvents: Record<string, number>;
  relayLastLines: string[];
}

/** Viewers back within this long after the new publisher's first frame. */
export const BACK_TARGET_MS = 1000;
const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

export function renderSoak(rows: MinuteRow[], restarts: RestartRow[], end: SoakEnd): string {
  const per = (t: Transport): number => end.viewers.reduce((a, v) => a + v[t], 0);
  const withHeap = rows.some((r) => r.heap);
  const out: string[] = [];
  out.push(
    `Soak, ${end.minutes} min: CLI relay (serve --tcp 0 --http 0 --udp 0) in its own process; ` +
      `${ORDER.map((t) => `${per(t)} ${t}`).join(', ')} viewers in ${end.viewers.length} processes; ` +
      `CLI publisher, test pattern ${end.size} @ ${end.fps} fps, killed and started afresh at :30 of every minute (SIGKILL and SIGTERM in turn); ` +
      'one more viewer arrives and leaves every second, cycling tcp, ws, mjpeg, udp.',
  );
  out.push('');
  out.push(
    table(
      [
        'min',
        'relay RSS MB (median / max)',
        ...(withHeap ? ['after GC: RSS / heap used / external MB'] : []),
        'fds (median / max)',
        'relay CPU',
        'viewers with frames',
        'frames tcp / ws / mjpeg / udp',
        'fps per viewer tcp / ws / mjpeg / udp',
        'reconnects',
        'churn with frames',
        'relay clients / stream viewers',
        'relay peer errors',
        'procs',
        'machine busy cores',
      ],
      rows.map((r) => [
        r.minute,
        `${f(r.rssMedianMb)} / ${f(r.rssMaxMb)}`,
        ...(withHeap ? [r.heap ? [r.heap.rss, r.heap.heapUsed, r.heap.external].map((b) => f(b / 2 ** 20)).join(' / ') : 'n/a'] : []),
        `${r.fdsMedian} / ${r.fdsMax}`,
        `${f(r.cpuPct, 0)} %`,
        `${r.withFrames} / ${r.viewers}`,
        ORDER.map((t) => r.frames[t]).join(' / '),
        ORDER.map((t) => f(r.fpsPerViewer[t])).join(' / '),
        r.reconnects,
        `${r.churnWithFrames} / ${r.churnOpened}`,
        `${r.relayClients} / ${r.streamViewers}`,
        r.relayErrors,
        r.procs,
        `${f(r.machineBusyCores)} / ${os.cpus().length}`,
      ]),
    ),
  );
  out.push('');
  out.push(
    'Publisher restarts. "back": a viewer\'s first frame captured after the old publisher was reaped; ' +
      "times are from the capture of the new publisher's first frame (wire seq 0), which comes before its JPEG encode and its hop to the relay, " +
      "to that viewer's arrival: upper bounds on the time from the frame reaching the relay.",
  );
  out.push('');
  out.push(
    table(
      [
        'restart',
        'signal',
        'kill → reaped',
        'reaped → first frame',
        'first seq',
        'viewers back',
        'first viewer back',
        'worst back tcp / ws / mjpeg / udp',
        'kill → all back',
      ],
      restarts.map((r) => [
        r.i,
        r.signal,
        `${f(r.killToGoneMs, 0)} ms`,
        `${f(r.goneToFirstFrameMs, 0)} ms`,
        r.firstSeq,
        `${r.back} / ${r.of}`,
        `${f(r.firstBackMs, 0)} ms`,
        `${ORDER.map((t) => (r.missing[t] ? `${r.missing[t]} missing` : `${f(r.worstBackMs[t], 0)}`)).join(' / ')} ms`,
        `${f(r.killToAllBackMs, 0)} ms`,
      ]),
    ),
  );
  out.push('');

  const first = rows[0];
  const last = rows.at(-1);
  const lines: string[] = [];
  if (first && last) {
    const growth = last.rssMedianMb / first.rssMedianMb - 1;
    lines.push(
      `- RSS minute ${last.minute} vs minute 1 (medians of 1 s samples): ${f(last.rssMedianMb)} vs ${f(first.rssMedianMb)} MB, ${growth >= 0 ? '+' : ''}${f(growth * 100)} % (target within 10 %): ${verdict(Math.abs(growth) <= 0.1)}`,
    );
    const dFds = last.fdsMedian - first.fdsMedian;
    lines.push(
      `- open fds first vs last minute (medians): ${first.fdsMedian} → ${last.fdsMedian} (target flat, ± 2 for the churn viewer and the publisher being replaced): ${verdict(Math.abs(dFds) <= 2)}`,
    );
  }
  const worst = (t: Transport): number => Math.max(...restarts.map((r) => r.worstBackMs[t] ?? Infinity));
  const allBack = restarts.every((r) => r.back === r.of);
  const backOk = allBack && ORDER.every((t) => worst(t) <= BACK_TARGET_MS);
  lines.push(
    `- every viewer back within ${BACK_TARGET_MS} ms of the new publisher's first frame, every restart: worst ${ORDER.map((t) => `${t} ${f(worst(t), 0)} ms`).join(', ')}${allBack ? '' : ' (some viewers never came back)'}: ${verdict(backOk)}`,
  );
  const orphanOk = end.leftovers.length === 0 && !end.relayStopForced && !end.publisherStopForced;
  lines.push(
    `- no orphan process: ${end.tracked} processes seen in the bench's tree, ${end.leftovers.length} alive 1 s after teardown${end.leftovers.length ? ` (${end.leftovers.join(', ')})` : ''}; relay exited on SIGTERM in ${f(end.relayStopMs, 0)} ms${end.relayStopForced ? ' (had to be SIGKILLed)' : ''}: ${verdict(orphanOk)}`,
  );
  const steady = rows.every((r) => r.withFrames === r.viewers);
  lines.push(
    `- (info) every viewer had frames every minute: ${steady ? 'yes' : 'no'}; relay log events ${JSON.stringify(end.relayEvents)}`,
  );
  if (end.relayLastLines.length) lines.push(`- (info) last relay errors: ${end.relayLastLines.map((l) => `\`${l}\``).join(' ')}`);
  out.push(...lines);
  return out.join('\n');
}
