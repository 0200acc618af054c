/**
 * TcpChannel on an in-memory duplex pair (no ports): input split anywhere,
 * bad input coded, backpressure, close and destroy once, held bytes.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { ErrorCodes, type FramewireError } from '../../../src/errors.js';
import { encodeControl, encodeFrameHeader, type Message } from '../../../src/protocol/messages.js';
import { StreamParser } from '../../../src/protocol/parser.js';
import { TcpChannel } from '../../../src/transport/tcp.js';
import { frameHeader } from '../../../src/transport/wire.js';
import { duplexPair, type DuplexEnd } from '../../helpers/duplex-pair.js';
import { assertSameMessages, encode, sampleFrame } from '../../helpers/proto-samples.js';
import { until } from '../../helpers/relay.js';

/** A channel on one end of a pair, and what it reported. */
function channelOnPair(highWaterMark?: number): {
  ch: TcpChannel;
  peer: DuplexEnd;
  messages: Message[];
  errors: FramewireError[];
  closes: (Error | undefined)[];
  held: number[];
  /** Resolves once `n` messages arrived (or the channel closed), at most 10 s. */
  messagesIn: (n: number) => Promise<void>;
} {
  const [a, peer] = duplexPair(highWaterMark !== undefined ? { highWaterMark } : {});
  const ch = new TcpChannel(a);
  const messages: Message[] = [];
  let waiting: { n: number; resolve: () => void } | undefined;
  const messagesIn = (n: number): Promise<void> =>
    messages.length >= n || ch.closed
      ? Promise.resolve()
      : new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} messages (got ${messages.length})`)), 10_000);
          waiting = { n, resolve: () => (clearTimeout(timer), resolve()) };
        });
  const out = { ch, peer, messages, errors: [] as FramewireError[], closes: [] as (Error | undefined)[], held: [] as number[], messagesIn };
  ch.on('message', (m) => {
    messages.push(m);
    if (waiting && messages.length >= waiting.n) {
      waiting.resolve();
      waiting = undefined;
    }
  });
  ch.on('protocolError', (e) => out.errors.push(e));
  ch.on('close', (e) => out.closes.push(e));
  ch.on('held', (n) => out.held.push(n));
  return out;
}

const hello: Message = { type: 'hello', body: { role: 'publish', stream: 'cam', client: 'test' } };
const frame: Message = { type: 'frame', frame: sampleFrame(3, 700) };
const bye: Message = { type: 'bye', body: { reason: 'done' } };
const stream = Buffer.concat([encode(hello), encode(frame), encode(bye)]);

/** Everything the peer got from the channel, parsed. */
function parsePeer(peer: DuplexEnd): Message[] {
  return new StreamParser().push(Buffer.concat(peer.received));
}

describe('TcpChannel on an in-memory pair', () => {
  it('is named after its socket: tcp, and the peer address of the Duplex', () => {
    const { ch } = channelOnPair();
    assert.equal(ch.transport, 'tcp');
    assert.equal(ch.remote, '127.0.0.1:50001');
    ch.destroy();
  });

  it('reads the same messages whatever the split: at every byte offset, and one byte at a time', async () => {
    for (let at = 1; at < stream.length; at++) {
      const { messages, peer, ch, messagesIn } = channelOnPair();
      peer.write(stream.subarray(0, at));
      peer.write(stream.subarray(at));
      await messagesIn(3);
      assertSameMessages(messages, [hello, frame, bye], `split at ${at}`);
      ch.destroy();
    }
    const { messages, peer, ch, messagesIn } = channelOnPair();
    for (let i = 0; i < stream.length; i++) peer.write(stream.subarray(i, i + 1));
    await messagesIn(3);
    assertSameMessages(messages, [hello, frame, bye], 'byte by byte');
    ch.destroy();
  });

  it('a bad header is a protocolError with its code; nothing after it is read', async () => {
    const { messages, errors, peer, ch, messagesIn } = channelOnPair();
    const bad = Buffer.from(encode(hello));
    bad[0] = 0x00; // not the magic
    peer.write(encode(bye));
    await messagesIn(1);
    peer.write(Buffer.concat([bad, encode(hello)]));
    await until(() => errors.length > 0, 'the protocol error');
    assert.equal(errors[0]?.code, ErrorCodes.BAD_MAGIC);
    assert.deepEqual(
      messages.map((m) => m.type),
      ['bye'],
      'the message before the bad one, and none after',
    );
    peer.write(encode(hello));
    await new Promise((r) => setImmediate(r));
    assert.equal(errors.length, 1, 'reported once');
    assert.equal(messages.length, 1);
    ch.destroy();
  });

  it('a wrong version is FW_BAD_VERSION', async () => {
    const { errors, peer, ch } = channelOnPair();
    const bad = Buffer.from(encode(hello));
    bad[2] = 9;
    peer.write(bad);
    await until(() => errors.length > 0, 'the protocol error');
    assert.equal(errors[0]?.code, ErrorCodes.BAD_VERSION);
    ch.destroy();
  });

  it('while frames are refused, a frame is FW_UNEXPECTED_MESSAGE from its header alone', async () => {
    const { errors, held, peer, ch } = channelOnPair();
    ch.acceptFrames(false);
    peer.write(encodeFrameHeader(sampleFrame(1, 1_000_000)).subarray(0, 12));
    await until(() => errors.length > 0, 'the protocol error');
    assert.equal(errors[0]?.code, ErrorCodes.UNEXPECTED_MESSAGE);
    assert.deepEqual(held, [], 'nothing of the frame was held');
    ch.destroy();
  });

  it('writes a frame as its shared header and its data, unchanged (no copy)', async () => {
    const { ch, peer } = channelOnPair();
    const msg = { type: 'frame', frame: sampleFrame(9, 5000) } as const;
    ch.send(msg);
    ch.send({ type: 'ping', body: { id: 1, t0: 2 } });
    await until(() => peer.received.length >= 3, 'the bytes at the peer');
    // A Writable turns a Uint8Array chunk into a Buffer view of the same memory: same bytes, not a copy.
    const sameMemory = (a: Uint8Array | undefined, b: Uint8Array): boolean =>
      a !== undefined && a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.length === b.length;
    assert.ok(sameMemory(peer.received[0], frameHeader(msg.frame)), 'the cached header itself');
    assert.equal(peer.received[1], msg.frame.data, 'the frame data itself, not a copy');
    assertSameMessages(parsePeer(peer), [msg, { type: 'ping', body: { id: 1, t0: 2 } }], 'what the peer reads');
    ch.destroy();
  });

  it('backpressure: backedUp while the peer does not read, then drain, and every byte arrives', async () => {
    const { ch, peer } = channelOnPair(4096);
    peer.pause();
    let sent = 0;
    while (!ch.backedUp) {
      ch.send({ type: 'frame', frame: sampleFrame(sent, 2000) });
      sent++;
      assert.ok(sent < 100, 'the channel backs up');
    }
    assert.ok(ch.queuedBytes > 0, 'bytes wait in user space');
    const drained = once(ch, 'drain');
    peer.resume();
    await drained;
    assert.equal(ch.backedUp, false);
    await until(() => Buffer.concat(peer.received).length === sent * (32 + 2000), 'every frame at the peer');
    assert.deepEqual(
      parsePeer(peer).map((m) => (m.type === 'frame' ? m.frame.seq : -1)),
      [...Array(sent).keys()],
    );
    ch.destroy();
  });

  it('destroy drops what is queued; close is emitted once, after a tick; destroy and end again do nothing', async () => {
    const { ch, peer, closes } = channelOnPair(4096);
    peer.pause();
    for (let i = 0; i < 20; i++) ch.send({ type: 'frame', frame: sampleFrame(i, 2000) });
    assert.ok(ch.queuedBytes > 0);
    ch.destroy();
    assert.equal(ch.closed, true, 'closed at once');
    assert.deepEqual(closes, [], 'close comes on a later tick');
    ch.destroy();
    ch.end();
    ch.send({ type: 'ping', body: { id: 1, t0: 1 } });
    await once(ch, 'close');
    peer.resume();
    await once(peer, 'end');
    assert.deepEqual(closes, [undefined], 'one close');
    const got = Buffer.concat(peer.received).length;
    assert.ok(got < 20 * 2032, `the queued frames were dropped (${got} of ${20 * 2032} bytes arrived)`);
  });

  it('end flushes what is queued, then closes once; end and destroy again do nothing', async () => {
    const { ch, peer, closes } = channelOnPair(4096);
    peer.pause();
    for (let i = 0; i < 5; i++) ch.send({ type: 'frame', frame: sampleFrame(i, 2000) });
    ch.end();
    ch.end();
    ch.send({ type: 'ping', body: { id: 1, t0: 1 } });
    peer.resume();
    await once(peer, 'end');
    await until(() => closes.length > 0, 'the close');
    ch.destroy();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(closes, [undefined]);
    assert.deepEqual(
      parsePeer(peer).map((m) => m.type),
      ['frame', 'frame', 'frame', 'frame', 'frame'],
      'all five frames, and nothing sent after end()',
    );
  });

  it('the peer ending its side closes the channel; a socket error closes it with the error', async () => {
    const a = channelOnPair();
    a.peer.end();
    await once(a.ch, 'close');
    assert.deepEqual(a.closes, [undefined]);
    assert.equal(a.ch.closed, true);
    const b = channelOnPair();
    b.ch.socket.destroy(new Error('boom'));
    await once(b.ch, 'close');
    assert.equal(b.closes.length, 1);
    assert.equal(b.closes[0]?.message, 'boom');
  });

  it('held: a message whose header arrived is claimed in full, and let go when whole or when ending', async () => {
    const { ch, peer, held, messages } = channelOnPair();
    const wire = encode({ type: 'frame', frame: sampleFrame(1, 5000) });
    peer.write(wire.subarray(0, 12));
    await until(() => held.length > 0, 'a held report');
    assert.deepEqual(held, [5032]);
    assert.equal(ch.heldBytes, 5032);
    peer.write(wire.subarray(12));
    await until(() => messages.length === 1, 'the frame');
    assert.deepEqual(held, [5032, 0]);
    // Half a message, then end(): let go at once.
    peer.write(wire.subarray(0, 100));
    await until(() => held.length === 3, 'held again');
    assert.equal(held[2], 5032);
    ch.end();
    assert.deepEqual(held, [5032, 0, 5032, 0]);
    assert.equal(ch.heldBytes, 0);
    ch.destroy();
  });

  it('a throwing listener does not break the channel', async () => {
    const { ch, peer, messages } = channelOnPair();
    const warned = once(process, 'warning');
    ch.on('message', () => {
      throw new Error('listener bug');
    });
    peer.write(
      Buffer.concat([encodeControl({ type: 'ping', body: { id: 1, t0: 1 } }), encodeControl({ type: 'ping', body: { id: 2, t0: 1 } })]),
    );
    await until(() => messages.length === 2, 'both messages');
    const [w] = (await warned) as [Error];
    assert.match(w.message, /message listener threw/);
    ch.destroy();
  });
});
