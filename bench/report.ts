/** Markdown tables for the bench results. */
import type { CostResult } from './costs.js';
import type { WindowResult } from './fanout.js';
import type { PipelineResult } from './pipeline.js';
import type { SeedResult } from './seed.js';
import type { StallResult } from './stall.js';
import { f, table } from './stats.js';

export interface Machine {
  cpu: string;
  cores: number;
  memGb: number;
  node: string;
  os: string;
  loadAvgStart: number[];
  startedAt: string;
  seconds: number;
  warmup: number;
  reps: number;
  parser: string;
}

const la = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' / ');

export function renderMachine(m: Machine, loadEnd: number[], wallS: number): string {
  return [
    '## framewire bench',
    '',
    `- machine: ${m.cpu}, ${m.cores} cores, ${f(m.memGb, 0)} GB, ${m.os}, Node ${m.node}`,
    `- load average (1/5/15 min): ${la(m.loadAvgStart)} at start, ${la(loadEnd)} at end`,
    `- started ${m.startedAt}; ${f(m.seconds, 0)} s per measurement window after ${f(m.warmup, 0)} s warm-up (fan-out: median of ${m.reps} windows per point); whole run ${f(wallS, 0)} s`,
    '- all traffic on 127.0.0.1; every process on the same 2 cores; latency = capture (publisher, before JPEG encode) → arrival at the viewer, clock-offset corrected as the library does',
  ].join('\n');
}

export function renderLatency(rs: PipelineResult[], seed: SeedResult | null, costs: CostResult[]): string {
  const rows = rs.map((r) => [
    `${r.width}×${r.height}`,
    f(r.viewerFps, 1),
    f(r.latencyP50Ms, 2),
    f(r.latencyP95Ms, 2),
    `${f(r.libStatsP50Ms, 2)} / ${f(r.libStatsP95Ms, 2)}`,
    f(r.pubCaptureToSentP50Ms, 2),
    f(r.decodedMeanMs, 2),
    f(r.decodedP50Ms, 2),
    f(r.decodedP95Ms, 2),
    f(r.decodeOnlyP50Ms, 2),
    f(r.bytesPerFrame / 1000, 1),
    `${f(r.publisherCpuPct, 0)} / ${f(r.relayCpuPct, 0)} / ${f(r.viewerCpuPct, 0)}`,
    `${f(r.machineBusyCores, 2)} / ${f(r.otherBusyCores, 2)}`,
  ]);
  const notes = [
    '### (a) End-to-end latency, 30 fps, publisher → relay → viewer',
    '',
    'Three processes: publisher (test pattern + sharp JPEG q75 encode + `publish()`), relay (`createRelay().listenTcp`), viewer (`subscribe()`, plus a sharp JPEG decode to raw RGB of each frame). ' +
      '"lib stats" = median over the window of the Subscription\'s own 1-s `stats()` p50 / p95 (cross-check). ' +
      '"capture→sent" = the Publication\'s own stats: drawing the pattern, JPEG encode, write to the socket; the rest of the arrival figure is the two TCP hops and the relay.',
    '',
    table(
      [
        'size',
        'viewer fps',
        'arrival p50 ms',
        'arrival p95 ms',
        'lib stats p50 / p95 ms',
        'of which capture→sent at publisher p50 ms',
        'decoded mean ms',
        'decoded p50 ms',
        'decoded p95 ms',
        'decode alone p50 ms',
        'kB/frame',
        'CPU % pub / relay / viewer',
        'machine busy / not bench, cores',
      ],
      rows,
    ),
  ];
  if (costs.length) {
    notes.push(
      '',
      'Per-frame costs, one process, nothing else of the bench running (medians of 30): where the capture→sent time goes.',
      '',
      table(
        ['size', 'test pattern draw + encode q75 ms', 'sharp encode q75 ms (kB)', 'sharp encode q15 ms (kB)', 'sharp decode ms'],
        costs.map((c) => [
          `${c.width}×${c.height}`,
          f(c.produceMs, 2),
          `${f(c.encodeQ75Ms, 2)} (${f(c.jpegQ75Kb, 1)})`,
          `${f(c.encodeQ15Ms, 2)} (${f(c.jpegQ15Kb, 1)})`,
          f(c.decodeMs, 2),
        ]),
      ),
    );
  }
  if (seed?.ran)
    notes.push('', `Seeds' seed003 at 720p30 in this run: capture→decoded mean ${f(seed.latencyMeanMs, 2)} ms (see last table).`);
  return notes.join('\n');
}

