import type net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { WebSocket } from 'ws';
import { ErrorCodes, FramewireError } from '../errors.js';
import { encodeControl, type Message } from '../protocol/messages.js';
import { DEFAULT_LIMITS, decodeMessage, type ParserLimits } from '../protocol/parser.js';
import { MessageChannel } from './channel.js';
import { frameHeader } from './wire.js';
import { connectTls, type TlsClientOptions } from './tls.js';

/** Partial WebSocket input below this is not charged to the relay's memory budget. */
export const WS_HELD_REPORT_MIN = 64 * 1024;

/**
 * The native protocol over WebSocket: one protocol message per binary
 * WebSocket message, the same bytes as on TCP. A text message is a protocol
 * error (FW_BAD_MESSAGE).
 *
 * A frame goes out as two WebSocket fragments — its header (encoded once
 * per frame, {@link frameHeader}) with `fin: false`, then its data as a
 * continuation — so the data shared by every viewer is written as is, never
 * copied per viewer. The receiver (browser or `ws`) reassembles one message.
 * Permessage-deflate must be off (it is on our server): a compressed message
 * would be queued inside `ws` and copied.
 *
 * Back-pressure comes from the underlying socket (`writableNeedDrain`), and
 * 'drain' is the socket's: `ws` writes straight to it when deflate is off.
 */
export class WsChannel extends MessageChannel {
  /** "wss" when the socket under it is TLS. */
  readonly transport: 'ws' | 'wss';
  readonly remote: string;
  private readonly limits: ParserLimits;
  private failed = false;
  private endTimer: NodeJS.Timeout | undefined;
  /** Bytes read from the socket since the last whole message: an upper bound of what `ws` holds for the next one. */
  private partial = 0;
  /** What the relay's budget was last told (see {@link WS_HELD_REPORT_MIN}). */
  private reported = 0;
  private framesAllowed = true;

  /**
   * @param ws an open WebSocket (server or client side)
   * @param socket the socket under it (from `handleUpgrade` or the client's 'upgrade' response), for back-pressure
   * @param remote the peer's "ip:port"
   */
  constructor(
    readonly ws: WebSocket,
    private readonly socket: Duplex,
    remote: string,
    limits: ParserLimits = {},
  ) {
    super();
    this.transport = socket instanceof tls.TLSSocket ? 'wss' : 'ws';
    this.remote = remote;
    this.limits = limits;
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data, isBinary) => this.onData(data as Buffer | Buffer[], isBinary));
    socket.on('data', (chunk: Buffer) => this.onBytes(chunk.length));
    socket.on('drain', () => this.safeEmit('drain'));
    ws.on('error', (err) => this.finish(err));
    ws.on('close', () => this.finish(undefined));
  }

  get backedUp(): boolean {
    return this.socket.writableNeedDrain;
  }

  get queuedBytes(): number {
    return this.ws.bufferedAmount;
  }

  override get heldBytes(): number {
    return this.partial;
  }

  override acceptFrames(allowed: boolean): void {
    this.framesAllowed = allowed;
  }

  protected write(msg: Message): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (msg.type !== 'frame') {
      this.ws.send(encodeControl(msg), { binary: true, fin: true, compress: false });
      return;
    }
    this.ws.send(frameHeader(msg.frame), { binary: true, fin: false, compress: false });
    this.ws.send(msg.frame.data, { binary: true, fin: true, compress: false });
  }

  protected shutdown(): void {
    // Closing: what the peer sends now is not read (ws may hold a half message until the close completes).
    this.partial = 0;
    this.report();
    // A normal closure after what is queued; do not wait forever for a peer that will not answer.
    this.ws.close(this.failed ? 1008 : 1000);
    this.endTimer = setTimeout(() => this.ws.terminate(), 2000);
    this.endTimer.unref();
  }

  protected abort(): void {
    this.ws.terminate();
  }

  protected override released(): void {
    clearTimeout(this.endTimer);
    if (this.ws.readyState !== this.ws.CLOSED) this.ws.terminate();
  }

  /** Counts what `ws` may be holding of an unfinished message; refuses a frame-sized one where no frame is allowed. */
  private onBytes(n: number): void {
    if (this.failed || this.ending) return;
    this.partial += n;
    this.report();
    const most =
      (this.limits.maxControlBytes ?? DEFAULT_LIMITS.maxControlBytes) + (this.limits.maxHeaderBytes ?? DEFAULT_LIMITS.maxHeaderBytes) + 64;
    if (!this.framesAllowed && this.partial > most) {
      this.failed = true;
      this.safeEmit(
        'protocolError',
        new FramewireError(
          ErrorCodes.UNEXPECTED_MESSAGE,
          `a message of more than ${most} bytes is not accepted here: only a publisher sends frames, after its hello`,
        ),
      );
    }
  }

  /**
   * Tells the budget what may be held, but only from {@link WS_HELD_REPORT_MIN}
   * up: every socket read would otherwise be two budget updates (a viewer's
   * acks, each a whole message), for bytes that do not matter.
   */
  private report(): void {
    const held = this.partial >= WS_HELD_REPORT_MIN ? this.partial : 0;
    if (held === this.reported) return;
    this.reported = held;
    this.safeEmit('held', held);
  }

  private onData(data: Buffer | Buffer[], isBinary: boolean): void {
    if (this.failed || this.ending) return;
    this.partial = 0;
    this.report();
    let msg: Message;
    try {
      if (!isBinary)
        throw new FramewireError(ErrorCodes.BAD_MESSAGE, 'text WebSocket messages are not part of the protocol; send binary messages');
      msg = decodeMessage(Array.isArray(data) ? Buffer.concat(data) : data, this.limits);
    } catch (err) {
      this.failed = true;
      this.safeEmit('protocolError', FramewireError.from(err, 'the WebSocket decoder'));
      return;
    }
    this.safeEmit('message', msg);
  }
}

