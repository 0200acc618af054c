/**
 * A hostile UDP client against a real relay: fragment sizes out of range in
 * the open (used to throw out of the datagram handler and kill the relay),
 * 64-byte fragments (clamped to 512 both ways), and a relay that restarts
 * under a UDP viewer (which must reconnect on the relay's "unknown session"
 * reply, not at its session timeout).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { publish } from '../../src/client/publish.js';
import { subscribe, type Subscription } from '../../src/client/subscribe.js';
import { isFramewireError } from '../../src/errors.js';
import { encodeFrameHeader } from '../../src/protocol/messages.js';
import { fragmentMessage, MIN_FRAGMENT_SIZE } from '../../src/protocol/udp/fragmenter.js';
import { createRelay } from '../../src/relay/relay.js';
import { connectUdp, UdpServer } from '../../src/transport/udp-server.js';
import { UdpChannel } from '../../src/transport/udp.js';
import { encodeFrames, replaySource } from '../helpers/udp-frames.js';
import { RawUdp } from '../helpers/udp-raw.js';
import { countFrames, until } from '../helpers/relay.js';

const CHILD = fileURLToPath(new URL('../helpers/udp-relay-child.js', import.meta.url));

test('opens asking for fragment sizes out of range get a clamped session; the relay and a TCP viewer carry on', async () => {
  const relay = createRelay();
  const { port: tcpPort } = await relay.listenTcp(0);
  const { port: udpPort } = await relay.listenUdp(0);
  const pictures = await encodeFrames(640, 360, 4);
  const pub = await publish(`tcp://127.0.0.1:${tcpPort}/cam`, replaySource(pictures, 640, 360, 30, 100_000), { reconnect: false });
  const viewer = subscribe(`tcp://127.0.0.1:${tcpPort}/cam`, { reconnect: false });
  await viewer.ready;
  const frames = countFrames(viewer);
  await until(() => frames.count() >= 5, 'the TCP viewer to get frames', 10_000);
  const cases: [asked: number, granted: number][] = [
    [1, 512],
    [2, 512],
    [63, 512],
    [64, 512],
    [65, 512],
    [511, 512],
    [512, 512],
    [513, 513],
    [1200, 1200],
    [8948, 8948],
    [8949, 8948],
    [65000, 8948],
    [65001, 8948],
    [65534, 8948],
    [65535, 8948],
    [0, 1200],
  ];
  const clients: RawUdp[] = [];
  for (const [asked, granted] of cases) {
    const c = await RawUdp.create(udpPort);
    clients.push(c);
    const s = await c.handshake(asked, asked % 256);
    assert.equal(s.fragmentSize, granted, `asked for ${asked}`);
    const k = asked % 256;
    assert.equal(s.fecGroup, k === 0 ? 0 : Math.max(4, k), `FEC group asked ${k}`);
  }
  const before = frames.count();
  await until(() => frames.count() >= before + 10, 'the TCP viewer to keep getting frames after the attack', 10_000);
  const u = relay.udpStats()[0];
  assert.equal(u?.sessions, cases.length, 'every attacker got a session');
  assert.equal(u?.handlerErrors, 0);
  assert.equal(u?.clamped, cases.filter(([a, g]) => (a !== 0 && a !== g) || (a % 256 > 0 && a % 256 < 4)).length);
  // The library refuses to ask for less than the minimum itself, before any datagram.
  await assert.rejects(connectUdp({ host: '127.0.0.1', port: udpPort, fragmentSize: 64 }), (e) => isFramewireError(e, 'FW_BAD_OPTION'));
  for (const c of clients) c.close();
  viewer.close();
  pub.close();
  await relay.close();
});

test('a viewer asking for 64-byte fragments is sent 512-byte ones; a publisher sending 64-byte fragments is not reassembled', async () => {
  const relay = createRelay();
  const { port: udpPort } = await relay.listenUdp(0);
  const pictures = await encodeFrames(640, 360, 4);
  const pub = await publish(`udp://127.0.0.1:${udpPort}/cam`, replaySource(pictures, 640, 360, 30, 100_000), { reconnect: false });
  const v = await RawUdp.create(udpPort);
  const s = await v.handshake(64);
  assert.equal(s.fragmentSize, MIN_FRAGMENT_SIZE);
  await v.sendControl({ type: 'hello', body: { role: 'view', stream: 'cam' } });
  assert.equal((await v.control('welcome'))?.type, 'welcome');
  // Wait for 5 whole frames (every fragment of their message seq).
  const whole = (): Map<number, { count: number; length: number; got: Set<number>; sizes: Set<number> }> => {
    const bySeq = new Map<number, { count: number; length: number; got: Set<number>; sizes: Set<number> }>();
    for (const h of v.fragments) {
      const e = bySeq.get(h.seq) ?? { count: h.count, length: h.length, got: new Set<number>(), sizes: new Set<number>() };
      e.got.add(h.index);
      e.sizes.add(h.size);
      bySeq.set(h.seq, e);
    }
    return bySeq;
  };
  await until(() => [...whole().values()].filter((e) => e.got.size === e.count).length >= 5, '5 whole frames', 10_000);
  let datagrams = 0;
  let bytes = 0;
  let n = 0;
  for (const e of whole().values()) {
    if (e.got.size !== e.count) continue;
    assert.deepEqual([...e.sizes], [MIN_FRAGMENT_SIZE], 'every fragment is cut at the clamped size');
    assert.equal(e.count, Math.ceil(e.length / MIN_FRAGMENT_SIZE));
    datagrams += e.count;
    bytes += e.length;
    n++;
  }
  const at64 = Math.ceil(bytes / n / 64);
  console.log(
    `# 64-byte request: ${n} frames of ${Math.round(bytes / n)} B, ${(datagrams / n).toFixed(1)} datagrams per frame (${at64} at 64-byte fragments)`,
  );
  assert.ok(datagrams / n <= Math.ceil(bytes / n / MIN_FRAGMENT_SIZE) + 1);
  assert.ok(datagrams / n < at64 / 4);

  // A raw publisher cutting its frames at 64 bytes: dropped as invalid; at 512 they go through.
  const p = await RawUdp.create(udpPort);
  await p.handshake();
  await p.sendControl({ type: 'hello', body: { role: 'publish', stream: 'raw', params: { width: 640, height: 360 } } });
  assert.equal((await p.control('welcome'))?.type, 'welcome');
  const watcher = subscribe(`udp://127.0.0.1:${udpPort}/raw`, { reconnect: false });
  await watcher.ready;
  const got = countFrames(watcher);
  const invalid0 = relay.udpStats()[0]?.totals.invalid ?? 0;
  const frame = (seq: number): Buffer[] => [
    Buffer.from(
      encodeFrameHeader({
        seq,
        captureUs: Date.now() * 1000,
        width: 640,
        height: 360,
        codec: 'jpeg',
        key: true,
        data: pictures[0] as Buffer,
      }),
    ),
    pictures[0] as Buffer,
  ];
  const small = fragmentMessage(frame(0), 0, { session: p.session, fragmentSize: 64 });
  for (const d of small.order) await p.send(Buffer.concat(d));
  await until(
    () => (relay.udpStats()[0]?.totals.invalid ?? 0) >= invalid0 + small.count,
    'the 64-byte fragments to be counted invalid',
    5000,
  );
  for (let seq = 1; seq <= 3; seq++) {
    const ok = fragmentMessage(frame(seq), seq, { session: p.session, fragmentSize: MIN_FRAGMENT_SIZE });
    for (const d of ok.order) await p.send(Buffer.concat(d));
  }
  await until(() => got.count() >= 1, 'a 512-byte-fragment frame to reach a viewer', 5000);
  assert.equal(relay.udpStats()[0]?.handlerErrors, 0);
  watcher.close();
  v.close();
  p.close();
  pub.close();
  await relay.close();
});

/**
 * The network drops ICMP "port unreachable" (as many do): a client's socket
 * then never learns that the relay died, and only the new relay's answer
 * can tell it. Returns a function that puts the socket events back.
 */
