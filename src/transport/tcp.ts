import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { ErrorCodes, FramewireError } from '../errors.js';
import { encodeControl, type Message } from '../protocol/messages.js';
import { StreamParser, type ParserLimits } from '../protocol/parser.js';
import { MessageChannel } from './channel.js';
import { frameHeader } from './wire.js';
import {
  connectTls,
  onTlsClientError,
  tlsServerOptions,
  type TlsClientErrorInfo,
  type TlsClientOptions,
  type TlsServerOptions,
} from './tls.js';

const EMPTY = Buffer.alloc(0);

/**
 * What a {@link TcpChannel} runs on: a `net.Socket` or `tls.TLSSocket`, or
 * any Duplex stream (an in-memory pair in tests). The socket-only parts are
 * optional.
 */
export type TcpSocketLike = Duplex & {
  setNoDelay?: (noDelay?: boolean) => unknown;
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
};

/** Formats a socket's peer address as "ip:port" (IPv6 in brackets). */
export function peerAddress(socket: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string {
  const a = socket.remoteAddress ?? '?';
  return `${a.includes(':') ? `[${a}]` : a}:${socket.remotePort ?? '?'}`;
}

/**
 * The native protocol over TCP: messages back to back on the stream, parsed
 * incrementally. Nagle is off (frames go out at once); a frame's header and
 * data are written between cork() and uncork() so they leave in one writev,
 * the data as it is (the header is encoded once per frame: {@link frameHeader}).
 * Over TLS (`tls://`) the socket is a TLSSocket and the bytes inside are
 * the same; the transport is then named "tls".
 */
export class TcpChannel extends MessageChannel {
  readonly transport: 'tcp' | 'tls';
  readonly remote: string;
  private readonly parser: StreamParser;
  private lastHeld = 0;

  constructor(
    readonly socket: TcpSocketLike,
    limits: ParserLimits = {},
  ) {
    super();
    this.transport = socket instanceof tls.TLSSocket ? 'tls' : 'tcp';
    this.remote = peerAddress(socket);
    this.parser = new StreamParser(limits);
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.safeEmit('drain'));
    socket.on('error', (err) => this.finish(err));
    socket.on('close', () => this.finish(undefined));
    // An orderly end from the peer: finish writing nothing more, close.
    socket.on('end', () => socket.end());
  }

  get backedUp(): boolean {
    return this.socket.writableNeedDrain;
  }

  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  override get heldBytes(): number {
    return this.parser.claimedBytes;
  }

  override acceptFrames(allowed: boolean): void {
    this.parser.acceptFrames(allowed);
  }

  protected write(msg: Message): void {
    const socket = this.socket;
    if (socket.destroyed || socket.writableEnded) return;
    if (msg.type !== 'frame') {
      socket.write(encodeControl(msg));
      return;
    }
    socket.cork();
    socket.write(frameHeader(msg.frame));
    socket.write(msg.frame.data);
    socket.uncork();
  }

  protected shutdown(): void {
    // Closing: read nothing more, and let go of any half-received message now.
    // (Reading goes on, so the peer's FIN is seen; what it sends is dropped unread.)
    this.dropHeld();
    this.socket.end();
    // Do not wait forever for a peer that will not read the rest.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  protected abort(): void {
    this.socket.destroy();
  }

  protected override released(): void {
    this.socket.destroy();
    this.dropHeld();
  }

  private dropHeld(): void {
    this.parser.discard();
    if (this.lastHeld !== 0) {
      this.lastHeld = 0;
      this.safeEmit('held', 0);
    }
  }

  private onData(chunk: Buffer): void {
    let input = chunk;
    for (;;) {
      if (this.parser.failed || this.closed) return;
      let messages: Message[];
      try {
        messages = this.parser.push(input);
      } catch (err) {
        this.socket.pause();
        this.safeEmit('protocolError', FramewireError.from(err, 'the TCP parser'));
        return;
      }
      for (const m of messages) {
        if (this.closed) return;
        this.safeEmit('message', m);
      }
      // The parser stops after one message while frames are refused: go on with what it holds.
      if (messages.length === 0 || this.parser.bufferedBytes === 0) break;
      input = EMPTY;
    }
    const held = this.parser.claimedBytes;
    if (held !== this.lastHeld && !this.closed) {
      this.lastHeld = held;
      this.safeEmit('held', held);
    }
  }
}

/** Options for {@link connectTcp}. */
export interface ConnectTcpOptions extends ParserLimits {
  host: string;
  port: number;
  /** Speak TLS (`tls://`), checking the relay's certificate as these options say. */
  tls?: TlsClientOptions;
  /** Give up connecting after this long. Default 10 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Opens a TCP connection (TLS with `options.tls`) and wraps it in a {@link TcpChannel}. */
export async function connectTcp(options: ConnectTcpOptions): Promise<TcpChannel> {
  const socket = options.tls
    ? await connectTls({ host: options.host, port: options.port, tls: options.tls, timeoutMs: options.timeoutMs, signal: options.signal })
    : await connectPlain(options);
  return new TcpChannel(socket, options);
}

function connectPlain(options: ConnectTcpOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: options.host, port: options.port });
    const timeoutMs = options.timeoutMs ?? 10_000;
    const fail = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error): void =>
      fail(
        new FramewireError(ErrorCodes.CONNECTION_CLOSED, `cannot connect to ${options.host}:${options.port}: ${err.message}`, {
          cause: err,
        }),
      );
    const onAbort = (): void => fail(new FramewireError(ErrorCodes.ABORTED, 'connect aborted'));
    const timer = setTimeout(
      () => fail(new FramewireError(ErrorCodes.TIMEOUT, `connect to ${options.host}:${options.port} timed out`)),
      timeoutMs,
    );
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('error', onError);
      options.signal?.removeEventListener('abort', onAbort);
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once('connect', () => {
      cleanup();
      resolve(socket);
    });
  });
}

/** Options for {@link createTcpServer}. */
export interface TcpServerOptions {
  /** Serve TLS with this certificate and key: every connection must complete a TLS handshake first. */
  tls?: TlsServerOptions | undefined;
  /** TLS only: a handshake must finish within this. Default 5000 ms. */
  handshakeTimeoutMs?: number;
  /** TLS only: told of each failed handshake (the socket is already closed). */
  onTlsError?: (e: TlsClientErrorInfo) => void;
}

/**
 * A listener for the native protocol: plain TCP, or TLS with `options.tls`.
 * `onSocket` gets each connection once it is ready (after the handshake, on TLS).
 * A client that does not complete the TLS handshake (a plain TCP client, one
 * that does not trust the certificate, a silent one) is closed with at most a
 * TLS alert and never reaches `onSocket`.
 */
export function createTcpServer(onSocket: (socket: net.Socket) => void, options: TcpServerOptions = {}): net.Server {
  if (!options.tls) return net.createServer(onSocket);
  const server = tls.createServer(tlsServerOptions(options.tls, options.handshakeTimeoutMs ?? 5000), onSocket);
  onTlsClientError(server, 'tls', options.onTlsError);
  return server;
}
