/**
 * UDP field fuzz through real sockets: every datagram kind, every field at
 * its boundary values, every truncation, mutations and random bytes, sent
 * to a real relay's UDP port without a handshake and inside a live session
 * (re-opened whenever the relay ends it) — and, the other way, from a fake
 * relay to the library's own UDP client. Nothing may crash or be caught as
 * an internal error; the relay keeps serving its healthy clients.
 * FW_FUZZ_SEED=<seed> replays a run.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { publish } from '../../src/client/publish.js';
import { subscribe, type Subscription } from '../../src/client/subscribe.js';
import { encodeControl } from '../../src/protocol/messages.js';
import { Kind, makeDatagram, readDatagram } from '../../src/protocol/udp/datagram.js';
import { encodeCookie, encodeOpened, encodeUnknownSession, readInit, readOpen } from '../../src/protocol/udp/handshake.js';
import { createRelay } from '../../src/relay/relay.js';
import { testPattern } from '../../src/sources/test-pattern.js';
import { connectUdp } from '../../src/transport/udp-server.js';
import { Prng, fuzzSeed } from '../helpers/proto-prng.js';
import { hostileDatagrams, templates } from '../helpers/udp-fuzz-cases.js';
import { RawUdp } from '../helpers/udp-raw.js';

const SEED = fuzzSeed(0x5eed_0d9);

function countFrames(sub: Subscription): () => number {
  let n = 0;
  void (async () => {
    try {
      for await (const _ of sub) n++;
    } catch {
      /* ended */
    }
  })();
  return () => n;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('every UDP datagram kind fuzzed at a real relay, with and without a session: no crash, healthy clients carry on', {
  timeout: 120_000,
}, async () => {
  const relay = createRelay();
  const { port: tcpPort } = await relay.listenTcp(0);
  const { port: udpPort } = await relay.listenUdp(0);
  const pub = await publish(`tcp://127.0.0.1:${tcpPort}/fuzz`, testPattern({ width: 320, height: 180, fps: 15 }), { reconnect: false });
  const tcpViewer = subscribe(`tcp://127.0.0.1:${tcpPort}/fuzz`, { reconnect: false });
  await tcpViewer.ready;
  const tcpFrames = countFrames(tcpViewer);
  const rng = new Prng(SEED);

  // No handshake: random session ids, session 0, and the handshake kinds themselves.
  const stranger = await RawUdp.create(udpPort);
  let strangerSent = 0;
  for (const { datagram } of hostileDatagrams(templates(rng.int(1, 0xffff_ffff)), rng, rng.int(0, 3))) {
    await stranger.send(datagram);
    if (++strangerSent % 100 === 0) await tick();
  }
  const noSession = stranger.received.filter((b) => readDatagram(b)?.kind === Kind.unknownSession);
  for (const b of noSession) assert.equal(b.length, 8, 'an unknown-session reply is 8 bytes');

  // Inside a session: a viewer of the live stream, re-opened whenever the relay ends it.
  const peer = await RawUdp.create(udpPort);
  const open = async (): Promise<void> => {
    await peer.handshake();
    await peer.sendControl({ type: 'hello', body: { role: 'view', stream: 'fuzz' } });
  };
  await open();
  let sent = 0;
  let reopened = 0;
  const first = peer.session;
  for (const { datagram } of hostileDatagrams(templates(first, peer.cookie), rng, first)) {
    // Datagrams carry the session of the moment (the templates were made for the first one).
    let d = datagram;
    if (d.length >= 8 && d.readUInt32BE(4) === first && peer.session !== first) {
      d = Buffer.from(d);
      d.writeUInt32BE(peer.session, 4);
    }
    await peer.send(d);
    if (++sent % 25 === 0) {
      await tick();
      if (peer.sessionEnded) {
        await open();
        reopened++;
      }
    }
  }
  await tick();
  const u = relay.udpStats()[0];
  console.log(
    `# UDP fuzz: ${strangerSent} datagrams without a session (${noSession.length} unknown-session replies), ${sent} in sessions (re-opened ${reopened} times); relay ignored ${u?.ignored}, invalid ${u?.totals.invalid}`,
  );
  assert.equal(u?.handlerErrors, 0, 'no exception caught in the datagram handler');
  assert.equal(u?.totals.internalErrors, 0, 'no exception caught in a session');

  // Healthy clients: the TCP viewer kept going, a new UDP viewer gets frames.
  const before = tcpFrames();
  const udpViewer = subscribe(`udp://127.0.0.1:${udpPort}/fuzz`, { reconnect: false });
  await udpViewer.ready;
  const udpFrames = countFrames(udpViewer);
  await until(() => udpFrames() >= 3 && tcpFrames() >= before + 3, 15_000, 'frames for the healthy viewers');
  stranger.close();
  peer.close();
  udpViewer.close();
  tcpViewer.close();
  pub.close();
  await relay.close();
});

