import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { ErrorCodes, FramewireError } from '../../../src/errors.js';
import type { ControlMessage, HelloBody, Message, WelcomeBody } from '../../../src/protocol/messages.js';
import { ProtocolSession, backoffMs, isFatalCode, type SessionHooks } from '../../../src/protocol/session.js';

const hello: HelloBody = { role: 'publish', stream: 'cam' };
const welcome: WelcomeBody = {
  session: 's1',
  role: 'publish',
  stream: 'cam',
  granted: {},
  serverTimeUs: 1,
  maxFrameBytes: 1 << 20,
  live: true,
};
const frame = (seq: number): Message => ({
  type: 'frame',
  frame: { seq, captureUs: seq, width: 2, height: 2, codec: 'jpeg', key: true, data: new Uint8Array(10) },
});

/** One end with everything it sends and every hook call written down. */
class End {
  sent: ControlMessage[] = [];
  ended = 0;
  log: string[] = [];
  internal: unknown[] = [];
  readonly core: ProtocolSession;
  constructor(
    side: 'client' | 'server',
    hooks: Partial<SessionHooks> = {},
    opts: { idleTimeoutMs?: number; handshakeTimeoutMs?: number } = {},
  ) {
    let t = 1_000_000;
    this.core = new ProtocolSession(
      { send: (m) => this.sent.push(m), end: () => this.ended++ },
      {
        closed: (reason, error) => this.log.push(`closed ${error?.code ?? 'ok'} ${reason}`),
        onInternalError: (err) => this.internal.push(err),
        ...hooks,
      },
      { side, clock: () => (t += 1000), ...opts },
    );
  }
  types(): string[] {
    return this.sent.map((m) => m.type);
  }
}

