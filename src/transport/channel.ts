import { EventEmitter } from 'node:events';
import type { FramewireError } from '../errors.js';
import type { Message } from '../protocol/messages.js';

/** Events every message channel emits. */
export interface ChannelEvents {
  /** A whole, validated message arrived. */
  message: [Message];
  /** The peer broke the protocol; the owner should answer with an error and close. */
  protocolError: [FramewireError];
  /** Writes drained: the channel can take more. */
  drain: [];
  /**
   * The channel is closed (by either side, by `destroy()`, or after an I/O
   * error). Emitted once, on a later tick than the one that closed it (as a
   * socket's 'close' is): a listener that destroys the channel sees its own
   * work finish first.
   */
  close: [Error | undefined];
  /**
   * The bytes the peer makes this channel hold changed (a half-received
   * message, reassembly buffers, an upload part): the new total. The relay
   * charges it to its memory budget.
   */
  held: [number];
}

/**
 * A bidirectional message pipe over some transport (TCP, WebSocket, UDP,
 * HTTP). Callers hand it {@link Message}s; each transport encodes what it
 * needs (the native bytes, UDP fragments, an MJPEG part) and owns framing
 * and I/O. Relay and client code only see messages.
 *
 * The life cycle is kept here, once: {@link send} does nothing once the
 * channel is ending or closed; {@link end} and {@link destroy} are
 * idempotent; {@link destroy} drops what is queued; 'close' is emitted once.
 * A transport implements {@link write}, {@link shutdown} and {@link abort},
 * and calls {@link finish} when its socket goes away.
 *
 * Listeners that throw are caught and reported, never allowed to break the
 * transport (mediasoup's `safeEmit`).
 */
export abstract class MessageChannel extends EventEmitter<ChannelEvents> {
  /** The peer's address, "ip:port", for logs. */
  abstract readonly remote: string;
  /** The transport's name, for logs and stats. */
  abstract readonly transport: string;
  /**
   * The transport may lose whole messages and repairs loss within a latency
   * budget (UDP): the relay's ack window then leaves room for frames held
   * back during a repair and takes long-unacked frames as lost.
   */
  readonly lossy: boolean = false;
  /** True when the transport's send buffer is full: the next frame should wait (or be skipped). */
  abstract readonly backedUp: boolean;
  /** Bytes queued in user space waiting for the socket. */
  abstract readonly queuedBytes: number;
  private isClosed = false;
  private isEnding = false;

  /** True once closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** True once {@link end} was called (or the channel closed): nothing more is sent. */
  protected get ending(): boolean {
    return this.isEnding || this.isClosed;
  }

  /**
   * Sends one message. A frame's data is written as it is, never copied
   * (the relay hands the same frame to every viewer). Nothing happens once
   * the channel is ending or closed.
   */
  send(msg: Message): void {
    if (this.isEnding || this.isClosed) return;
    this.write(msg);
  }

  /** Flushes what is queued, then closes. Idempotent. */
  end(): void {
    if (this.isEnding || this.isClosed) return;
    this.isEnding = true;
    this.shutdown();
  }

  /** Closes at once, dropping what is queued. Idempotent. */
  destroy(): void {
    if (this.isClosed) return;
    this.abort();
    this.finish(undefined);
  }

  /** Bytes the peer makes this channel hold now (see the `held` event). */
  get heldBytes(): number {
    return 0;
  }

  /**
   * Whether the peer may send frame messages now. Before its hello, and as a
   * viewer, a peer sends only small control messages: a transport that can
   * tell refuses a frame (FW_UNEXPECTED_MESSAGE) as soon as its header
   * arrives, so nobody can make the relay hold a frame-sized message it would
   * refuse anyway. Default: allowed.
   */
  acceptFrames(_allowed: boolean): void {
    /* transports that cannot tell early rely on the session's check */
  }

  /** Transport-specific counters (UDP: loss and repair), or undefined when the transport keeps none. */
  transportStats(): Record<string, number> | undefined {
    return undefined;
  }

  /** Encodes and writes one message; called only while the channel is open and not ending. */
  protected abstract write(msg: Message): void;

  /** Starts an orderly close: what is queued goes out, then the transport closes (and calls {@link finish}). Called once. */
  protected abstract shutdown(): void;

  /** Tears the transport down now, dropping what is queued. Called once, by {@link destroy}, before {@link finish}. */
  protected abstract abort(): void;

  /** Lets go of what the channel holds (timers, buffers) once it is closed. Called once, by {@link finish}. */
  protected released(): void {
    /* nothing by default */
  }

  /**
   * Marks the channel closed (once: later calls do nothing), lets go of what
   * it holds and emits 'close' with `err` on the next tick.
   */
  protected finish(err: Error | undefined): void {
    if (this.isClosed) return;
    this.isClosed = true;
    process.nextTick(() => this.safeEmit('close', err));
    this.released();
  }

  /** Emits without letting a throwing listener escape into the transport. */
  protected safeEmit<K extends keyof ChannelEvents>(event: K, ...args: ChannelEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: ChannelEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      process.emitWarning(`framewire: a ${String(event)} listener threw: ${String(err)}`);
    }
  }
}
