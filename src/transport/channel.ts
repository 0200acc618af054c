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
  /** The channel is closed (by either side, or after an I/O error). Emitted once. */
  close: [Error | undefined];
  /**
   * The bytes the peer makes this channel hold changed (a half-received
   * message, reassembly buffers, an upload part): the new total. The relay
   * charges it to its memory budget.
   */
  held: [number];
}

/**
 * A bidirectional message pipe over some transport (TCP, WebSocket, ...).
 * Transports own framing and I/O; relay and client code only see messages.
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
  /** Sends one message made of one or more parts (e.g. frame header + payload), written together. */
  abstract send(parts: readonly Uint8Array[]): void;
  /** Flushes what is queued then closes. */
  abstract end(): void;
  /** Closes at once, dropping what is queued. */
  abstract destroy(): void;
  /** True once closed. */
  abstract readonly closed: boolean;

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

  /** Emits without letting a throwing listener escape into the transport. */
  protected safeEmit<K extends keyof ChannelEvents>(event: K, ...args: ChannelEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: ChannelEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      process.emitWarning(`framewire: a ${String(event)} listener threw: ${String(err)}`);
    }
  }
}
