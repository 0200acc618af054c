/**
 * Many light viewers in one process (see light-viewer.ts). argv[2]: JSON
 * { port, stream, parser, tls? } (tls: connect over TLS, certificate unchecked). Calls:
 *   add { n, stall? }   connect n more viewers (resolves once all are welcomed)
 *   reset               start a measurement window (clears samples)
 *   report              per-viewer frames and latencies since the reset, and this process's usage
 *   usage               this process's CPU and RSS
 */
import { LightViewer, SubscribeViewer, type BenchViewer, type ParserKind } from './light-viewer.js';
import { procUsage, serveParent } from './ipc.js';
import { nowUs } from '../src/index.js';

interface Args {
  port: number;
  stream: string;
  parser: ParserKind;
  tls?: boolean;
}

const a = JSON.parse(process.argv[2] ?? '{}') as Args;
const viewers: BenchViewer[] = [];
let windowStartUs = nowUs();

/** What the parent gets per viewer: counts plus raw latencies (µs, rounded) for pooled percentiles. */
export interface ViewerReport {
  frames: number;
  framesTotal: number;
  closed: boolean;
  stalled: boolean;
  relaySkipped: number;
  offsetUs: number;
  rttUs: number;
  localPort: number;
  latenciesUs: number[];
  arrivalsUs: number[];
}

const stalled = new Set<BenchViewer>();

serveParent(
  {
    add: async (o: { n: number; stall?: boolean }) => {
      const added: BenchViewer[] = [];
      const make = (stall: boolean): BenchViewer =>
        a.parser === 'subscribe' && !stall
          ? new SubscribeViewer(a.port, a.stream)
          : new LightViewer({
              port: a.port,
              stream: a.stream,
              parser: a.parser === 'subscribe' ? 'stream' : a.parser,
              stall,
              tls: a.tls ?? false,
            });
      // Connect in batches so the listen backlog is never the limit.
      for (let i = 0; i < o.n; i += 50) {
        const batch: BenchViewer[] = [];
        for (let k = i; k < Math.min(o.n, i + 50); k++) batch.push(make(o.stall ?? false));
        await Promise.all(batch.map((v) => v.ready));
        added.push(...batch);
      }
      for (const v of added) {
        viewers.push(v);
        if (o.stall) stalled.add(v);
      }
      return viewers.length;
    },
    reset: () => {
      windowStartUs = nowUs();
      for (const v of viewers) v.reset();
      return { windowStartUs, usage: procUsage() };
    },
    report: (): { windowUs: number; usage: ReturnType<typeof procUsage>; viewers: ViewerReport[] } => ({
      windowUs: nowUs() - windowStartUs,
      usage: procUsage(),
      viewers: viewers.map((v) => ({
        frames: v.frames,
        framesTotal: v.framesTotal,
        closed: v.closed,
        stalled: stalled.has(v),
        relaySkipped: v.relaySkipped,
        offsetUs: Math.round(v.offsetUs),
        rttUs: Math.round(v.rttUs),
        localPort: v.localPort,
        latenciesUs: v.latencies.map((x) => Math.round(x)),
        arrivalsUs: v.arrivals.map((x) => Math.round(x - windowStartUs)),
      })),
    }),
    usage: () => procUsage(),
  },
  () => {
    for (const v of viewers) v.close();
  },
);
process.send?.({ event: 'ready', data: {} });
