import net from 'node:net';
import tls from 'node:tls';
import { ErrorCodes, FramewireError } from '../errors.js';
import { StreamParser, type ParserLimits } from '../protocol/parser.js';
import { MessageChannel } from './channel.js';
import { connectTls, onTlsClientError, tlsServerOptions, type TlsClientErrorInfo, type TlsClientOptions, type TlsServerOptions } from './tls.js';

const EMPTY = Buffer.alloc(0);

/** Formats a socket's peer address as "ip:port" (IPv6 in brackets). */
export function peerAddress(socket: net.Socket): string {
  const a = socket.remoteAddress ?? '?';
  return `${a.includes(':') ? `[${a}]` : a}:${socket.remotePort ?? '?'}`;
}

/**
 * The native protocol over TCP: messages back to back on the stream, parsed
 * incrementally. Nagle is off (frames go out at once); header and payload are
 * written between cork() and uncork() so they leave in one writev. Over TLS
 * (`tls://`) the socket is a TLSSocket and the bytes inside are the same;
 * the transport is then named "tls".
 */
export class TcpChannel extends MessageChannel {
  readonly transport: 'tcp' | 'tls';
  readonly remote: string;
  private readonly parser: StreamParser;
  private isClosed = false;
  private lastHeld = 0;

  constructor(
    readonly socket: net.Socket,
    limits: ParserLimits = {},
  ) {
    super();
    this.transport = socket instanceof tls.TLSSocket ? 'tls' : 'tcp';
    this.remote = peerAddress(socket);
    this.parser = new StreamParser(limits);
    socket.setNoDelay(true);
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

  get closed(): boolean {
    return this.isClosed;
  }

  override get heldBytes(): number {
    return this.parser.claimedBytes;
  }

  override acceptFrames(allowed: boolean): void {
    this.parser.acceptFrames(allowed);
  }

  send(parts: readonly Buffer[]): void {
    if (this.isClosed || this.socket.destroyed || this.socket.writableEnded) return;
    if (parts.length === 1) {
      this.socket.write(parts[0] as Buffer);
      return;
    }
    this.socket.cork();
    for (const p of parts) this.socket.write(p);
    this.socket.uncork();
  }

  end(): void {
    if (this.isClosed) return;
    // Closing: read nothing more, and let go of any half-received message now.
    // (Reading goes on, so the peer's FIN is seen; what it sends is dropped unread.)
    this.parser.discard();
    if (this.lastHeld !== 0) {
      this.lastHeld = 0;
      this.safeEmit('held', 0);
    }
    this.socket.end();
    // Do not wait forever for a peer that will not read the rest.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let input = chunk;
    for (;;) {
      if (this.parser.failed || this.isClosed) return;
      let messages;
      try {
        messages = this.parser.push(input);
      } catch (err) {
        this.socket.pause();
        this.safeEmit('protocolError', FramewireError.from(err, 'the TCP parser'));
        return;
      }
      for (const m of messages) {
        if (this.isClosed) return;
        this.safeEmit('message', m);
      }
      // The parser stops after one message while frames are refused: go on with what it holds.
      if (messages.length === 0 || this.parser.bufferedBytes === 0) break;
      input = EMPTY;
    }
    const held = this.parser.claimedBytes;
    if (held !== this.lastHeld && !this.isClosed) {
      this.lastHeld = held;
      this.safeEmit('held', held);
    }
  }

  private finish(err: Error | undefined): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.socket.destroy();
    this.safeEmit('close', err);
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
      fail(new FramewireError(ErrorCodes.CONNECTION_CLOSED, `cannot connect to ${options.host}:${options.port}: ${err.message}`, { cause: err }));
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
