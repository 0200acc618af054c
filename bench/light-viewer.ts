/**
 * A light viewer for fan-out runs: one raw TCP socket speaking the native
 * protocol, no async iterator, no per-viewer StatsMeter. It says hello,
 * answers the relay's pings, pings the relay once a second for the clock
 * offset (the same ClockSync the library uses), and records, per frame,
 * arrival time and capture→arrival latency on this process's clock:
 *
 *   latency = arrivalUs − (captureUs_relay − offset),  offset = relay − local
 *
 * which is exactly what `Subscription` feeds its StatsMeter.
 *
 * Two parsers: "stream" uses the library's StreamParser (payload views, one
 * copy when a frame spans socket chunks); "skip" reads headers only and
 * counts payload bytes past without touching them — the cheapest correct
 * receiver, to keep the viewer process from being the bottleneck.
 */
import net from 'node:net';
import tls from 'node:tls';
import { nowUs, subscribe, type Subscription } from '../src/index.js';
import { StreamParser, encodeControl, type Message } from '../src/protocol/index.js';
import { ClockSync } from '../src/protocol/clock-sync.js';
import { FIXED_HEADER_BYTES, MessageType, readFixedHeader, readU64 } from '../src/protocol/header.js';
import { validateControl, type ControlMessage } from '../src/protocol/messages.js';

export type ParserKind = 'stream' | 'skip' | 'subscribe';

/** What the viewer process needs from any kind of bench viewer. */
export interface BenchViewer {
  readonly ready: Promise<void>;
  readonly closed: boolean;
  frames: number;
  framesTotal: number;
  arrivals: number[];
  latencies: number[];
  relaySkipped: number;
  readonly offsetUs: number;
  readonly rttUs: number;
  /** This end's TCP port (matches the relay's `remote` for the viewer), or 0 if unknown. */
  readonly localPort: number;
  reset(): void;
  close(): void;
}

export interface LightViewerOptions {
  port: number;
  stream: string;
  parser: 'stream' | 'skip';
  /** Connect, say hello, then never read again (pause the socket). */
  stall?: boolean;
  /** Ack every frame, as the library's subscribe() does (hello.acks). Default true. */
  acks?: boolean;
  /** Connect over TLS (tls://), the bench relay's certificate unchecked. */
  tls?: boolean;
}

/** What a light viewer hands the parser-independent part: a frame's capture time, or a control message. */
type Sink = (m: { frame: true; captureUs: number; seq: number } | { frame: false; msg: ControlMessage }, arrivalUs: number) => void;

export class LightViewer implements BenchViewer {
  readonly socket: net.Socket;
  readonly clock = new ClockSync();
  welcomed = false;
  closed = false;
  /** Frames received since the last reset. */
  frames = 0;
  framesTotal = 0;
  arrivals: number[] = [];
  latencies: number[] = [];
  relaySkipped = 0;
  private readonly feed: (chunk: Buffer, arrivalUs: number) => void;
  private pingTimer: NodeJS.Timeout | undefined;
  readonly ready: Promise<void>;

  constructor(o: LightViewerOptions) {
    const sink: Sink = (m, arrivalUs) => this.onMessage(m, arrivalUs);
    this.feed = o.parser === 'stream' ? streamFeed(sink) : skipFeed(sink);
    this.socket = o.tls
      ? tls.connect({ host: '127.0.0.1', port: o.port, rejectUnauthorized: false })
      : net.connect({ host: '127.0.0.1', port: o.port });
    this.socket.setNoDelay(true);
    let onWelcome!: () => void;
    let onFail!: (e: Error) => void;
    this.ready = new Promise<void>((res, rej) => {
      onWelcome = res;
      onFail = rej;
    });
    this.welcomeCb = onWelcome;
    // A viewer that fails after the caller stopped waiting must not crash the process.
    this.ready.catch(() => undefined);
    this.socket.once(o.tls ? 'secureConnect' : 'connect', () => {
      this.acks = o.acks ?? true;
      this.socket.write(
        encodeControl({ type: 'hello', body: { role: 'view', stream: o.stream, client: 'framewire-bench', acks: this.acks } }),
      );
      if (o.stall) {
        this.socket.pause();
        this.welcomed = true;
        onWelcome();
      }
    });
    this.socket.on('data', (chunk: Buffer) => this.feed(chunk, nowUs()));
    this.socket.on('error', (e) => onFail(e));
    this.socket.on('close', () => {
      this.closed = true;
      clearInterval(this.pingTimer);
      onFail(new Error('closed'));
    });
  }

  private welcomeCb: () => void;
  private acks = true;

  get offsetUs(): number {
    return this.clock.offsetUs;
  }

