import { ErrorCodes, FramewireError } from '../errors.js';
import { nowUs } from '../frame/clock.js';
import type { EncodedFrame } from '../frame/frame.js';
import type { ClockSync } from '../protocol/clock-sync.js';
import type { ControlMessage, HelloBody, Message, StatsBody, WelcomeBody } from '../protocol/messages.js';
import { ProtocolSession } from '../protocol/session.js';
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

/** A relay pings every second: this long without a word means it is gone (a half-open TCP connection, a dead path). */
const CLIENT_IDLE_TIMEOUT_MS = 15_000;

/**
 * The client's side of one connection after a successful handshake: the
 * shared {@link ProtocolSession} (pings for RTT and clock offset, answers to
 * pings, bye, idle timeout) wired to a channel; reports frames and stats.
 */
export class ClientConnection {
  private constructor(
    readonly channel: MessageChannel,
    readonly welcome: WelcomeBody,
    private readonly core: ProtocolSession,
  ) {}

  /** Connects, says hello and waits for the welcome (or a coded error). */
  static async open(url: StreamUrl, hello: HelloBody, options: ConnectOptions, handlers: ClientHandlers): Promise<ClientConnection> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (options.tls && !url.tls) {
      throw new FramewireError(
        ErrorCodes.BAD_URL,
        `TLS options (ca, fingerprint, insecure) need a tls:// or wss:// URL, not ${url.transport}://`,
      );
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
      const settle = (): void => options.signal?.removeEventListener('abort', onAbort);
      const core = new ProtocolSession(
        { send: (m) => channel.send(m), end: () => channel.end() },
        {
          welcome: (body) => {
            settle();
            conn = new ClientConnection(channel, body, core);
            resolve(conn);
          },
          ...(handlers.onFrame ? { frame: (frame: EncodedFrame, at: number) => handlers.onFrame?.({ type: 'frame', frame }, at) } : {}),
          stats: (body) => handlers.onStats?.(body),
          closed: (reason, error) => {
            if (conn) return handlers.onClose(reason, error);
            settle();
            channel.destroy();
            reject(
              error ??
                new FramewireError(
                  ErrorCodes.CONNECTION_CLOSED,
                  `${channel.remote} closed the connection during the handshake (${reason})`,
                ),
            );
          },
        },
        { side: 'client', clock: nowUs, handshakeTimeoutMs: timeoutMs, idleTimeoutMs: CLIENT_IDLE_TIMEOUT_MS },
      );
      const onAbort = (): void => core.transportClosed('aborted', new FramewireError(ErrorCodes.ABORTED, 'aborted'));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      channel.on('protocolError', (err) => core.fail(err));
      channel.on('close', (err) =>
        core.transportClosed(
          err ? `connection error: ${err.message}` : 'connection closed',
          conn
            ? undefined
            : new FramewireError(
                ErrorCodes.CONNECTION_CLOSED,
                `${channel.remote} closed the connection during the handshake${err ? `: ${err.message}` : ''}`,
              ),
        ),
      );
      channel.on('message', (msg) => core.receive(msg, nowUs()));
      core.start(hello);
    });
  }

  /** RTT and the relay's clock offset. */
  get clockSync(): ClockSync {
    return this.core.clockSync;
  }

  /** Sends a control message. */
  send(msg: ControlMessage): void {
    this.core.send(msg);
  }

  /** Relay clock minus local clock, µs. */
  get offsetUs(): number {
    return this.core.clockSync.offsetUs;
  }

  /** Says bye and closes. Idempotent. */
  close(reason = 'client closing'): void {
    this.core.bye(reason);
  }
}

function limitsOf(o: ParserLimits): ParserLimits {
  const out: ParserLimits = {};
  if (o.maxFrameBytes !== undefined) out.maxFrameBytes = o.maxFrameBytes;
  if (o.maxControlBytes !== undefined) out.maxControlBytes = o.maxControlBytes;
  if (o.maxHeaderBytes !== undefined) out.maxHeaderBytes = o.maxHeaderBytes;
  return out;
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
