/**
 * A relay's sessions over TcpChannels on in-memory duplex pairs (no ports):
 * the handshake, a frame from a publisher to a viewer, and a peer that
 * breaks the protocol closed alone with a coded error.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { ErrorCodes } from '../../../src/errors.js';
import type { HelloBody, Message } from '../../../src/protocol/messages.js';
import { createRelay, type Relay } from '../../../src/relay/relay.js';
import { TcpChannel } from '../../../src/transport/tcp.js';
import { duplexPair } from '../../helpers/duplex-pair.js';
import { fakeFrame, fakeFrameSeq, until } from '../../helpers/relay.js';

/** A client's channel whose other end the relay accepted; it answers pings and keeps what it got. */
function connect(relay: Relay): { ch: TcpChannel; got: Message[] } {
  const [server, client] = duplexPair();
  relay.accept(new TcpChannel(server));
  const ch = new TcpChannel(client);
  const got: Message[] = [];
  ch.on('message', (m) => {
    got.push(m);
    if (m.type === 'ping') ch.send({ type: 'pong', body: { id: m.body.id, t0: m.body.t0, t1: 1, t2: 1 } });
  });
  return { ch, got };
}

async function handshake(relay: Relay, hello: HelloBody): Promise<{ ch: TcpChannel; got: Message[] }> {
  const c = connect(relay);
  c.ch.send({ type: 'hello', body: hello });
  await until(() => c.got.some((m) => m.type === 'welcome' || m.type === 'error'), 'the answer to hello');
  return c;
}

describe('relay sessions over in-memory pairs', () => {
  it("a publisher's frames reach a viewer, byte for byte", async () => {
    const relay = createRelay();
    const viewer = await handshake(relay, { role: 'view', stream: 'mem', client: 'test' });
    assert.equal(viewer.got[0]?.type, 'welcome');
    const pub = await handshake(relay, { role: 'publish', stream: 'mem', client: 'test' });
    assert.equal(pub.got[0]?.type, 'welcome');
    const sent = [1, 2, 3].map((i) => fakeFrame(i, 3000));
    for (const f of sent) pub.ch.send({ type: 'frame', frame: f });
    const frames = (): Extract<Message, { type: 'frame' }>[] =>
      viewer.got.filter((m): m is Extract<Message, { type: 'frame' }> => m.type === 'frame');
    await until(() => frames().length === 3, 'three frames at the viewer');
    assert.deepEqual(
      frames().map((m) => fakeFrameSeq(m.frame.data)),
      [1, 2, 3],
    );
    for (const [i, m] of frames().entries())
      assert.ok(Buffer.from(m.frame.data).equals((sent[i] as { data: Uint8Array }).data), `frame ${i} payload`);
    await relay.close();
  });

  it('a viewer that sends a frame gets FW_UNEXPECTED_MESSAGE and is closed; the publisher is not', async () => {
    const relay = createRelay();
    const pub = await handshake(relay, { role: 'publish', stream: 'mem' });
    const viewer = await handshake(relay, { role: 'view', stream: 'mem' });
    const closed = once(viewer.ch, 'close');
    viewer.ch.send({ type: 'frame', frame: fakeFrame(1, 100) });
    await closed;
    const err = viewer.got.find((m) => m.type === 'error');
    assert.ok(err?.type === 'error');
    assert.equal(err.body.code, ErrorCodes.UNEXPECTED_MESSAGE);
    assert.equal(pub.ch.closed, false);
    pub.ch.send({ type: 'frame', frame: fakeFrame(2, 100) });
    await until(() => relay.streams().some((s) => s.name === 'mem' && s.framesIn === 1), "the publisher's frame in");
    await relay.close();
  });

  it('bytes that are not the protocol get FW_BAD_MAGIC, and only that peer is closed', async () => {
    const relay = createRelay();
    const good = await handshake(relay, { role: 'view', stream: 'x' });
    const [server, client] = duplexPair();
    relay.accept(new TcpChannel(server));
    const bad = new TcpChannel(client);
    const got: Message[] = [];
    bad.on('message', (m) => got.push(m));
    client.write('GET / HTTP/1.1\r\n\r\n');
    await once(bad, 'close');
    const err = got.find((m) => m.type === 'error');
    assert.ok(err?.type === 'error');
    assert.equal(err.body.code, ErrorCodes.BAD_MAGIC);
    assert.equal(good.ch.closed, false);
    await relay.close();
  });
});
