/**
 * The soak bench's viewers, many in one process (see soak.ts). argv[2]:
 * JSON {@link SoakViewerArgs}. TCP, WebSocket and UDP viewers are the
 * library's `subscribe()` (reconnecting, as an application would use it);
 * MJPEG viewers are a plain HTTP GET of /streams/NAME.mjpg?wait=1 read with
 * the library's multipart parser, counting JPEG parts (the relay's "no live
 * video" pictures are counted apart, not as frames).
 *
 * Calls:
 *   ready     resolves once every viewer has its first frame
 *   minute    per-viewer frames since the last call (then zeroed), and the churn figures
 *   restart   { afterUs }: from now on, remember each viewer's first frame captured after afterUs
 *   back      each viewer's first frame after the last restart mark: arrival, capture time, seq
 *   usage     this process's CPU and RSS
 */
import http from 'node:http';
import { nowUs, subscribe, type Subscription } from '../src/index.js';
import { MultipartParser, type MultipartPart } from '../src/codec/multipart.js';
import { procUsage, serveParent } from './ipc.js';
import { sleep } from './stats.js';

export type Transport = 'tcp' | 'ws' | 'udp' | 'mjpeg';
export const TRANSPORTS: readonly Transport[] = ['tcp', 'ws', 'mjpeg', 'udp'];

export interface SoakViewerArgs {
  tcp: number;
  http: number;
  udp: number;
  stream: string;
  viewers: Record<Transport, number>;
  /** Open a viewer and close it a second later, over and over, cycling through the transports. */
  churn: boolean;
}

/** One frame's arrival after a publisher restart. */
export interface BackSample {
  arrivalUs: number;
  captureUs: number;
  seq: number;
}

export interface MinuteReport {
  viewers: { transport: Transport; frames: number; reconnects: number; noLive: number }[];
  /** Churn viewers opened since the last report, and how many of them got at least one frame before they left. */
  churn: { opened: number; withFrames: number; byTransport: Record<Transport, number> };
}

/** What every soak viewer keeps. */
abstract class SoakViewer {
  frames = 0;
  framesTotal = 0;
  reconnects = 0;
  noLive = 0;
  private afterUs: number | undefined;
  back: BackSample | undefined;
  private firstFrame!: () => void;
  readonly gotFirst = new Promise<void>((resolve) => (this.firstFrame = resolve));

  constructor(readonly transport: Transport) {}

  /** Records a frame captured at `captureUs` (this machine's clock). */
  protected onFrame(captureUs: number, seq: number): void {
    const arrivalUs = nowUs();
    this.frames++;
    if (this.framesTotal++ === 0) this.firstFrame();
    if (this.afterUs !== undefined && this.back === undefined && captureUs > this.afterUs) this.back = { arrivalUs, captureUs, seq };
  }

  markRestart(afterUs: number): void {
    this.afterUs = afterUs;
    this.back = undefined;
  }

  abstract close(): void;
}

/** `subscribe()` over tcp://, ws:// or udp://. */
class LibraryViewer extends SoakViewer {
  private readonly sub: Subscription;

  constructor(transport: Exclude<Transport, 'mjpeg'>, url: string) {
    super(transport);
    const sub = subscribe(url, { reconnect: true, onDisconnect: () => this.reconnects++ });
    this.sub = sub;
    void (async () => {
      try {
        for await (const f of sub) this.onFrame(f.captureUs, f.seq);
      } catch {
        // a fatal error ends the iteration: the missing frames show it
      }
    })();
  }

  close(): void {
    this.sub.close();
  }
}

/** A plain HTTP GET of the MJPEG endpoint; reconnects 200 ms after the response ends. */
class MjpegViewer extends SoakViewer {
  private req: http.ClientRequest | undefined;
  private closed = false;

  constructor(
    private readonly port: number,
    private readonly path: string,
  ) {
    super('mjpeg');
    this.connect();
  }

