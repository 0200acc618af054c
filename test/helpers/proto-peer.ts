/**
 * A raw TCP peer for protocol tests: sends whatever bytes it is told to and
 * decodes what comes back with the real StreamParser, so a test can check the
 * relay's answer (an `error` with a code) and that the socket then closes.
 */
import net from 'node:net';
import type { FramewireError } from '../../src/errors.js';
import { encodeControl, type HelloBody, type Message } from '../../src/protocol/messages.js';
import { StreamParser } from '../../src/protocol/parser.js';

export class RawPeer {
  /** Every message received, in order. */
  readonly messages: Message[] = [];
  /** Set if the relay sent bytes the parser rejected (never expected). */
  parseError: FramewireError | undefined;
  /** Set if the socket reported an error (e.g. a reset). */
  socketError: Error | undefined;
  /** Resolves once the socket is fully closed. */
  readonly closed: Promise<void>;
  private readonly parser = new StreamParser();
  private readonly listeners = new Set<() => void>();
  private isClosed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        this.messages.push(...this.parser.push(chunk));
      } catch (err) {
        this.parseError = err as FramewireError;
        socket.destroy();
      }
      this.notify();
    });
    socket.on('error', (err) => (this.socketError = err));
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        this.notify();
        resolve();
      }),
    );
  }

  /** Connects to 127.0.0.1:port. */
  static connect(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawPeer(socket));
      });
    });
  }

  /** Writes raw bytes (ignored once closed). */
  send(bytes: Uint8Array): void {
    if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.write(bytes);
  }

  /** Sends a hello. */
  hello(body: HelloBody): void {
    this.send(encodeControl({ type: 'hello', body }));
  }

  /** Resolves with the first message of `type`; rejects if the socket closes first. */
  waitFor<T extends Message['type']>(type: T): Promise<Extract<Message, { type: T }>> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const m = this.messages.find((x) => x.type === type);
        if (m) {
          this.listeners.delete(check);
          resolve(m as Extract<Message, { type: T }>);
        } else if (this.isClosed) {
          this.listeners.delete(check);
          reject(new Error(`closed before a ${type} arrived (got ${this.messages.map((x) => x.type).join(', ') || 'nothing'})`));
        }
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Closes at once. Idempotent. */
  destroy(): void {
    this.socket.destroy();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}
