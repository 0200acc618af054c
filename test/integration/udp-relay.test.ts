import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { createRelay } from '../../src/relay/relay.js';
import { publish } from '../../src/client/publish.js';
import { subscribe } from '../../src/client/subscribe.js';
import { isFramewireError } from '../../src/errors.js';
import { encodeFrames, replaySource } from '../helpers/udp-frames.js';

const sha = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex');

test('1920x1080 frames well over 64 KB arrive intact through the relay over UDP', async () => {
  const pictures = await encodeFrames(1920, 1080, 6);
  for (const p of pictures) assert.ok(p.length > 64 * 1024, `frame of ${p.length} bytes should exceed 64 KB`);
  const hashes = new Set(pictures.map(sha));
  const relay = createRelay();
  const { port } = await relay.listenUdp(0);
  const url = `udp://127.0.0.1:${port}/cam`;
  const sub = subscribe(url, { reconnect: false });
  await sub.ready;
  const pub = await publish(url, replaySource(pictures, 1920, 1080, 30, 60), { reconnect: false });
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(relay.viewers('cam')?.[0]?.transportStats, 'relay reports per-viewer UDP counters');
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
  assert.equal(s.framesLost, 0);
  assert.equal(typeof s.fragmentsLost, 'number');
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
  await new Promise((r) => setTimeout(r, 100));
  // The fragment of an unknown session gets an 8-byte "unknown session" echoing its id; the rest nothing.
  assert.equal(replies.length, 1);
  assert.equal(replies[0]?.length, 8);
  assert.equal(replies[0]?.readUInt8(3), 0x32);
  assert.equal(replies[0]?.readUInt32BE(4), 1234);
  replies.length = 0;
  const init = Buffer.alloc(64);
  init.set(shortInit.subarray(0, 8));
  await send(init);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(replies.length, 1);
  assert.ok((replies[0]?.length ?? 0) <= init.length, 'no amplification');
  // An open with a forged cookie makes no session.
  const open = Buffer.alloc(8 + 8 + 20 + 4);
  open.set(init.subarray(0, 8));
  open.writeUInt8(0x03, 3);
  await send(open);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(replies.length, 1);
  assert.ok((relay.udpStats()[0]?.ignored ?? 0) >= 4);
  assert.equal(relay.clientCount, 0);
  sock.close();
  await relay.close();
});

test('a silent client expires; a wrong token gets a coded error over UDP', async () => {
  const relay = createRelay({ token: 'secret' });
  const { port } = await relay.listenUdp(0, '127.0.0.1', { sessionTimeoutMs: 300 });
  const sub = subscribe(`udp://127.0.0.1:${port}/cam?token=nope`, { reconnect: false });
  await assert.rejects(sub.ready, (e) => isFramewireError(e, 'FW_UNAUTHORIZED'));
  sub.close();
  await relay.close();
});