test('the UDP client survives a fuzzing relay; only the relay it connected to can end it with "unknown session"', {
  timeout: 60_000,
}, async () => {
  const fake = dgram.createSocket('udp4');
  await new Promise<void>((r) => fake.bind(0, '127.0.0.1', () => r()));
  const session = 0x1234_5678;
  let client: dgram.RemoteInfo | undefined;
  fake.on('message', (m, rinfo) => {
    const dg = readDatagram(m);
    if (!dg) return;
    const nonce = readInit(dg);
    if (nonce) fake.send(encodeCookie(nonce, Buffer.alloc(20, 1)), rinfo.port, rinfo.address);
    const o = readOpen(dg);
    if (o) {
      client = rinfo;
      fake.send(encodeOpened(session, o.nonce, 700, 0), rinfo.port, rinfo.address);
    }
  });
  const ch = await connectUdp({ host: '127.0.0.1', port: fake.address().port, maxFrameBytes: 20_000 });
  assert.equal(ch.peerFragmentSize, 700, 'the client learns what the relay granted');
  let closeError: Error | undefined;
  let closed = false;
  ch.on('close', (e) => {
    closed = true;
    closeError = e;
  });
  ch.on('message', () => undefined);
  ch.on('protocolError', () => undefined);
  const to = client as dgram.RemoteInfo;
  const send = (b: Uint8Array): Promise<void> => new Promise((r) => fake.send(b, to.port, to.address, () => r()));
  const rng = new Prng(SEED + 1);
  let n = 0;
  for (const { datagram } of hostileDatagrams(templates(session), rng, session)) {
    const dg = readDatagram(datagram);
    if (dg && dg.session === session && (dg.kind === Kind.close || dg.kind === Kind.unknownSession)) continue;
    await send(datagram);
    if (++n % 50 === 0) await tick();
  }
  // A third party (another address) cannot end the session: the client's socket is connected to the relay.
  const spoofer = dgram.createSocket('udp4');
  await new Promise<void>((r) => spoofer.send(encodeUnknownSession(session), to.port, to.address, () => r()));
  // A barrier: a ping sent after them all reaches the client only once it has handled everything before it.
  let pinged = false;
  ch.on('message', (m) => (pinged ||= m.type === 'ping' && m.body.id === 4242));
  const ping = Buffer.from(makeDatagram(Kind.control, session, 8));
  ping.writeUInt32BE(0x7777_7777, 8);
  await send(Buffer.concat([ping, encodeControl({ type: 'ping', body: { id: 4242, t0: 1 } })]));
  await until(() => pinged || closed, 5000, 'the barrier ping');
  assert.equal(closed, false, `still open after ${n} hostile datagrams and a spoofed unknown-session`);
  assert.equal(ch.stats().internalErrors, 0);
  // The relay itself, for another session id: ignored; for this one: the channel ends at once.
  await send(encodeUnknownSession(session + 1));
  await send(encodeUnknownSession(session));
  await until(() => closed, 5000, 'the channel to close');
  assert.match(String(closeError?.message), /^unknown session/);
  spoofer.close();
  fake.close();
});
