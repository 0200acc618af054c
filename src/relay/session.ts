import { randomBytes } from 'node:crypto';
import { ErrorCodes, FramewireError } from '../errors.js';
import type { Clock } from '../frame/clock.js';
import { ClockSync } from '../protocol/clock-sync.js';
import { type ControlMessage, type HelloBody, type Message } from '../protocol/messages.js';
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
  authenticate(hello: HelloBody): void | Promise<unknown>;
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

const PING_INTERVAL_MS = 1000;
/** What a peer may send after its hello while its token is being verified (kept, then handled in order). */
const MAX_EARLY_MESSAGES = 8;
const MAX_EARLY_FRAME_BYTES = 4 << 20;

/**
 * The relay's side of one connection: handshake with a timeout, then
 * ping/pong (clock offset of publishers), frames from a publisher, bye. A
 * peer that breaks the protocol gets an error message with its code, then
 * its connection closes; nothing else is touched.
 */
export class ServerSession {
  readonly id = randomBytes(6).toString('hex');
  hello: HelloBody | undefined;
  /** Publisher's clock minus the relay's clock. */
  readonly clockSync = new ClockSync();
  private state: 'handshake' | 'verifying' | 'open' | 'closed' = 'handshake';
  /** Messages that arrived while the hello's token was being verified, with their arrival times. */
  private early: { msg: Message; at: number }[] = [];
  private earlyFrameBytes = 0;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private lastHeardUs: number;

  constructor(
    readonly channel: MessageChannel,
    private readonly host: SessionHost,
  ) {
    this.lastHeardUs = host.clock();
    this.handshakeTimer = setTimeout(
      () => this.fail(new FramewireError(ErrorCodes.HANDSHAKE_TIMEOUT, `no hello within ${host.handshakeTimeoutMs} ms`)),
      host.handshakeTimeoutMs,
    );
    // Until a publisher is welcomed, the peer has no business sending frames.
    channel.acceptFrames(false);
    channel.on('held', (bytes) => {
      if (this.state !== 'closed') host.onHeld(this, bytes);
    });
    channel.on('message', (m) => this.onMessage(m));
    channel.on('protocolError', (err) => this.fail(err));
    channel.on('close', (err) => this.finish(err ? `socket error: ${err.message}` : 'connection closed'));
  }

  get remote(): string {
    return this.channel.remote;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Sends a control message. */
  send(msg: ControlMessage): void {
    this.channel.send(msg);
  }

  /** Sends an error with a stable code, then closes. */
  fail(err: FramewireError): void {
    if (this.state === 'closed') return;
    this.send({ type: 'error', body: { code: err.code, message: err.message } });
    this.channel.end();
    this.finish(err.message, err);
  }

  /** Says bye with a reason, then closes. */
  bye(reason: string): void {
    if (this.state === 'closed') return;
    this.send({ type: 'bye', body: { reason } });
    this.channel.end();
    this.finish(`bye: ${reason}`);
  }

  private onMessage(msg: Message): void {
    if (this.state === 'closed') return;
    const now = this.host.clock();
    this.lastHeardUs = now;
    if (this.state === 'verifying') {
      this.keepEarly(msg, now);
      return;
    }
    this.handle(msg, now);
  }

  private handle(msg: Message, now: number): void {
    try {
      if (this.state === 'handshake') {
        if (msg.type !== 'hello') {
          throw new FramewireError(ErrorCodes.UNEXPECTED_MESSAGE, `expected hello, got ${msg.type}`);
        }
        // A publisher's frames may follow its hello at once (held while a token is checked).
        if (msg.body.role === 'publish') this.channel.acceptFrames(true);
        const verifying = this.host.authenticate(msg.body);
        if (!verifying) {
          this.admit(msg.body);
          return;
        }
        // The signature check is asynchronous: hold what arrives meanwhile, in order.
        this.state = 'verifying';
        const hello = msg.body;
        verifying
          .then(
            () => this.admit(hello),
            (err: unknown) => this.fail(coded(err)),
          )
          // Neither handler throws; should one ever, the peer is dropped rather than the process.
          .catch(() => this.channel.destroy());
        return;
      }
      switch (msg.type) {
        case 'frame':
          if (this.hello?.role !== 'publish') throw new FramewireError(ErrorCodes.UNEXPECTED_MESSAGE, 'only a publisher may send frames');
          this.host.onFrame(this, msg, now);
          return;
        case 'ping':
          this.send({ type: 'pong', body: { id: msg.body.id, t0: msg.body.t0, t1: now, t2: this.host.clock() } });
          return;
        case 'pong':
          this.clockSync.onPong(msg.body, now);
          return;
        case 'stats':
          return;
        case 'ack':
          this.host.onAck(this, msg.body.seq);
          return;
        case 'bye':
          this.channel.end();
          this.finish(`peer said bye: ${msg.body.reason}`);
          return;
        case 'error':
          this.channel.end();
          this.finish(`peer error ${msg.body.code}: ${msg.body.message}`);
          return;
        default:
          throw new FramewireError(ErrorCodes.UNEXPECTED_MESSAGE, `unexpected ${msg.type} after the handshake`);
      }
    } catch (err) {
      this.fail(coded(err));
    }
  }

  /** Attaches a session whose token checked out (unless it closed meanwhile), then handles what arrived in between. */
  private admit(hello: HelloBody): void {
    if (this.state === 'closed') return;
    try {
      const welcome = this.host.attach(this, hello);
      // Set only once attached, so a refused peer is never logged as a publisher or viewer.
      this.hello = hello;
      clearTimeout(this.handshakeTimer);
      this.state = 'open';
      this.send(welcome);
      this.startPings();
    } catch (err) {
      this.fail(coded(err));
      return;
    }
    const early = this.early;
    this.early = [];
    this.earlyFrameBytes = 0;
    for (const { msg, at } of early) {
      if (this.state !== 'open') return;
      this.handle(msg, at);
    }
  }

  private keepEarly(msg: Message, at: number): void {
    if (msg.type === 'frame') this.earlyFrameBytes += msg.frame.data.length;
    if (this.early.length >= MAX_EARLY_MESSAGES || this.earlyFrameBytes > MAX_EARLY_FRAME_BYTES) {
      this.fail(new FramewireError(ErrorCodes.UNEXPECTED_MESSAGE, 'too much sent before the welcome'));
      return;
    }
    this.early.push({ msg, at });
  }

  private startPings(): void {
    const ping = (): void => {
      if (this.state !== 'open') return;
      const now = this.host.clock();
      if (now - this.lastHeardUs > this.host.idleTimeoutMs * 1000) {
        this.fail(new FramewireError(ErrorCodes.TIMEOUT, `nothing heard for ${this.host.idleTimeoutMs} ms`));
        return;
      }
      this.send({ type: 'ping', body: { id: this.clockSync.nextPingId(), t0: now } });
      this.host.onTick(this, now);
    };
    ping();
    this.pingTimer = setInterval(ping, PING_INTERVAL_MS);
    this.pingTimer.unref();
  }

  private finish(reason: string, error?: FramewireError): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.early = [];
    clearTimeout(this.handshakeTimer);
    clearInterval(this.pingTimer);
    this.host.detach(this, reason, error);
  }
}

function coded(err: unknown): FramewireError {
  return err instanceof FramewireError ? err : new FramewireError(ErrorCodes.BAD_MESSAGE, String(err));
}
