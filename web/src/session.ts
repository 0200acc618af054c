import { decodeMessage, encodeControl, nowUs, num, type WireFrame } from './protocol.js';

/** What a page hears from its relay session. */
export interface SessionHandlers {
  /** Connection state changes; `detail` is a human sentence. */
  onState?(state: 'connecting' | 'open' | 'waiting' | 'failed', detail: string): void;
  onWelcome?(body: Record<string, unknown>): void;
  onFrame?(frame: WireFrame, arrivalUs: number): void;
  onStats?(body: Record<string, unknown>): void;
}

/** Options for {@link RelaySession}. */
export interface SessionOptions {
  /** ws:// or wss:// URL of the relay's /ws endpoint. */
  url: string;
  /** The hello body: role, stream, token, params, client. */
  hello: Record<string, unknown>;
}

/** Codes after which retrying cannot help. */
const FATAL = new Set(['FW_UNAUTHORIZED', 'FW_BAD_MESSAGE', 'FW_BAD_VERSION']);

/**
 * One logical connection to a relay over WebSocket, kept open: the native
 * handshake (hello → welcome), answers to pings, pings of its own for RTT
 * and clock offset (NTP style, min-RTT sample of the last 8), and reconnects
 * with backoff (250 ms doubling to 5 s, jittered) when the relay goes away.
 */
export class RelaySession {
  private ws: WebSocket | undefined;
  private attempt = 0;
  private stopped = false;
  private pingTimer: number | undefined;
  private retryTimer: number | undefined;
  private pingId = 1;
  private readonly samples: { rttUs: number; offsetUs: number }[] = [];
  /** True between welcome and close. */
  open = false;

  constructor(
    private readonly options: SessionOptions,
    private readonly handlers: SessionHandlers,
  ) {}

  /** Relay clock minus page clock, µs (best of the recent samples). */
  get offsetUs(): number {
    let best: { rttUs: number; offsetUs: number } | undefined;
    for (const s of this.samples) if (!best || s.rttUs < best.rttUs) best = s;
    return best?.offsetUs ?? 0;
  }

  /** Latest round-trip time, µs. */
  get rttUs(): number {
    return this.samples[this.samples.length - 1]?.rttUs ?? 0;
  }

  /** Bytes the browser has not yet handed to the network. */
  get bufferedAmount(): number {
    return this.ws?.bufferedAmount ?? 0;
  }

  start(): void {
    this.connect();
  }

  /** Sends one whole protocol message (only while open). */
  send(data: Uint8Array<ArrayBuffer>): void {
    if (this.open && this.ws?.readyState === WebSocket.OPEN) this.ws.send(data);
  }

  /** Says bye and stops for good. */
  close(reason = 'page closed'): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(encodeControl('bye', { reason }));
    this.ws?.close(1000);
    this.teardown();
  }

  private connect(): void {
    if (this.stopped) return;
    this.handlers.onState?.('connecting', this.attempt === 0 ? 'connecting to the relay…' : `reconnecting (attempt ${this.attempt + 1})…`);
    const ws = new WebSocket(this.options.url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    let fatal: string | undefined;
    ws.onopen = () => ws.send(encodeControl('hello', this.options.hello));
    ws.onmessage = (ev: MessageEvent) => {
      if (!(ev.data instanceof ArrayBuffer)) return;
      const arrival = nowUs();
      let msg;
      try {
        msg = decodeMessage(ev.data);
      } catch (err) {
        ws.send(encodeControl('error', { code: 'FW_BAD_MESSAGE', message: String(err) }));
        ws.close(1002);
        return;
      }
      switch (msg.type) {
        case 'frame':
          // Ack on arrival: the relay then keeps only a round trip's worth of frames in flight.
          if (this.options.hello.acks === true) ws.send(encodeControl('ack', { seq: msg.frame.seq }));
          this.handlers.onFrame?.(msg.frame, arrival);
          return;
        case 'welcome':
          this.open = true;
          this.attempt = 0;
          this.samples.length = 0;
          this.handlers.onWelcome?.(msg.body);
          this.handlers.onState?.('open', 'connected');
          this.ping();
          this.pingTimer = window.setInterval(() => this.ping(), 1000);
          return;
        case 'ping':
          ws.send(encodeControl('pong', { id: num(msg.body, 'id'), t0: num(msg.body, 't0'), t1: arrival, t2: nowUs() }));
          return;
        case 'pong': {
          const t0 = num(msg.body, 't0');
          const t1 = num(msg.body, 't1');
          const t2 = num(msg.body, 't2');
          this.samples.push({ rttUs: Math.max(0, arrival - t0 - (t2 - t1)), offsetUs: (t1 - t0 + (t2 - arrival)) / 2 });
          if (this.samples.length > 8) this.samples.shift();
          return;
        }
        case 'stats':
          this.handlers.onStats?.(msg.body);
          return;
        case 'error': {
          const code = String(msg.body.code);
          if (FATAL.has(code)) fatal = `${code}: ${String(msg.body.message)}`;
          else this.handlers.onState?.('waiting', `${code}: ${String(msg.body.message)}`);
          return;
        }
        case 'bye':
          this.handlers.onState?.('waiting', `relay said bye: ${String(msg.body.reason)}`);
          return;
        default:
          return;
      }
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.teardown();
      if (this.stopped) return;
      if (fatal) {
        this.stopped = true;
        this.handlers.onState?.('failed', fatal);
        return;
      }
      const delay = Math.round(Math.min(5000, 250 * 2 ** Math.min(this.attempt, 5)) * (0.75 + Math.random() * 0.5));
      this.attempt++;
      this.handlers.onState?.('waiting', `connection lost${ev.reason ? ` (${ev.reason})` : ''}; retrying in ${(delay / 1000).toFixed(1)} s`);
      this.retryTimer = window.setTimeout(() => this.connect(), delay);
    };
  }

  private ping(): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(encodeControl('ping', { id: this.pingId++, t0: nowUs() }));
  }

  private teardown(): void {
    this.open = false;
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }
}

/** The relay's WebSocket URL for this page's origin. */
export function relayWsUrl(): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
}

/** The token this page was opened with (`?token=`), if any. */
export function pageToken(): string | undefined {
  return new URLSearchParams(location.search).get('token') ?? undefined;
}

/** Appends `token` (when set) to a same-origin URL. */
export function withToken(url: string, token = pageToken()): string {
  if (!token) return url;
  return `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
}
