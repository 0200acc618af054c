import { randomBytes } from 'node:crypto';
import { ErrorCodes, FramewireError } from '../errors.js';
import type { Clock } from '../frame/clock.js';
import type { ClockSync } from '../protocol/clock-sync.js';
import type { ControlMessage, HelloBody, Message } from '../protocol/messages.js';
import { ProtocolSession } from '../protocol/session.js';
import type { MessageChannel } from '../transport/channel.js';

/** What a session needs from the relay that owns it. */
export interface SessionHost {
  readonly clock: Clock;
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /**
   * Checks the hello's token for its stream and role: returns when that is
   * decided at once, or a promise when a signature must be verified first.
   * Throws (or rejects with) a FramewireError to refuse.
   */
  authenticate(hello: HelloBody): undefined | Promise<unknown>;
  /** Validates the hello and attaches the session (after {@link SessionHost.authenticate}); throws a FramewireError to refuse. */
  attach(session: ServerSession, hello: HelloBody): ControlMessage;
  /** A frame arrived from an attached publisher (capture time already on the relay clock). */
  onFrame(session: ServerSession, msg: Extract<Message, { type: 'frame' }>, arrivalUs: number): void;
  /** A viewer acked a frame. */
  onAck(session: ServerSession, seq: number): void;
  /** The session ended (once). */
  detach(session: ServerSession, reason: string, error?: FramewireError): void;
  /** The bytes the peer makes this session's channel hold changed (charged to the memory budget). */
  onHeld(session: ServerSession, bytes: number): void;
  /** Once a second while open (with the ping): per-session housekeeping such as ack timeouts. */
  onTick(session: ServerSession, nowUs: number): void;
}

/**
 * The relay's side of one connection: the shared {@link ProtocolSession}
 * (handshake with a timeout, token check with early messages held, pings,
 * idle timeout, bye) wired to a channel and to the relay. A peer that breaks
 * the protocol gets an error message with its code, then its connection
 * closes; nothing else is touched.
 */
export class ServerSession {
  readonly id = randomBytes(6).toString('hex');
  hello: HelloBody | undefined;
  private readonly core: ProtocolSession;

  constructor(
    readonly channel: MessageChannel,
    private readonly host: SessionHost,
  ) {
    this.core = new ProtocolSession(
      { send: (m) => channel.send(m), end: () => channel.end() },
      {
        hello: (hello) => this.onHello(hello),
        frame: (frame, at) => {
          if (this.hello?.role !== 'publish') throw new FramewireError(ErrorCodes.UNEXPECTED_MESSAGE, 'only a publisher may send frames');
          host.onFrame(this, { type: 'frame', frame }, at);
        },
        ack: (seq) => host.onAck(this, seq),
        tick: (now) => host.onTick(this, now),
        closed: (reason, error) => host.detach(this, reason, error),
      },
      { side: 'server', clock: host.clock, handshakeTimeoutMs: host.handshakeTimeoutMs, idleTimeoutMs: host.idleTimeoutMs },
    );
    // Until a publisher is welcomed, the peer has no business sending frames.
    channel.acceptFrames(false);
    channel.on('held', (bytes) => {
      if (this.core.state !== 'closed') host.onHeld(this, bytes);
    });
    channel.on('message', (m) => this.core.receive(m, host.clock()));
    channel.on('protocolError', (err) => this.core.fail(err));
    channel.on('close', (err) => this.core.transportClosed(err ? `socket error: ${err.message}` : 'connection closed'));
  }

  /** The publisher's clock against the relay's (from its pongs). */
  get clockSync(): ClockSync {
    return this.core.clockSync;
  }

  get remote(): string {
    return this.channel.remote;
  }

  get isOpen(): boolean {
    return this.core.isOpen;
  }

  /** Sends a control message. */
  send(msg: ControlMessage): void {
    this.core.send(msg);
  }

  /** Sends an error with a stable code, then closes. */
  fail(err: FramewireError): void {
    this.core.fail(err);
  }

  /** Says bye with a reason, then closes. */
  bye(reason: string): void {
    this.core.bye(reason);
  }

  private onHello(hello: HelloBody): void {
    // A publisher's frames may follow its hello at once (held while a token is checked).
    if (hello.role === 'publish') this.channel.acceptFrames(true);
    const verifying = this.host.authenticate(hello);
    if (!verifying) return this.admit(hello);
    // The signature check is asynchronous: the core holds what arrives meanwhile, in order.
    verifying
      .then(
        () => this.admit(hello),
        (err: unknown) => this.core.fail(FramewireError.from(err, 'the token check')),
      )
      // Neither handler throws; should one ever, the peer is dropped rather than the process.
      .catch((err: unknown) => {
        FramewireError.internal(err, 'the session admission');
        this.channel.destroy();
      });
  }

  /** Attaches a session whose token checked out (unless it closed meanwhile). */
  private admit(hello: HelloBody): void {
    // A channel that closed while the token was checked reports it a tick later: do not attach it meanwhile.
    if (this.core.state === 'closed' || this.channel.closed) return;
    let welcome: ControlMessage;
    try {
      welcome = this.host.attach(this, hello);
    } catch (err) {
      this.core.fail(FramewireError.from(err, 'the relay attaching a session'));
      return;
    }
    if (welcome.type !== 'welcome')
      return this.core.fail(FramewireError.internal(new Error(`attach answered ${welcome.type}`), 'the relay'));
    // Set only once attached, so a refused peer is never logged as a publisher or viewer.
    this.hello = hello;
    this.core.admit(welcome.body);
  }
}