export function renderThroughput(rs: PipelineResult[]): string {
  return [
    '### (b) Unthrottled pipeline (test source at fps 0) → relay → viewer',
    '',
    'Same three processes. Latest-frame-wins: the publisher drops frames its socket cannot take, the relay skips per viewer; nothing queues, so latency must stay flat (compare the first and last second).',
    '',
    table(
      [
        'size',
        'source fps (sent)',
        'viewer fps',
        'latency p50 ms',
        'latency p95 ms',
        'max ms',
        '1st-second p50 ms',
        'last-second p50 ms',
        'relay skips',
        'viewer drops',
        'CPU % pub / relay / viewer',
        'machine busy / not bench, cores',
      ],
      rs.map((r) => [
        `${r.width}×${r.height}`,
        f(r.publisherFps, 1),
        f(r.viewerFps, 1),
        f(r.latencyP50Ms, 2),
        f(r.latencyP95Ms, 2),
        f(r.latencyMaxMs, 1),
        f(r.firstSecondP50Ms, 2),
        f(r.lastSecondP50Ms, 2),
        r.relaySkipped,
        r.viewerDropped,
        `${f(r.publisherCpuPct, 0)} / ${f(r.relayCpuPct, 0)} / ${f(r.viewerCpuPct, 0)}`,
        `${f(r.machineBusyCores, 2)} / ${f(r.otherBusyCores, 2)}`,
      ]),
    ),
  ].join('\n');
}

type Fan = WindowResult & { n: number; procs: number };

export function renderFanout(rs: Fan[]): string {
  return [
    '### (c) Fan-out: one 1280×720 @ 30 fps publisher to N viewers',
    '',
    "Relay alone in its process. Viewers are light raw-socket clients (hello, pongs, clock-offset pings, the library's StreamParser) split over P processes. " +
      'Latency pooled over every frame of every viewer; "worst viewer p95" is the largest single-viewer p95. Targets: ≥ 29 fps per viewer at 500, relay < 100 % of one core, relay RSS < 200 MB.',
    '',
    table(
      [
        'viewers',
        'viewer procs',
        'fps min',
        'fps median',
        'latency p50 ms',
        'latency p95 ms',
        'worst viewer p95 ms',
        'p50 first / last 10 % in fan-out order ms',
        'relay CPU %',
        'relay RSS MB (peak)',
        'relay fanOut() per frame p50 / p95 ms (µs per viewer)',
        'relay loop delay p99 ms',
        'viewer procs CPU %',
        'publisher CPU % / fps',
        'relay skips',
        'machine busy / not bench, cores',
      ],
      rs.map((r) => [
        r.n,
        r.procs,
        f(r.fpsMin, 1),
        f(r.fpsMedian, 1),
        f(r.latencyP50Ms, 2),
        f(r.latencyP95Ms, 2),
        f(r.worstViewerP95Ms, 2),
        `${f(r.fanoutOrderP50Ms.first10, 2)} / ${f(r.fanoutOrderP50Ms.last10, 2)}`,
        f(r.relayCpuPct, 0),
        `${f(r.relayRssMb, 0)} (${f(r.relayRssPeakMb, 0)})`,
        `${f(r.fanOutP50Ms, 2)} / ${f(r.fanOutP95Ms, 2)} (${f((r.fanOutP50Ms * 1000) / r.n, 1)})`,
        f(r.relayLoopDelayP99Ms, 1),
        r.viewerCpuPct.map((c) => f(c, 0)).join(' + '),
        `${f(r.publisherCpuPct, 0)} / ${f(r.publisherFps, 1)}`,
        r.relaySkipped,
        `${f(r.machineBusyCores, 2)} / ${f(r.otherBusyCores, 2)}`,
      ]),
    ),
  ].join('\n');
}

