import type { Message } from '../../src/protocol/messages.js';
import { MessageChannel } from '../../src/transport/channel.js';

/**
 * An in-memory channel for relay and session unit tests: it keeps every
 * message sent to it, the test delivers messages as if from the peer and
 * sets backpressure by hand. Its life cycle is MessageChannel's own (end
 * closes on a later turn, destroy at once; 'close' comes once, a tick later).
 */
export class FakeChannel extends MessageChannel {
  readonly transport = 'fake';
  readonly remote = 'fake:1';
  /** What was sent, in order: the very objects handed to send(). */
  readonly sent: Message[] = [];
  /** Makes `backedUp` true until {@link drain}. */
  full = false;

  get backedUp(): boolean {
    return this.full;
  }

  get queuedBytes(): number {
    return 0;
  }

  /** True once end() or destroy() was called (closing or closed). */
  get ended(): boolean {
    return this.ending;
  }

  /** A message from the peer. */
  deliver(msg: Message): void {
    this.safeEmit('message', msg);
  }

  /** The socket drained. */
  drain(): void {
    this.full = false;
    this.safeEmit('drain');
  }

  /** Types of the messages sent, in order. */
  types(): string[] {
    return this.sent.map((m) => m.type);
  }

  /** Sequence numbers of the frames sent, in order. */
  frameSeqs(): number[] {
    return this.sent.flatMap((m) => (m.type === 'frame' ? [m.frame.seq] : []));
  }

  protected write(msg: Message): void {
    this.sent.push(msg);
  }

  /** Like a socket, reports the close later, not from inside end(). */
  protected shutdown(): void {
    setImmediate(() => this.finish(undefined));
  }

  protected abort(): void {
    /* nothing queued */
  }
}
