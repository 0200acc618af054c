import { ErrorCodes, FramewireError, type ErrorCode } from '../errors.js';
import type { EncodedFrame } from '../frame/frame.js';
import { ClockSync } from './clock-sync.js';
import type { ControlMessage, HelloBody, Message, Role, StatsBody, WelcomeBody } from './messages.js';

/**
 * The protocol session both ends run, with no I/O in it: the Node relay, the
 * Node client and the browser pages each wrap it in a thin adapter that
 * feeds it messages and gives it a way to send.
 *
 * ```
 *           client                                   server
 *  handshake ── hello ──────────────────────────────► handshake
 *                                                     admitting (token check; early messages held, bounded)
 *  open ◄───────────────────────────────── welcome ── open
 *       ◄── ping / pong, both ways, every second ──►       (clock offset, RTT, idle timeout)
 *       ◄── frames, acks, stats ───────────────────►
 *  closed ◄── bye or error (then the transport ends) ──► closed
 * ```
 *
 * A peer that breaks the protocol gets an `error` with a stable code, then
 * the connection ends. A hook that throws a {@link FramewireError} does the
 * same; a hook that throws anything else is our own bug: the peer gets
 * FW_INTERNAL (never blamed for it) and the stack goes to `onInternalError`.
 */

/** How a session reaches its transport. */
export interface SessionLink {
  /** Sends one control message. */
  send(msg: ControlMessage): void;
  /** Flushes what is queued, then closes the transport. */
  end(): void;
}

/** What a session tells its owner. Every hook is optional except `closed`. */
export interface SessionHooks {
  /** Server: a hello arrived. Call {@link ProtocolSession.admit} (now or later) or throw / {@link ProtocolSession.fail} to refuse. */
  hello?(body: HelloBody, arrivalUs: number): void;
  /** Client: the server's welcome arrived; the session is open. */
  welcome?(body: WelcomeBody, arrivalUs: number): void;
  /** A frame arrived (absent: a frame is FW_UNEXPECTED_MESSAGE). */
  frame?(frame: EncodedFrame, arrivalUs: number): void;
  /** The peer acked a frame (absent: acks are ignored). */
  ack?(seq: number): void;
  /** The peer's stats arrived (absent: ignored). */
  stats?(body: StatsBody): void;
  /** Once per ping interval while open, after the ping went out. */
  tick?(nowUs: number): void;
  /**
   * The session ended, once. `error` is set when it ended on an error: the
   * peer's (code as the peer sent it), ours, or the transport's.
   */
  closed(reason: string, error: FramewireError | undefined): void;
  /** A hook threw something that is not a FramewireError: a bug of ours (it is also logged with its stack, see FramewireError.internal). */
  onInternalError?(err: unknown): void;
}

/** Options of a {@link ProtocolSession}. */
export interface SessionOptions {
  /** Which end this is: the client sends the hello, the server answers it. */
  side: 'client' | 'server';
  /** Clock in µs (the same one frames are stamped with). */
  clock: () => number;
  /** Ping period once open, ms. Default 1000. */
  pingIntervalMs?: number;
  /** Close with FW_TIMEOUT when nothing was heard for this long while open, ms. Default: never. */
  idleTimeoutMs?: number;
  /** Close when the handshake is not done in this long, ms. Default: never. */
  handshakeTimeoutMs?: number;
  /** Server: most messages held while a hello is being admitted. Default 8. */
  maxEarlyMessages?: number;
  /** Server: most frame bytes held while a hello is being admitted. Default 4 MiB. */
  maxEarlyFrameBytes?: number;
}

/** Where a session is. */
export type SessionState = 'handshake' | 'admitting' | 'open' | 'closed';

/** Default ping period, ms. */
export const PING_INTERVAL_MS = 1000;

type Timer = ReturnType<typeof setTimeout>;

/** Timers of this core must never keep a Node process alive on their own. */
function unref(t: Timer): Timer {
  (t as { unref?: () => void }).unref?.();
  return t;
}

/** The protocol state machine of one connection, on either end. */
export class ProtocolSession {
  /** RTT and the peer's clock offset, from ping/pong. */
  readonly clockSync = new ClockSync();
  private st: SessionState = 'handshake';
  private early: { msg: Message; at: number }[] = [];
  private earlyFrameBytes = 0;
  private handshakeTimer: Timer | undefined;
  private pingTimer: Timer | undefined;
  private lastHeardUs: number;
  private readonly o: Required<Omit<SessionOptions, 'idleTimeoutMs' | 'handshakeTimeoutMs'>> &
    Pick<SessionOptions, 'idleTimeoutMs' | 'handshakeTimeoutMs'>;

