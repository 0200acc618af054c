import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, FramewireError } from '../../../src/errors.js';
import { nowUs } from '../../../src/frame/clock.js';
import type { ControlMessage, HelloBody, Message } from '../../../src/protocol/messages.js';
import { ServerSession, type SessionHost } from '../../../src/relay/session.js';
import { FakeChannel } from '../../helpers/fake-channel.js';
import { fakeFrame } from '../../helpers/relay.js';

/** A host whose token check the test settles by hand; it logs what the session asked of it, in order. */
class FakeHost implements SessionHost {
  readonly clock = nowUs;
  readonly handshakeTimeoutMs = 60_000;
  readonly idleTimeoutMs = 60_000;
  readonly log: string[] = [];
  settle: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  authenticate(): Promise<unknown> {
    return new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
  }
  attach(session: ServerSession, hello: HelloBody): ControlMessage {
    this.log.push(`attach ${hello.role}`);
    return {
      type: 'welcome',
      body: {
        session: session.id,
        role: hello.role,
        stream: hello.stream,
        granted: {},
        serverTimeUs: nowUs(),
        maxFrameBytes: 1 << 20,
        live: true,
      },
    };
  }
  onFrame(_s: ServerSession, msg: Extract<Message, { type: 'frame' }>): void {
    this.log.push(`frame ${msg.frame.seq}`);
  }
  onAck(): void {
    this.log.push('ack');
  }
  detach(_s: ServerSession, reason: string, error?: FramewireError): void {
    this.log.push(`detach ${error?.code ?? reason}`);
  }
  onHeld(): void {}
  onTick(): void {}
}

const hello: Message = { type: 'hello', body: { role: 'publish', stream: 'cam', token: 'a.b.c' } };
const frame = (seq: number): Message => {
  const f = fakeFrame(seq, 100);
  return { type: 'frame', frame: f } as Message;
};
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('ServerSession with an asynchronous token check', () => {
  it('holds what arrives during the check and handles it, in order, after the welcome', async () => {
    const ch = new FakeChannel();
    const host = new FakeHost();
    new ServerSession(ch, host);
    ch.deliver(hello);
    ch.deliver(frame(1));
    ch.deliver({ type: 'ping', body: { id: 1, t0: 5 } });
    ch.deliver(frame(2));
    await tick();
    assert.deepEqual(host.log, [], 'nothing is attached or handled before the check ends');
    assert.deepEqual(ch.types(), []);
    host.settle?.resolve();
    await tick();
    assert.deepEqual(host.log, ['attach publish', 'frame 1', 'frame 2']);
    assert.deepEqual(ch.types().slice(0, 2), ['welcome', 'ping'], 'welcome first, then the relay starts pinging');
    assert.ok(ch.types().includes('pong'), 'the early ping is answered after the welcome');
    ch.destroy();
    await tick();
    assert.equal(host.log.at(-1), 'detach connection closed');
  });

  it('a second hello held during the check is FW_UNEXPECTED_MESSAGE once attached', async () => {
    const ch = new FakeChannel();
    const host = new FakeHost();
    new ServerSession(ch, host);
    ch.deliver(hello);
    ch.deliver(hello);
    host.settle?.resolve();
    await tick();
    assert.deepEqual(host.log, ['attach publish', 'detach FW_UNEXPECTED_MESSAGE']);
    const err = ch.sent.find((m) => m.type === 'error');
    assert.ok(err?.type === 'error' && err.body.code === ErrorCodes.UNEXPECTED_MESSAGE);
  });

  it('never attaches a session that closed during the check', async () => {
    const ch = new FakeChannel();
    const host = new FakeHost();
    new ServerSession(ch, host);
    ch.deliver(hello);
    ch.deliver(frame(1));
    ch.destroy();
    await tick(); // the close is reported, as a socket's is, on a later tick
    host.settle?.resolve();
    await tick();
    assert.deepEqual(host.log, ['detach connection closed']);
    assert.deepEqual(ch.types(), []);
  });

  it('a channel destroyed while its token is checked is never attached, even before its close event', async () => {
    const ch = new FakeChannel();
    const host = new FakeHost();
    new ServerSession(ch, host);
    ch.deliver(hello);
    ch.destroy(); // closed now; its 'close' comes a tick later
    host.settle?.resolve();
    await tick();
    await tick();
    assert.ok(!host.log.some((l) => l.startsWith('attach')), `attached a closed channel: ${host.log.join(', ')}`);
    assert.deepEqual(host.log, ['detach connection closed']);
    assert.deepEqual(ch.sent, [], 'no welcome to a closed channel');
  });

  it('a refused token is an error with its code and reason; nothing held is handled', async () => {
    const ch = new FakeChannel();
    const host = new FakeHost();
    new ServerSession(ch, host);
    ch.deliver(hello);
    ch.deliver(frame(1));
    host.settle?.reject(new FramewireError(ErrorCodes.UNAUTHORIZED, 'token expired'));
    await tick();
    assert.deepEqual(host.log, ['detach FW_UNAUTHORIZED']);
    assert.deepEqual(ch.sent, [{ type: 'error', body: { code: 'FW_UNAUTHORIZED', message: 'token expired' } }]);
    assert.ok(ch.ended);
  });

  it('a check that fails with something else is still a coded error, never an escaped exception', async () => {
    const ch = new FakeChannel();
    const host = new FakeHost();
    new ServerSession(ch, host);
    ch.deliver(hello);
    host.settle?.reject(new TypeError('boom'));
    await tick();
    const err = ch.sent[0];
    assert.ok(err?.type === 'error' && err.body.code === ErrorCodes.INTERNAL);
    assert.ok(ch.ended);
  });

  it('a peer that sends too much during the check is closed with FW_UNEXPECTED_MESSAGE', async () => {
    const ch = new FakeChannel();
    const host = new FakeHost();
    new ServerSession(ch, host);
    ch.deliver(hello);
    for (let i = 1; i <= 9; i++) ch.deliver(frame(i));
    assert.ok(ch.ended);
    assert.deepEqual(host.log, ['detach FW_UNEXPECTED_MESSAGE']);
    host.settle?.resolve();
    await tick();
    assert.deepEqual(host.log, ['detach FW_UNEXPECTED_MESSAGE'], 'not attached after all');
  });
});
