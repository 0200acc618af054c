import { ErrorCodes, FramewireError } from '../errors.js';
import { nowUs } from '../frame/clock.js';
import { ClockSync } from '../protocol/clock-sync.js';
import { type ControlMessage, type HelloBody, type Message, type StatsBody, type WelcomeBody } from '../protocol/messages.js';
import type { ParserLimits } from '../protocol/parser.js';
import type { MessageChannel } from '../transport/channel.js';
import { connectTcp } from '../transport/tcp.js';
import type { TlsClientOptions } from '../transport/tls.js';
import { connectWs } from '../transport/ws.js';
import type { UdpChannelOptions } from '../transport/udp.js';
import { connectUdp } from '../transport/udp-server.js';
import type { StreamUrl } from './url.js';

/** Options shared by publish and subscribe connections. */
export interface ConnectOptions extends ParserLimits {
  token?: string;
  /** Handshake (connect + hello + welcome) must finish within this. Default 10 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** udp:// only: fragment size, FEC, NACK, latency budget, pacing (see {@link UdpChannelOptions}). */
  udp?: UdpChannelOptions;
  /**
   * tls:// and wss:// only: how to check the relay's certificate — a CA to
   * trust, a pinned SHA-256 fingerprint, or none at all (insecure). Default:
   * the system's CAs and the host name. A failed check is FW_TLS.
   */
  tls?: TlsClientOptions;
}

/** Callbacks a client connection reports to. */
export interface ClientHandlers {
  onFrame?(msg: Extract<Message, { type: 'frame' }>, arrivalUs: number): void;
  onStats?(body: StatsBody): void;
  onClose(reason: string, error: FramewireError | undefined): void;
}

const PING_INTERVAL_MS = 1000;

/**
 * The client's side of one connection after a successful handshake: answers
 * pings, pings the relay for RTT and clock offset, reports frames and stats.
 */