  constructor(
    private readonly link: SessionLink,
    private readonly hooks: SessionHooks,
    options: SessionOptions,
  ) {
    this.o = { pingIntervalMs: PING_INTERVAL_MS, maxEarlyMessages: 8, maxEarlyFrameBytes: 4 << 20, ...options };
    this.lastHeardUs = options.clock();
    const hs = options.handshakeTimeoutMs;
    if (hs !== undefined) {
      this.handshakeTimer = unref(
        setTimeout(() => {
          const code = options.side === 'server' ? ErrorCodes.HANDSHAKE_TIMEOUT : ErrorCodes.TIMEOUT;
          const what = options.side === 'server' ? 'hello' : 'welcome';
          this.fail(new FramewireError(code, `no ${what} within ${hs} ms`));
        }, hs),
      );
    }
  }

  /** Where the session is. */
  get state(): SessionState {
    return this.st;
  }

  /** True between welcome and close. */
  get isOpen(): boolean {
    return this.st === 'open';
  }

  /** Client: sends the hello. */
  start(hello: HelloBody): void {
    if (this.o.side !== 'client' || this.st !== 'handshake') return;
    this.link.send({ type: 'hello', body: hello });
  }

  /** Server: accepts the hello with this welcome, opens, and handles what arrived meanwhile. */
  admit(welcome: WelcomeBody): void {
    if (this.st === 'closed') return;
    this.open();
    this.link.send({ type: 'welcome', body: welcome });
    this.startPings();
    const early = this.early;
    this.early = [];
    this.earlyFrameBytes = 0;
    for (const { msg, at } of early) {
      if (this.st !== 'open') return;
      this.handle(msg, at);
    }
  }

  /** Feeds one message from the peer. Never throws. */
  receive(msg: Message, arrivalUs = this.o.clock()): void {
    if (this.st === 'closed') return;
    this.lastHeardUs = arrivalUs;
    if (this.st === 'admitting') {
      this.keepEarly(msg, arrivalUs);
      return;
    }
    this.handle(msg, arrivalUs);
  }

  /** Sends a control message (dropped once closed). */
  send(msg: ControlMessage): void {
    if (this.st !== 'closed') this.link.send(msg);
  }

  /** Sends an error with its code, ends the transport and closes. Idempotent. */
  fail(err: FramewireError): void {
    if (this.st === 'closed') return;
    this.link.send({ type: 'error', body: { code: err.code, message: err.message } });
    this.link.end();
    this.finish(err.message, err);
  }

  /** Says bye with a reason, ends the transport and closes. Idempotent. */
  bye(reason: string): void {
    if (this.st === 'closed') return;
    this.link.send({ type: 'bye', body: { reason } });
    this.link.end();
    this.finish(reason, undefined);
  }

  /** The transport closed under the session (no message can be sent any more). */
  transportClosed(reason: string, error?: FramewireError): void {
    this.finish(reason, error);
  }

  /** How logs name the other end. */
  private get peer(): string {
    return this.o.side === 'server' ? 'peer' : 'relay';
  }

  private handle(msg: Message, now: number): void {
    try {
      if (this.st === 'handshake') return this.handshake(msg, now);
      switch (msg.type) {
        case 'frame':
          if (!this.hooks.frame) throw FramewireError.unexpected('frames are not expected on this connection');
          return this.hooks.frame(msg.frame, now);
        case 'ping':
          return this.link.send({ type: 'pong', body: { id: msg.body.id, t0: msg.body.t0, t1: now, t2: this.o.clock() } });
        case 'pong':
          this.clockSync.onPong(msg.body, now);
          return;
        case 'ack':
          return this.hooks.ack?.(msg.body.seq);
        case 'stats':
          return this.hooks.stats?.(msg.body);
        case 'bye':
          this.link.end();
          return this.finish(`${this.peer} said bye: ${msg.body.reason}`, undefined);
        case 'error':
          this.link.end();
          return this.finish(
            `${this.peer} error ${msg.body.code}: ${msg.body.message}`,
            new FramewireError(msg.body.code, msg.body.message),
          );
        default:
          throw FramewireError.unexpected(`unexpected ${msg.type} after the handshake`);
      }
    } catch (err) {
      this.fail(this.blame(err));
    }
  }

