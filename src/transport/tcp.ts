import net from 'node:net';
import { ErrorCodes, FramewireError } from '../errors.js';
import { StreamParser, type ParserLimits } from '../protocol/parser.js';
import { MessageChannel } from './channel.js';

const EMPTY = Buffer.alloc(0);

/** Formats a socket's peer address as "ip:port" (IPv6 in brackets). */
export function peerAddress(socket: net.Socket): string {
  const a = socket.remoteAddress ?? '?';
  return `${a.includes(':') ? `[${a}]` : a}:${socket.remotePort ?? '?'}`;
}

/**
 * The native protocol over TCP: messages back to back on the stream, parsed
 * incrementally. Nagle is off (frames go out at once); header and payload are
 * written between cork() and uncork() so they leave in one writev.
 */
export class TcpChannel extends MessageChannel {
  readonly transport = 'tcp';
  readonly remote: string;
  private readonly parser: StreamParser;
  private isClosed = false;
  private lastHeld = 0;

  constructor(
    readonly socket: net.Socket,
    limits: ParserLimits = {},
  ) {
    super();
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
        this.safeEmit(
          'protocolError',
          err instanceof FramewireError ? err : new FramewireError(ErrorCodes.BAD_MESSAGE, String(err)),
        );
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
  /** Give up connecting after this long. Default 10 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Opens a TCP connection and wraps it in a {@link TcpChannel}. */
export function connectTcp(options: ConnectTcpOptions): Promise<TcpChannel> {
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
      resolve(new TcpChannel(socket, options));
    });
  });
}