  private connect(): void {
    const parser = new MultipartParser('fwframe');
    let ended = false;
    const again = (): void => {
      if (ended) return;
      ended = true;
      if (this.closed) return;
      this.reconnects++;
      setTimeout(() => this.connect(), 200).unref();
    };
    const req = http.get({ host: '127.0.0.1', port: this.port, path: this.path, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        res.on('end', again);
        return;
      }
      res.on('data', (chunk: Buffer) => {
        let parts: MultipartPart[];
        try {
          parts = parser.push(chunk);
        } catch {
          req.destroy();
          return;
        }
        for (const p of parts) {
          if (p.headers['x-no-live-video'] !== undefined) {
            this.noLive++;
            continue;
          }
          const [s = '0', frac = '0'] = (p.headers['x-timestamp'] ?? '0').split('.');
          this.onFrame(Number(s) * 1e6 + Number(frac.padEnd(6, '0').slice(0, 6)), Number(p.headers['x-frame-seq']));
        }
      });
      res.on('close', again);
    });
    req.on('error', again);
    req.on('close', again);
    this.req = req;
  }

  close(): void {
    this.closed = true;
    this.req?.destroy();
  }
}

function makeViewer(t: Transport, a: SoakViewerArgs): SoakViewer {
  switch (t) {
    case 'tcp':
      return new LibraryViewer('tcp', `tcp://127.0.0.1:${a.tcp}/${a.stream}`);
    case 'ws':
      return new LibraryViewer('ws', `ws://127.0.0.1:${a.http}/${a.stream}`);
    case 'udp':
      return new LibraryViewer('udp', `udp://127.0.0.1:${a.udp}/${a.stream}`);
    case 'mjpeg':
      return new MjpegViewer(a.http, `/streams/${a.stream}.mjpg?wait=1`);
  }
}

const a = JSON.parse(process.argv[2] ?? '{}') as SoakViewerArgs;
const viewers: SoakViewer[] = [];
for (const t of TRANSPORTS) for (let i = 0; i < a.viewers[t]; i++) viewers.push(makeViewer(t, a));

// Churn: every second the previous churn viewer leaves and one of the next transport arrives.
const zero = (): Record<Transport, number> => ({ tcp: 0, ws: 0, udp: 0, mjpeg: 0 });
let churn = { opened: 0, withFrames: 0, byTransport: zero() };
let churnViewer: SoakViewer | undefined;
let churnTimer: NodeJS.Timeout | undefined;
if (a.churn) {
  let k = 0;
  churnTimer = setInterval(() => {
    if (churnViewer) {
      churnViewer.close();
      if (churnViewer.framesTotal > 0) churn.withFrames++;
    }
    const t = TRANSPORTS[k++ % TRANSPORTS.length] as Transport;
    churnViewer = makeViewer(t, a);
    churn.opened++;
    churn.byTransport[t]++;
  }, 1000);
}

serveParent(
  {
    ready: async () => {
      await Promise.all(viewers.map((v) => v.gotFirst));
      return viewers.length;
    },
    minute: (): MinuteReport => {
      const out: MinuteReport = {
        viewers: viewers.map((v) => ({ transport: v.transport, frames: v.frames, reconnects: v.reconnects, noLive: v.noLive })),
        churn,
      };
      for (const v of viewers) v.frames = 0;
      churn = { opened: 0, withFrames: 0, byTransport: zero() };
      return out;
    },
    restart: (o: { afterUs: number }) => {
      for (const v of viewers) v.markRestart(o.afterUs);
      return true;
    },
    back: () => viewers.map((v) => ({ transport: v.transport, back: v.back ?? null })),
    usage: () => procUsage(),
  },
  async () => {
    clearInterval(churnTimer);
    churnViewer?.close();
    for (const v of viewers) v.close();
    await sleep(100);
  },
);
process.send?.({ event: 'ready', data: {} });