  private handshake(msg: Message, now: number): void {
    if (this.o.side === 'server') {
      if (msg.type !== 'hello') throw FramewireError.unexpected(`expected hello, got ${msg.type}`);
      this.st = 'admitting';
      this.hooks.hello?.(msg.body, now);
      return;
    }
    switch (msg.type) {
      case 'welcome':
        this.open();
        this.startPings();
        this.hooks.welcome?.(msg.body, now);
        return;
      case 'error':
        this.link.end();
        return this.finish(`refused: ${msg.body.code}: ${msg.body.message}`, new FramewireError(msg.body.code, msg.body.message));
      case 'bye':
        this.link.end();
        return this.finish(
          `peer said bye during the handshake: ${msg.body.reason}`,
          new FramewireError(ErrorCodes.CONNECTION_CLOSED, `relay said bye during the handshake: ${msg.body.reason}`),
        );
      case 'ping':
        // Harmless before the welcome: answer it.
        this.link.send({ type: 'pong', body: { id: msg.body.id, t0: msg.body.t0, t1: now, t2: this.o.clock() } });
        return;
      default:
        throw FramewireError.unexpected(`expected welcome, got ${msg.type}`);
    }
  }

  private open(): void {
    this.st = 'open';
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
  }

  private keepEarly(msg: Message, at: number): void {
    if (msg.type === 'frame') this.earlyFrameBytes += msg.frame.data.length;
    if (this.early.length >= this.o.maxEarlyMessages || this.earlyFrameBytes > this.o.maxEarlyFrameBytes) {
      this.fail(FramewireError.unexpected('too much sent before the welcome'));
      return;
    }
    this.early.push({ msg, at });
  }

  private startPings(): void {
    const ping = (): void => {
      if (this.st !== 'open') return;
      const now = this.o.clock();
      const idle = this.o.idleTimeoutMs;
      if (idle !== undefined && now - this.lastHeardUs > idle * 1000) {
        this.fail(FramewireError.timeout(`nothing heard for ${idle} ms`));
        return;
      }
      this.link.send({ type: 'ping', body: { id: this.clockSync.nextPingId(), t0: now } });
      try {
        this.hooks.tick?.(now);
      } catch (err) {
        this.fail(this.blame(err));
      }
    };
    ping();
    this.pingTimer = unref(setInterval(ping, this.o.pingIntervalMs));
  }

  /** A coded error is the peer's (or a decision); anything else is our bug, logged with its stack and sent as FW_INTERNAL. */
  private blame(err: unknown): FramewireError {
    if (err instanceof FramewireError) return err;
    this.report(err);
    return FramewireError.internal(err, `the ${this.o.side} session`);
  }

  private report(err: unknown): void {
    try {
      this.hooks.onInternalError?.(err);
    } catch {
      /* reporting must not break the session */
    }
  }

  private finish(reason: string, error: FramewireError | undefined): void {
    if (this.st === 'closed') return;
    this.st = 'closed';
    this.early = [];
    clearTimeout(this.handshakeTimer);
    clearInterval(this.pingTimer);
    try {
      this.hooks.closed(reason, error);
    } catch (err) {
      this.report(err);
      FramewireError.internal(err, `the ${this.o.side} session's closed hook`);
    }
  }
}

/**
 * Error codes after which a reconnecting client stops: retrying cannot
 * help (a wrong token, a protocol mismatch, a bad URL or certificate; a
 * publisher also stops on a taken stream or frames the relay refuses).
 */
export function isFatalCode(code: string, role: Role): boolean {
  if (FATAL_ANY.has(code)) return true;
  return role === 'publish' && FATAL_PUBLISH.has(code);
}

const FATAL_ANY: ReadonlySet<string> = new Set<ErrorCode>([
  ErrorCodes.UNAUTHORIZED,
  ErrorCodes.TLS,
  ErrorCodes.BAD_URL,
  ErrorCodes.BAD_VERSION,
  ErrorCodes.BAD_MESSAGE,
  ErrorCodes.ABORTED,
]);
const FATAL_PUBLISH: ReadonlySet<string> = new Set<ErrorCode>([ErrorCodes.STREAM_BUSY, ErrorCodes.BAD_FRAME]);

/** Reconnect delay for the `attempt`-th retry (0-based): 250 ms doubling to 5 s, jittered ±25 %. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(5000, 250 * 2 ** Math.min(Math.max(0, attempt), 5));
  return Math.round(base * (0.75 + random() * 0.5));
}
