import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { createRelay } from '../../src/relay/relay.js';
import { publish } from '../../src/client/publish.js';
import { subscribe } from '../../src/client/subscribe.js';
import { isFramewireError } from '../../src/errors.js';
import { connectUdp } from '../../src/transport/udp-client.js';
import { until } from '../helpers/relay.js';
import { encodeFrames, replaySource } from '../helpers/udp-frames.js';

const sha = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex');

test('1920x1080 frames well over 64 KB arrive intact through the relay over UDP', async () => {
  const pictures = await encodeFrames(1920, 1080, 6);
  for (const p of pictures) assert.ok(p.length > 64 * 1024, `frame of ${p.length} bytes should exceed 64 KB`);
  const hashes = new Set(pictures.map(sha));
  const relay = createRelay();
  // Repair may take as long as it needs (1 s), on both legs: on a loaded machine a repair can miss the
  // default budget of two frame intervals, and this test is about frames arriving intact, not about speed.
  const udp = { latencyBudgetMs: 1000 };
  const { port } = await relay.listenUdp(0, '127.0.0.1', udp);
  const url = `udp://127.0.0.1:${port}/cam`;
  const sub = subscribe(url, { reconnect: false, udp });
  await sub.ready;
  const pub = await publish(url, replaySource(pictures, 1920, 1080, 30, 60), { reconnect: false, udp });
  await until(() => relay.viewers('cam')?.[0]?.transportStats !== undefined, 'the relay to report per-viewer UDP counters');
  let got = 0;
  let s = sub.stats();
  for await (const f of sub) {
    assert.equal(f.width, 1920);
    assert.ok(hashes.has(sha(f.data)), `frame ${f.seq} arrived corrupted (${f.data.length} bytes)`);
    if (++got >= 40) {
      s = sub.stats();
      break;
    }
  }
  assert.equal(s.framesLost, 0, `viewer ${JSON.stringify(s)}; relay ${JSON.stringify(relay.udpStats()[0]?.totals)}`);
  // One session, no reconnect: the top-level figure is that session's own count, every lost fragment repaired.
  assert.equal(s.fragmentsLost, s.udp?.fragmentsLost);
  assert.ok(s.fragmentsLost <= (s.udp?.repairedByNack ?? 0) + (s.udp?.repairedByFec ?? 0) + (s.udp?.fragmentsReceived ?? 0));
  assert.ok((s.udp?.framesComplete ?? 0) >= 40);
  assert.ok((relay.udpStats()[0]?.totals.framesComplete ?? 0) >= 40, 'relay counts frames it reassembled from the publisher');
  pub.close();
  await relay.close();
});

test('datagrams from unknown sessions get only an 8-byte "unknown session"; an init gets only a cookie no larger than itself', async () => {
  const relay = createRelay();
  const { port } = await relay.listenUdp(0);
  const sock = dgram.createSocket('udp4');
  const replies: Buffer[] = [];
  sock.on('message', (m) => replies.push(m));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const send = (b: Buffer): Promise<void> => new Promise((r) => sock.send(b, port, '127.0.0.1', () => r()));
  const kinds = (): number[] => replies.map((m) => m.readUInt8(3));
  // A full-size init is always answered with a cookie (kind 0x02): sent last, its answer comes after
  // the answers (if any) to everything sent before it, so replies can be checked without sleeping.
  let barriers = 0;
  const barrier = async (): Promise<void> => {
    const init = Buffer.alloc(64);
    init.writeUInt16BE(0x4655, 0);
    init.writeUInt8(1, 2);
    init.writeUInt8(0x01, 3);
    init.writeUInt32BE(++barriers, 8);
    await send(init);
    await until(() => kinds().filter((k) => k === 0x02).length === barriers, 'the cookie for the barrier init');
  };
  // A fragment for a session that does not exist, garbage, a short init.
  const frag = Buffer.alloc(40);
  frag.writeUInt16BE(0x4655, 0);
  frag.writeUInt8(1, 2);
  frag.writeUInt8(0x20, 3);
  frag.writeUInt32BE(1234, 4);
  await send(frag);
  await send(Buffer.from('hello there'));
  const shortInit = Buffer.alloc(16);
  shortInit.writeUInt16BE(0x4655, 0);
  shortInit.writeUInt8(1, 2);
  shortInit.writeUInt8(0x01, 3);
  await send(shortInit);
  await barrier();
  // The fragment of an unknown session gets an 8-byte "unknown session" echoing its id; the rest nothing.
  assert.deepEqual(kinds(), [0x32, 0x02]);
  assert.equal(replies[0]?.length, 8);
  assert.equal(replies[0]?.readUInt32BE(4), 1234);
  assert.ok((replies[1]?.length ?? 0) <= 64, 'no amplification: the cookie is no larger than the init');
  replies.length = 0;
  barriers = 0;
  // An open with a forged cookie makes no session and gets no answer.
  const open = Buffer.alloc(8 + 8 + 20 + 4);
  open.set(shortInit.subarray(0, 8));
  open.writeUInt8(0x03, 3);
  await send(open);
  await barrier();
  assert.deepEqual(kinds(), [0x02], 'nothing but the barrier cookie: no "opened"');
  assert.ok((relay.udpStats()[0]?.ignored ?? 0) >= 4);
  assert.equal(relay.clientCount, 0);
  sock.close();
  await relay.close();
});

test('a silent client expires; a wrong token gets a coded error over UDP', async () => {
  // The relay's own handshake timeout is far away: what ends the silent session is the UDP session timeout.
  const relay = createRelay({ token: 'secret', handshakeTimeoutMs: 60_000 });
  const { port } = await relay.listenUdp(0, '127.0.0.1', { sessionTimeoutMs: 300 });
  // A client that opens a session and then sends nothing (its keepalive would come only after 2 s).
  const silent = await connectUdp({ host: '127.0.0.1', port, keepaliveMs: 60_000 });
  const gone = new Promise<string>((resolve) => relay.once('disconnect', (d) => resolve(d.reason)));
  await until(() => relay.clientCount === 1, 'the session at the relay');
  assert.match(await gone, /timed out|timeout|silent|heard/i);
  await until(() => relay.clientCount === 0 && relay.udpStats()[0]?.sessions === 0, 'the session to expire');
  // The relay forgot it: the client's next datagram is answered "unknown session", which ends the client's channel.
  const ended = new Promise<Error | undefined>((resolve) => silent.once('close', resolve));
  silent.send({ type: 'ping', body: { id: 1, t0: 1 } });
  assert.match(String((await ended)?.message), /^unknown session/);
  const sub = subscribe(`udp://127.0.0.1:${port}/cam?token=nope`, { reconnect: false });
  await assert.rejects(sub.ready, (e) => isFramewireError(e, 'FW_UNAUTHORIZED'));
  sub.close();
  await relay.close();
});