/** Options for {@link connectWs}. */
export interface ConnectWsOptions extends ParserLimits {
  /** `ws://host:port/path` or `wss://…` of the relay's WebSocket endpoint (normally `/ws`). */
  url: string;
  /** wss:// only: how to check the relay's certificate (default: the system's CAs and the host name). */
  tls?: TlsClientOptions;
  /** Give up connecting after this long. Default 10 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Opens a WebSocket to a relay's HTTP port and wraps it in a
 * {@link WsChannel}: the native protocol for Node clients where only HTTP
 * gets through (a reverse proxy, a tunnel, TLS on 443). For `wss://` the TLS
 * connection is made and its certificate checked ({@link connectTls}, FW_TLS
 * on failure) before the upgrade request, so a token in it never reaches an
 * impostor.
 */
export async function connectWs(options: ConnectWsOptions): Promise<WsChannel> {
  let secure: net.Socket | undefined;
  if (options.url.startsWith('wss:')) {
    const u = new URL(options.url);
    const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    secure = await connectTls({
      host,
      port: Number(u.port || 443),
      tls: options.tls ?? {},
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    });
  }
  return upgrade(options, secure);
}

function upgrade(options: ConnectWsOptions, secure: net.Socket | undefined): Promise<WsChannel> {
  return new Promise((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const maxPayload = (options.maxFrameBytes ?? DEFAULT_LIMITS.maxFrameBytes) + (options.maxHeaderBytes ?? DEFAULT_LIMITS.maxHeaderBytes);
    const ws = new WebSocket(options.url, {
      perMessageDeflate: false,
      maxPayload,
      handshakeTimeout: timeoutMs,
      // wss: the TLS socket made and checked above carries the upgrade.
      ...(secure ? { createConnection: () => secure } : {}),
    });
    let socket: Duplex | undefined;
    const fail = (err: FramewireError): void => {
      cleanup();
      ws.on('error', () => undefined); // terminate() while connecting reports an error of its own
      ws.terminate();
      secure?.destroy();
      reject(err);
    };
    const onError = (err: Error): void =>
      fail(new FramewireError(ErrorCodes.CONNECTION_CLOSED, `cannot connect to ${options.url}: ${err.message}`, { cause: err }));
    const onUnexpected = (_req: unknown, res: { statusCode?: number; statusMessage?: string }): void =>
      fail(
        new FramewireError(
          res.statusCode === 401 ? ErrorCodes.UNAUTHORIZED : ErrorCodes.CONNECTION_CLOSED,
          `${options.url} answered HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim(),
        ),
      );
    const onAbort = (): void => fail(new FramewireError(ErrorCodes.ABORTED, 'connect aborted'));
    const timer = setTimeout(() => fail(new FramewireError(ErrorCodes.TIMEOUT, `connect to ${options.url} timed out`)), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      ws.off('error', onError);
      ws.off('unexpected-response', onUnexpected);
      options.signal?.removeEventListener('abort', onAbort);
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    ws.on('error', onError);
    ws.on('unexpected-response', onUnexpected);
    ws.once('upgrade', (res) => (socket = res.socket));
    ws.once('open', () => {
      cleanup();
      const sock = socket as Duplex & { remoteAddress?: string; remotePort?: number };
      const remote = sock.remoteAddress ? `${sock.remoteAddress}:${sock.remotePort}` : new URL(options.url).host;
      resolve(new WsChannel(ws, sock, remote, options));
    });
  });
}