export class ClientConnection {
  readonly clockSync = new ClockSync();
  private pingTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    readonly channel: MessageChannel,
    readonly welcome: WelcomeBody,
    private readonly handlers: ClientHandlers,
  ) {}

  /** Connects, says hello and waits for the welcome (or a coded error). */
  static async open(url: StreamUrl, hello: HelloBody, options: ConnectOptions, handlers: ClientHandlers): Promise<ClientConnection> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (options.tls && !url.tls) {
      throw new FramewireError(ErrorCodes.BAD_URL, `TLS options (ca, fingerprint, insecure) need a tls:// or wss:// URL, not ${url.transport}://`);
    }
    const tls = url.tls ? { tls: options.tls ?? {} } : {};
    const channel =
      url.transport === 'udp'
        ? await connectUdp({ ...options.udp, host: url.host, port: url.port, timeoutMs, signal: options.signal, ...limitsOf(options) })
        : url.transport === 'ws'
          ? await connectWs({ url: url.wsUrl as string, timeoutMs, signal: options.signal, ...tls, ...limitsOf(options) })
          : await connectTcp({ host: url.host, port: url.port, timeoutMs, signal: options.signal, ...tls, ...limitsOf(options) });
    return new Promise<ClientConnection>((resolve, reject) => {
      let conn: ClientConnection | undefined;
      const early: Message[] = [];
      const fail = (err: FramewireError): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        channel.destroy();
        reject(err);
      };
      const onAbort = (): void => fail(new FramewireError(ErrorCodes.ABORTED, 'aborted'));
      const timer = setTimeout(() => fail(new FramewireError(ErrorCodes.TIMEOUT, `no welcome from ${channel.remote} within ${timeoutMs} ms`)), timeoutMs);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      channel.on('protocolError', (err) => {
        if (conn) conn.fail(err);
        else fail(err);
      });
      channel.on('close', (err) => {
        if (conn) conn.finish(err ? `connection error: ${err.message}` : 'connection closed', undefined);
        else fail(new FramewireError(ErrorCodes.CONNECTION_CLOSED, `${channel.remote} closed the connection during the handshake${err ? `: ${err.message}` : ''}`));
      });
      channel.on('message', (msg) => {
        if (conn) return conn.onMessage(msg);
        if (msg.type === 'welcome') {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          conn = new ClientConnection(channel, msg.body, handlers);
          conn.startPings();
          resolve(conn);
          for (const m of early) conn.onMessage(m);
        } else if (msg.type === 'error') {
          fail(new FramewireError(msg.body.code, msg.body.message));
        } else if (msg.type === 'bye') {
          fail(new FramewireError(ErrorCodes.CONNECTION_CLOSED, `relay said bye during the handshake: ${msg.body.reason}`));
        } else if (msg.type === 'ping') {
          early.push(msg);
        } else {
          fail(new FramewireError(ErrorCodes.UNEXPECTED_MESSAGE, `expected welcome, got ${msg.type}`));
        }
      });
      channel.send({ type: 'hello', body: hello });
    });
  }

  /** Sends a control message. */
  send(msg: ControlMessage): void {
    this.channel.send(msg);
  }

  /** Relay clock minus local clock, µs. */
  get offsetUs(): number {
    return this.clockSync.offsetUs;
  }

  /** Says bye and closes. Idempotent. */
  close(reason = 'client closing'): void {
    if (this.closed) return;
    this.send({ type: 'bye', body: { reason } });
    this.channel.end();
    this.finish(reason, undefined);
  }

  private fail(err: FramewireError): void {
    if (this.closed) return;
    this.send({ type: 'error', body: { code: err.code, message: err.message } });
    this.channel.end();
    this.finish(err.message, err);
  }

  private onMessage(msg: Message): void {
    if (this.closed) return;
    const now = nowUs();
    switch (msg.type) {
      case 'frame':
        if (!this.handlers.onFrame) return this.fail(new FramewireError(ErrorCodes.UNEXPECTED_MESSAGE, 'a publisher does not receive frames'));
        return this.handlers.onFrame(msg, now);
      case 'ping':
        return this.send({ type: 'pong', body: { id: msg.body.id, t0: msg.body.t0, t1: now, t2: nowUs() } });
      case 'pong':
        this.clockSync.onPong(msg.body, now);
        return;
      case 'stats':
        return this.handlers.onStats?.(msg.body);
      case 'bye':
        this.channel.end();
        return this.finish(`relay said bye: ${msg.body.reason}`, undefined);
      case 'error':
        this.channel.end();
        return this.finish(`relay error ${msg.body.code}: ${msg.body.message}`, new FramewireError(msg.body.code, msg.body.message));
      default:
        return this.fail(new FramewireError(ErrorCodes.UNEXPECTED_MESSAGE, `unexpected ${msg.type} after the handshake`));
    }
  }

  private startPings(): void {
    const ping = (): void => this.send({ type: 'ping', body: { id: this.clockSync.nextPingId(), t0: nowUs() } });
    ping();
    this.pingTimer = setInterval(ping, PING_INTERVAL_MS);
    this.pingTimer.unref();
  }

  private finish(reason: string, error: FramewireError | undefined): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    this.handlers.onClose(reason, error);
  }
}

function limitsOf(o: ParserLimits): ParserLimits {
  const out: ParserLimits = {};
  if (o.maxFrameBytes !== undefined) out.maxFrameBytes = o.maxFrameBytes;
  if (o.maxControlBytes !== undefined) out.maxControlBytes = o.maxControlBytes;
  if (o.maxHeaderBytes !== undefined) out.maxHeaderBytes = o.maxHeaderBytes;
  return out;
}

/** Backoff delays for reconnects: 250 ms doubling to 5 s, with jitter. */
export function backoffMs(attempt: number): number {
  const base = Math.min(5000, 250 * 2 ** Math.min(attempt, 5));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

/** Sleeps, or rejects with FW_ABORTED when the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new FramewireError(ErrorCodes.ABORTED, 'aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new FramewireError(ErrorCodes.ABORTED, 'aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