function dropIcmpErrors(): () => void {
  const proto = dgram.Socket.prototype as unknown as { emit: (event: string | symbol, ...a: unknown[]) => boolean };
  const emit = proto.emit;
  proto.emit = function (this: unknown, event: string | symbol, ...a: unknown[]): boolean {
    if (event === 'error' && (a[0] as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED') return true;
    return emit.call(this, event, ...a);
  };
  return () => {
    proto.emit = emit;
  };
}

test('a UDP viewer and a UDP publisher resume after their relay is killed and restarted on the same ports: the new relay says "unknown session"', async () => {
  const restore = dropIcmpErrors();
  const child = spawn(process.execPath, [CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
  let relay2: ReturnType<typeof createRelay> | undefined;
  let pub: Awaited<ReturnType<typeof publish>> | undefined;
  let viewer: Subscription | undefined;
  try {
    const ports = await new Promise<{ tcp: number; udp: number }>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()) as { tcp: number; udp: number }));
      child.once('exit', () => reject(new Error('relay child exited')));
    });
    const pictures = await encodeFrames(640, 360, 4);
    const pubReasons: string[] = [];
    pub = await publish(`udp://127.0.0.1:${ports.udp}/cam`, replaySource(pictures, 640, 360, 30, 100_000), {
      udp: { sessionTimeoutMs: 120_000 },
      onDisconnect: (reason) => pubReasons.push(reason),
    });
    const reasons: string[] = [];
    // A session timeout far beyond the test's patience: only the unknown-session reply can end the old session in time.
    viewer = subscribe(`udp://127.0.0.1:${ports.udp}/cam`, {
      udp: { sessionTimeoutMs: 120_000 },
      onDisconnect: (reason) => reasons.push(reason),
    });
    await viewer.ready;
    const frames = countFrames(viewer);
    await until(() => frames.count() >= 10, 'frames from the first relay', 10_000);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const atCrash = frames.count();
    relay2 = createRelay();
    await relay2.listenTcp(ports.tcp, '127.0.0.1');
    await relay2.listenUdp(ports.udp, '127.0.0.1');
    const restartedAt = Date.now();
    await until(() => frames.count() > atCrash, 'a frame from the restarted relay', 10_000);
    console.log(`# restart: first frame ${Date.now() - restartedAt} ms after the new relay listened (session timeout 120 s)`);
    await until(() => frames.count() >= atCrash + 10, 'frames from the restarted relay', 10_000);
    assert.ok(
      reasons.some((r) => /unknown session/.test(r)),
      `the viewer reconnected because of the reply (reasons: ${reasons.join(' | ')})`,
    );
    assert.ok(
      pubReasons.some((r) => /unknown session/.test(r)),
      `the publisher too (reasons: ${pubReasons.join(' | ')})`,
    );
    assert.ok((relay2.udpStats()[0]?.unknownSessionReplies ?? 0) >= 2);
    assert.equal(viewer.stats().connected, true);
  } finally {
    restore();
    child.kill('SIGKILL');
    viewer?.close();
    pub?.close();
    await relay2?.close();
  }
});

