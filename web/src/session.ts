import {
  DEFAULT_LIMITS,
  FramewireError,
  ProtocolSession,
  backoffMs,
  decodeMessage,
  encodeControl,
  encodeFrame,
  isFatalCode,
  nowUs,
  type EncodedFrame,
  type HelloBody,
  type Message,
  type StatsBody,
  type WelcomeBody,
} from '../../src/protocol/index.js';

/** What a page hears from its relay session. */
export interface SessionHandlers {
  /** Connection state changes; `detail` is a human sentence. */
  onState?(state: 'connecting' | 'open' | 'waiting' | 'failed', detail: string): void;
  onWelcome?(body: WelcomeBody): void;
  onFrame?(frame: EncodedFrame, arrivalUs: number): void;
  onStats?(body: StatsBody): void;
}

/** Options for {@link RelaySession}. */
export interface SessionOptions {
  /** ws:// or wss:// URL of the relay's /ws endpoint. */
  url: string;
  /** The hello: role, stream, token, params, client. */
  hello: HelloBody;
}

/**
 * One logical connection to a relay over WebSocket, kept open: the shared
 * protocol core (src/protocol: parser with its limits, the session state
 * machine with its pings, clock sync and idle timeout) on a browser
 * WebSocket, reconnecting with the core's backoff when the relay goes away
 * and stopping on the core's fatal codes.
 */
export class RelaySession {
  private ws: WebSocket | undefined;
  private core: ProtocolSession | undefined;
  private attempt = 0;
  private stopped = false;
  private retryTimer: number | undefined;
  private maxFrameBytes = DEFAULT_LIMITS.maxFrameBytes;

  constructor(
    private readonly options: SessionOptions,
    private readonly handlers: SessionHandlers,
  ) {}

  /** True between welcome and close. */
  get open(): boolean {
    return this.core?.isOpen ?? false;
  }

  /** Relay clock minus page clock, µs (best of the recent samples). */
  get offsetUs(): number {
    return this.core?.clockSync.offsetUs ?? 0;
  }

  /** Latest round-trip time, µs. */
  get rttUs(): number {
    return this.core?.clockSync.rttUs ?? 0;
  }

  /** Bytes the browser has not yet handed to the network. */
  get bufferedAmount(): number {
    return this.ws?.bufferedAmount ?? 0;
  }

  start(): void {
    this.connect();
  }

  /** Sends a frame (only while open). */
  sendFrame(frame: EncodedFrame): void {
    if (this.open && this.ws?.readyState === WebSocket.OPEN) this.ws.send(encodeFrame(frame) as Uint8Array<ArrayBuffer>);
  }

  /** Says bye and stops for good. */
  close(reason = 'page closed'): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (this.core && this.core.state !== 'closed') this.core.bye(reason);
    else this.ws?.close(1000);
  }

  private connect(): void {
    if (this.stopped) return;
    this.handlers.onState?.('connecting', this.attempt === 0 ? 'connecting to the relay…' : `reconnecting (attempt ${this.attempt + 1})…`);
    const ws = new WebSocket(this.options.url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    const hello = this.options.hello;
    // Set when a message from the relay could not be read: the close then says 1008 (Policy Violation), as the relay's does.
    let unreadable = false;
    const core = new ProtocolSession(
      {
        send: (m) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(encodeControl(m) as Uint8Array<ArrayBuffer>);
        },
        end: () => ws.close(unreadable ? 1008 : 1000),
      },
      {
        welcome: (body) => {
          this.attempt = 0;
          this.maxFrameBytes = Math.max(1, body.maxFrameBytes || DEFAULT_LIMITS.maxFrameBytes);
          this.handlers.onWelcome?.(body);
          this.handlers.onState?.('open', 'connected');
        },
        ...(hello.role === 'view'
          ? {
              frame: (frame: EncodedFrame, at: number) => {
                // Ack on arrival: the relay then keeps only a round trip's worth of frames in flight.
                if (hello.acks === true) core.send({ type: 'ack', body: { seq: frame.seq } });
                this.handlers.onFrame?.(frame, at);
              },
            }
          : {}),
        stats: (body) => this.handlers.onStats?.(body),
        closed: (reason, error) => this.closed(ws, reason, error),
      },
      // The relay pings every second: 15 s of silence means it is gone even if the socket says open.
      { side: 'client', clock: nowUs, handshakeTimeoutMs: 10_000, idleTimeoutMs: 15_000 },
    );
    this.core = core;
    ws.onopen = () => core.start(hello);
    ws.onmessage = (ev: MessageEvent) => {
      if (!(ev.data instanceof ArrayBuffer)) return;
      const arrival = nowUs();
      let msg: Message;
      try {
        msg = decodeMessage(new Uint8Array(ev.data), { maxFrameBytes: this.maxFrameBytes });
      } catch (err) {
        unreadable = true;
        core.fail(FramewireError.from(err, 'the page decoding a message'));
        return;
      }
      core.receive(msg, arrival);
    };
    ws.onclose = (ev: CloseEvent) => core.transportClosed(`connection lost${ev.reason ? ` (${ev.reason})` : ''}`);
  }

  private closed(ws: WebSocket, reason: string, error: FramewireError | undefined): void {
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
    if (this.ws !== ws || this.stopped) return;
    if (error && isFatalCode(error.code, this.options.hello.role)) {
      this.stopped = true;
      this.handlers.onState?.('failed', `${error.code}: ${error.message}`);
      return;
    }
    const delay = backoffMs(this.attempt++);
    const why = error ? `${error.code}: ${error.message}` : reason;
    this.handlers.onState?.('waiting', `${why}; retrying in ${(delay / 1000).toFixed(1)} s`);
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
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