describe('ProtocolSession (the state machine Node and the browser share)', () => {
  it('a client and a server shake hands, then ping each other and sync clocks', () => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    try {
      const server = new End('server', { hello: () => server.core.admit(welcome) });
      const client = new End('client', { welcome: (b) => client.log.push(`welcome ${b.session}`) });
      client.core.start(hello);
      assert.deepEqual(client.types(), ['hello']);
      server.core.receive(client.sent[0] as Message);
      assert.equal(server.core.state, 'open');
      assert.deepEqual(server.types(), ['welcome', 'ping']);
      for (const m of server.sent) client.core.receive(m);
      assert.equal(client.core.state, 'open');
      assert.deepEqual(client.log, ['welcome s1']);
      // The client answered the server's ping and sent its own.
      assert.deepEqual(client.types(), ['hello', 'ping', 'pong']);
      server.core.receive(client.sent[2] as Message);
      assert.ok(server.core.clockSync.synced, 'the server learned the RTT from the pong');
      mock.timers.tick(1000);
      assert.equal(server.types().filter((t) => t === 'ping').length, 2, 'a ping a second');
    } finally {
      mock.timers.reset();
    }
  });

  it('a server refuses anything but a hello first, with FW_UNEXPECTED_MESSAGE, and ends the transport', () => {
    const server = new End('server');
    server.core.receive({ type: 'ping', body: { id: 1, t0: 1 } });
    assert.deepEqual(server.sent, [{ type: 'error', body: { code: ErrorCodes.UNEXPECTED_MESSAGE, message: 'expected hello, got ping' } }]);
    assert.equal(server.ended, 1);
    assert.match(server.log[0] as string, /^closed FW_UNEXPECTED_MESSAGE/);
    server.core.receive({ type: 'hello', body: hello });
    assert.equal(server.sent.length, 1, 'nothing more once closed');
  });

  it('messages that arrive while a hello is admitted are held, then handled in order', () => {
    let admitLater = (): void => undefined;
    const frames: number[] = [];
    const server = new End('server', { hello: () => (admitLater = () => server.core.admit(welcome)), frame: (f) => frames.push(f.seq) });
    server.core.receive({ type: 'hello', body: hello });
    assert.equal(server.core.state, 'admitting');
    server.core.receive(frame(1));
    server.core.receive(frame(2));
    assert.deepEqual(frames, []);
    admitLater();
    assert.deepEqual(frames, [1, 2]);
  });

  it('too much sent before the welcome closes the peer', () => {
    const server = new End('server', { hello: () => undefined });
    server.core.receive({ type: 'hello', body: hello });
    for (let i = 0; i < 9; i++) server.core.receive(frame(i));
    assert.equal(server.core.state, 'closed');
    assert.equal((server.sent[0] as ControlMessage & { type: 'error' }).body.code, ErrorCodes.UNEXPECTED_MESSAGE);
  });

  it('a frame where none is expected is FW_UNEXPECTED_MESSAGE; a hook refusing with a coded error sends that code', () => {
    const client = new End('client');
    client.core.receive({ type: 'welcome', body: welcome });
    client.core.receive(frame(1));
    assert.equal(
      (client.sent.find((m) => m.type === 'error') as ControlMessage & { type: 'error' }).body.code,
      ErrorCodes.UNEXPECTED_MESSAGE,
    );

    const server = new End('server', {
      hello: () => {
        throw new FramewireError(ErrorCodes.STREAM_BUSY, 'taken');
      },
    });
    server.core.receive({ type: 'hello', body: hello });
    assert.deepEqual(server.sent, [{ type: 'error', body: { code: ErrorCodes.STREAM_BUSY, message: 'taken' } }]);
  });

  it('a hook that throws a plain Error is our bug: FW_INTERNAL to the peer, the error reported, never blamed on the peer', () => {
    const server = new End('server', {
      hello: () => server.core.admit(welcome),
      frame: () => {
        throw new TypeError('oops');
      },
    });
    server.core.receive({ type: 'hello', body: hello });
    server.core.receive(frame(1));
    const err = server.sent.find((m) => m.type === 'error') as ControlMessage & { type: 'error' };
    assert.equal(err.body.code, ErrorCodes.INTERNAL);
    assert.equal(server.internal.length, 1);
    assert.ok(server.internal[0] instanceof TypeError);
  });

  it("the peer's error keeps the peer's code; bye closes without an error", () => {
    const client = new End('client');
    client.core.receive({ type: 'error', body: { code: ErrorCodes.UNAUTHORIZED, message: 'no' } });
    assert.match(client.log[0] as string, /^closed FW_UNAUTHORIZED/);
    assert.equal(client.ended, 1);
    assert.deepEqual(client.types(), [], 'an error is not answered');

    const c2 = new End('client');
    c2.core.receive({ type: 'welcome', body: welcome });
    c2.core.receive({ type: 'bye', body: { reason: 'maintenance' } });
    assert.deepEqual(c2.log, ['closed ok relay said bye: maintenance']);
  });

  it('handshake and idle timeouts close with their codes', () => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    try {
      const server = new End('server', {}, { handshakeTimeoutMs: 500 });
      mock.timers.tick(499);
      assert.equal(server.core.state, 'handshake');
      mock.timers.tick(1);
      assert.equal((server.sent[0] as ControlMessage & { type: 'error' }).body.code, ErrorCodes.HANDSHAKE_TIMEOUT);

      const client = new End('client', {}, { handshakeTimeoutMs: 500 });
      mock.timers.tick(500);
      assert.match(client.log[0] as string, /^closed FW_TIMEOUT/);

      // The clock advances 1 ms per read: after a few ticks nothing has been heard for longer than 2 ms.
      const idle = new End('client', {}, { idleTimeoutMs: 2 });
      idle.core.receive({ type: 'welcome', body: welcome });
      for (let i = 0; i < 5 && idle.core.state === 'open'; i++) mock.timers.tick(1000);
      assert.match(idle.log[0] as string, /^closed FW_TIMEOUT nothing heard/);
    } finally {
      mock.timers.reset();
    }
  });

  it('close is idempotent: fail, bye and a closing transport end the session once', () => {
    const s = new End('client');
    s.core.fail(new FramewireError(ErrorCodes.TIMEOUT, 'x'));
    s.core.bye('again');
    s.core.transportClosed('gone');
    assert.equal(s.log.length, 1);
    assert.equal(s.sent.length, 1);
  });

  it('the fatal codes and the backoff are the same for every client', () => {
    assert.ok(isFatalCode(ErrorCodes.UNAUTHORIZED, 'view'));
    assert.ok(isFatalCode(ErrorCodes.BAD_VERSION, 'publish'));
    assert.ok(isFatalCode(ErrorCodes.STREAM_BUSY, 'publish'));
    assert.ok(!isFatalCode(ErrorCodes.STREAM_BUSY, 'view'));
    assert.ok(!isFatalCode(ErrorCodes.TOO_MANY_CLIENTS, 'view'));
    assert.ok(!isFatalCode(ErrorCodes.OVERLOADED, 'publish'));
    assert.equal(
      backoffMs(0, () => 0.5),
      250,
    );
    assert.equal(
      backoffMs(1, () => 0.5),
      500,
    );
    assert.equal(
      backoffMs(50, () => 0.5),
      5000,
    );
    assert.equal(
      backoffMs(50, () => 0),
      3750,
    );
    assert.equal(
      backoffMs(50, () => 1),
      6250,
    );
  });
});