test('a bug in datagram handling is caught and counted, and closes only the session concerned (server and client)', async () => {
  let calls = 0;
  const accepted: UdpChannel[] = [];
  const server = new UdpServer((ch) => {
    if (++calls === 1) throw new Error('a bug in the owner');
    accepted.push(ch);
    ch.on('message', () => undefined);
  });
  const { port } = await server.listen(0, '127.0.0.1');
  const first = await connectUdp({ host: '127.0.0.1', port });
  const firstClosed = new Promise<Error | undefined>((r) => first.once('close', r));
  await firstClosed;
  assert.equal(server.stats().handlerErrors, 1);
  assert.equal(server.stats().sessions, 0, 'the session whose handling threw is gone');
  // The next client is served, and a bug on its own side ends only its channel.
  const second = await connectUdp({ host: '127.0.0.1', port });
  const third = await connectUdp({ host: '127.0.0.1', port });
  await until(() => accepted.length === 2, 'two sessions accepted', 5000);
  const receive = UdpChannel.prototype.receive;
  let thrown = 0;
  UdpChannel.prototype.receive = function (this: UdpChannel, ...a: Parameters<UdpChannel['receive']>): void {
    if (this === second && thrown++ === 0) throw new Error('a bug in the client');
    receive.apply(this, a);
  };
  try {
    const secondClosed = new Promise<Error | undefined>((r) => second.once('close', r));
    (accepted[0] as UdpChannel).send({ type: 'ping', body: { id: 1, t0: 1 } });
    const err = await secondClosed;
    assert.match(String(err?.message), /internal error/);
    assert.equal((err as { code?: string } | undefined)?.code, 'FW_INTERNAL', "a bug of ours, not the peer's fault");
    assert.equal(second.stats().internalErrors, 1);
  } finally {
    UdpChannel.prototype.receive = receive;
  }
  assert.equal(third.closed, false, 'the other client is untouched');
  let pinged = false;
  third.on('message', (m) => (pinged ||= m.type === 'ping'));
  (accepted[1] as UdpChannel).send({ type: 'ping', body: { id: 2, t0: 1 } });
  await until(() => pinged, 'the other client to still get messages', 5000);
  third.destroy();
  await server.close();
});
