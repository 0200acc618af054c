import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EncodedFrame } from '../frame/frame.js';
import { nowUs, type Clock } from '../frame/clock.js';
import type { ErrorBody, HelloBody, Message, Role, StatsBody, VideoParams, WelcomeBody } from '../protocol/messages.js';
import { MessageChannel } from './channel.js';
import { requestRemote, sendHttpError } from './http-util.js';

/** What an {@link HttpChannel} says in the hello it makes for its HTTP client. */
export interface HttpHello {
  role: Role;
  stream: string;
  token?: string | undefined;
  params?: VideoParams | undefined;
}

/**
 * A relay session's peer over one HTTP exchange (MJPEG out, MJPEG in),
 * where the HTTP client speaks no framewire protocol: the channel speaks it
 * for the client. It says `hello` as soon as the relay has attached its
 * session, answers the relay's pings, turns a refusal (`error`) into an
 * HTTP error with its code and closes on `bye`. Each subclass says what a
 * welcome, a frame and stats mean for its HTTP exchange.
 *
 * Messages for the session are handed over on a later turn, never
 * re-entrantly from inside {@link send}.
 */
export abstract class HttpChannel extends MessageChannel {
  readonly remote: string;
  /** Clock (µs) for pongs and capture times. */
  protected readonly clock: Clock;

  constructor(
    protected readonly req: IncomingMessage,
    protected readonly res: ServerResponse,
    hello: HttpHello,
    clock: Clock = nowUs,
  ) {
    super();
    this.remote = requestRemote(req);
    this.clock = clock;
    const body: HelloBody = { role: hello.role, stream: hello.stream, client: String(req.headers['user-agent'] ?? 'http').slice(0, 128) };
    if (hello.token !== undefined) body.token = hello.token;
    if (hello.params !== undefined) body.params = hello.params;
    // After the relay has attached its session to this channel.
    setImmediate(() => this.deliver({ type: 'hello', body }));
  }

  protected write(msg: Message): void {
    switch (msg.type) {
      case 'frame':
        this.onFrame(msg.frame);
        return;
      case 'welcome':
        this.onWelcome(msg.body);
        return;
      case 'stats':
        this.onStats(msg.body);
        return;
      case 'ping':
        if (this.answersPing())
          this.deliver({ type: 'pong', body: { id: msg.body.id, t0: msg.body.t0, t1: this.clock(), t2: this.clock() } });
        return;
      case 'error':
        this.onRefused(msg.body);
        return;
      case 'bye':
        this.end();
        return;
      default:
        return;
    }
  }

  /** The relay welcomed the session. */
  protected abstract onWelcome(body: WelcomeBody): void;

  /** A frame for the HTTP client. Default: ignored (an upload gets none). */
  protected onFrame(_frame: EncodedFrame): void {
    /* nothing to send */
  }

  /** Stats from the relay. Default: ignored. */
  protected onStats(_body: StatsBody): void {
    /* nothing to show */
  }

  /** Whether to answer a ping now. Default: always (the HTTP client cannot). */
  protected answersPing(): boolean {
    return true;
  }

  /** The relay refused or failed the session: an HTTP error with its code. */
  protected onRefused(body: ErrorBody): void {
    sendHttpError(this.res, body.code, body.message);
  }

  /** Hands a message to the relay session on the next turn, if still open. */
  protected deliver(msg: Message): void {
    queueMicrotask(() => {
      if (!this.closed) this.safeEmit('message', msg);
    });
  }
}