  get rttUs(): number {
    return this.clock.rttUs;
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  /** Forgets the samples so far (start of a measurement window). */
  reset(): void {
    this.frames = 0;
    this.arrivals = [];
    this.latencies = [];
  }

  close(): void {
    clearInterval(this.pingTimer);
    this.socket.destroy();
  }

  private ping(): void {
    if (this.closed) return;
    this.socket.write(encodeControl({ type: 'ping', body: { id: this.clock.nextPingId(), t0: nowUs() } }));
  }

  private onMessage(m: Parameters<Sink>[0], arrivalUs: number): void {
    if (m.frame) {
      if (this.acks) this.socket.write(encodeControl({ type: 'ack', body: { seq: m.seq } }));
      const local = m.captureUs - this.clock.offsetUs;
      this.frames++;
      this.framesTotal++;
      this.arrivals.push(arrivalUs);
      this.latencies.push(arrivalUs - local);
      return;
    }
    const msg = m.msg;
    switch (msg.type) {
      case 'welcome':
        this.welcomed = true;
        this.ping();
        this.pingTimer = setInterval(() => this.ping(), 1000);
        this.pingTimer.unref();
        this.welcomeCb();
        return;
      case 'ping':
        this.socket.write(encodeControl({ type: 'pong', body: { id: msg.body.id, t0: msg.body.t0, t1: arrivalUs, t2: nowUs() } }));
        return;
      case 'pong':
        this.clock.onPong(msg.body, arrivalUs);
        return;
      case 'stats':
        if (typeof msg.body.framesSkipped === 'number') this.relaySkipped = msg.body.framesSkipped;
        return;
      default:
        return;
    }
  }
}

/** The library's StreamParser. */
function streamFeed(sink: Sink): (chunk: Buffer, arrivalUs: number) => void {
  const parser = new StreamParser();
  return (chunk, arrivalUs) => {
    for (const m of parser.push(chunk) as Message[]) {
      if (m.type === 'frame') sink({ frame: true, captureUs: m.frame.captureUs, seq: m.frame.seq }, arrivalUs);
      else sink({ frame: false, msg: m }, arrivalUs);
    }
  };
}

/**
 * Header-only parser: collects each message's header (and a control
 * message's JSON body), and steps over frame payloads without copying them.
 * Trusts the relay (this is a bench, not a receiver facing the internet).
 */
function skipFeed(sink: Sink): (chunk: Buffer, arrivalUs: number) => void {
  let head: Buffer = Buffer.alloc(0); // header bytes gathered so far (small)
  let need = FIXED_HEADER_BYTES; // header bytes wanted
  let skip = 0; // frame payload bytes still to step over
  let body: Buffer[] | undefined; // control body being gathered
  let bodyLeft = 0;
  let type = 0;
  let captureUs = 0;
  let seq = 0;
  return (chunk, arrivalUs) => {
    let off = 0;
    while (off < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - off);
        skip -= n;
        off += n;
        if (skip === 0) sink({ frame: true, captureUs, seq }, arrivalUs);
        continue;
      }
      if (body) {
        const n = Math.min(bodyLeft, chunk.length - off);
        body.push(chunk.subarray(off, off + n));
        bodyLeft -= n;
        off += n;
        if (bodyLeft === 0) {
          const json = Buffer.concat(body).toString('utf8');
          body = undefined;
          const name = (Object.keys(MessageType) as (keyof typeof MessageType)[]).find((k) => MessageType[k] === type);
          if (name && name !== 'frame') sink({ frame: false, msg: validateControl(name, JSON.parse(json)) }, arrivalUs);
        }
        continue;
      }
      const n = Math.min(need - head.length, chunk.length - off);
      head = head.length === 0 && n === need ? chunk.subarray(off, off + n) : Buffer.concat([head, chunk.subarray(off, off + n)]);
      off += n;
      if (head.length < need) continue;
      const h = readFixedHeader(head);
      if (head.length < h.headerLength) {
        need = h.headerLength;
        continue;
      }
      type = h.type;
      if (type === MessageType.frame) {
        captureUs = readU64(head, 16);
        seq = head.readUInt32BE(12);
        skip = h.payloadLength;
        if (skip === 0) sink({ frame: true, captureUs, seq }, arrivalUs);
      } else {
        body = [];
        bodyLeft = h.payloadLength;
        if (bodyLeft === 0) body.push(Buffer.from('{}'));
      }
      head = Buffer.alloc(0);
      need = FIXED_HEADER_BYTES;
    }
    // A zero-length control body completes at once.
    if (body && bodyLeft === 0) {
      const json = Buffer.concat(body).toString('utf8');
      body = undefined;
      const name = (Object.keys(MessageType) as (keyof typeof MessageType)[]).find((k) => MessageType[k] === type);
      if (name && name !== 'frame') sink({ frame: false, msg: validateControl(name, JSON.parse(json)) }, arrivalUs);
    }
  };
}

/**
 * The library's own viewer, `subscribe()`, for comparison: latency is
 * nowUs() − frame.captureUs (already on this clock) when the iterator
 * yields the frame.
 */
export class SubscribeViewer implements BenchViewer {
  readonly ready: Promise<void>;
  frames = 0;
  framesTotal = 0;
  arrivals: number[] = [];
  latencies: number[] = [];
  relaySkipped = 0;
  private readonly sub: Subscription;
  private ended = false;

  constructor(port: number, stream: string) {
    const sub = subscribe(`tcp://127.0.0.1:${port}/${stream}`, { reconnect: false });
    this.sub = sub;
    this.ready = sub.ready.then(() => undefined);
    void (async () => {
      try {
        for await (const frame of sub) {
          const now = nowUs();
          this.frames++;
          this.framesTotal++;
          this.arrivals.push(now);
          this.latencies.push(now - frame.captureUs);
        }
      } catch {
        // closed
      }
      this.ended = true;
    })();
  }

  get closed(): boolean {
    return this.ended;
  }

  get offsetUs(): number {
    return 0;
  }

  get rttUs(): number {
    return (this.sub.stats().rttMs ?? 0) * 1000;
  }

  readonly localPort = 0;

  reset(): void {
    this.frames = 0;
    this.arrivals = [];
    this.latencies = [];
    this.relaySkipped = this.sub.stats().framesSkipped;
  }

  close(): void {
    this.sub.close();
  }
}