export function renderStall(s: StallResult): string {
  const w = (name: string, r: WindowResult): (string | number)[] => [
    name,
    f(r.fpsMin, 1),
    f(r.fpsMedian, 1),
    f(r.latencyP50Ms, 2),
    f(r.latencyP95Ms, 2),
    f(r.p95PerSecondMedianMs, 2),
    f(r.worstViewerP95Ms, 2),
    f(r.relayCpuPct, 0),
    `${f(r.fanOutP50Ms, 2)} / ${f(r.fanOutP95Ms, 2)}`,
    f(r.relayRssPeakMb, 0),
    `${f(r.machineBusyCores, 2)} / ${f(r.otherBusyCores, 2)}`,
  ];
  const d = (a: WindowResult, k: 'latencyP95Ms' | 'p95PerSecondMedianMs'): string => f(a[k] - s.before[k], 2);
  const perSecond = s.timeline.filter((_, i) => i % 2 === 1 || i === s.timeline.length - 1);
  return [
    `### (d) Stalled viewer: ${s.normals} normal viewers of 720p30, then one that connects and never reads`,
    '',
    table(
      [
        'window',
        'others fps min',
        'others fps median',
        'others p50 ms',
        'others p95 ms',
        'others p95, median of 1-s windows ms',
        'worst viewer p95 ms',
        'relay CPU %',
        'relay fanOut() p50 / p95 ms',
        'relay RSS peak MB',
        'machine busy / not bench, cores',
      ],
      [
        w(`before the stall (median of ${s.beforeP95s.length} windows)`, s.before),
        w('stall: buffers filling (1 window)', s.after1),
        w(`stall: relay skipping (median of ${s.after2P95s.length} windows)`, s.after2),
      ],
    ),
    '',
    `Others' p95 moved by ${d(s.after1, 'latencyP95Ms')} ms while the stalled socket's buffers filled and by ${d(s.after2, 'latencyP95Ms')} ms once the relay was skipping for it ` +
      `(median of 1-s p95s: ${d(s.after1, 'p95PerSecondMedianMs')} / ${d(s.after2, 'p95PerSecondMedianMs')} ms; target < 2 ms). ` +
      `Noise floor: others' p95 per window was ${s.beforeP95s.map((x) => f(x, 2)).join(', ')} ms before the stall and ${s.after2P95s.map((x) => f(x, 2)).join(', ')} ms while skipping. ` +
      `Stalled viewer at the relay: ${s.stalledSent} frames written, ${s.stalledSkipped} skipped; first skip ${s.firstSkipAfterS === null ? 'never' : `${f(s.firstSkipAfterS, 1)} s`} after it connected; ` +
      `writes ${s.stalledSentPlateau ? 'stopped (sent count flat over the last 3 s: its ack window or the socket buffers are full, and the relay holds one pending frame for it)' : 'still growing at the end'}.`,
    '',
    table(
      ['t after stall s', 'relay RSS MB', 'stalled: frames written', 'stalled: skipped'],
      perSecond.map((t) => [f(t.tS, 1), f(t.relayRssMb, 1), t.stalledSent, t.stalledSkipped]),
    ),
  ].join('\n');
}

export function renderSeed(s: SeedResult, lat: PipelineResult[]): string {
  const head = "### Seed 003 (Python + OpenCV, TCP 'lhh', no sleep, 30 fps) vs framewire, 1280×720, this run";
  if (!s.ran) return `${head}\n\nSkipped: ${s.note}.`;
  const fw = lat.find((r) => r.width === 1280);
  const rows: (string | number)[][] = [
    [
      'seed003 (direct TCP, cv2 q15 encode → cv2.imdecode)',
      f(s.rxFps, 1),
      f(s.latencyMeanMs, 2),
      f(s.latencyP50Ms, 2),
      f(s.latencyP95Ms, 2),
      f(s.bytesPerFrame / 1000, 1),
    ],
  ];
  if (fw) {
    rows.push([
      'framewire (via relay, sharp q75 encode → sharp decode)',
      f(fw.viewerFps, 1),
      f(fw.decodedMeanMs, 2),
      f(fw.decodedP50Ms, 2),
      f(fw.decodedP95Ms, 2),
      f(fw.bytesPerFrame / 1000, 1),
    ]);
    rows.push([
      'ratio framewire / seed003',
      '',
      f(fw.decodedMeanMs / s.latencyMeanMs, 2),
      f(fw.decodedP50Ms / s.latencyP50Ms, 2),
      f(fw.decodedP95Ms / s.latencyP95Ms, 2),
      '',
    ]);
  }
  return [
    head,
    '',
    'Capture → decoded picture at the viewer, same machine, same run. seed003 has no relay hop (two processes); framewire has three (publisher, relay, viewer).',
    '',
    table(['pipeline', 'rx fps', 'mean ms', 'p50 ms', 'p95 ms', 'kB/frame'], rows),
    '',
    `seed003 command lines: \`${s.command.join('` ; `')}\``,
  ].join('\n');
}
