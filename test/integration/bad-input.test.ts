/**
 * Bad peers against a real relay: each must get an `error` message with the
 * right stable code and then see its socket closed, while a good viewer of a
 * live stream keeps receiving every frame and the relay keeps accepting
 * newcomers. Asserts codes and counts only, never timings.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, type ErrorCode } from '../../src/errors.js';
import type { EncodedFrame } from '../../src/frame/frame.js';
import { writeFixedHeader } from '../../src/protocol/header.js';
import { encodeControl, encodeFrame } from '../../src/protocol/messages.js';
import { createRelay, type Relay } from '../../src/relay/relay.js';
import { publish, type Publication } from '../../src/client/publish.js';
import { subscribe, type Subscription } from '../../src/client/subscribe.js';
import { testPattern } from '../../src/sources/test-pattern.js';
import { RawPeer } from '../helpers/proto-peer.js';
import { Prng } from '../helpers/proto-prng.js';
import { rawControl, sampleFrame } from '../helpers/proto-samples.js';

const TOKEN = 'letmein';
const STREAM = 'cam';

/** A header alone: magic, version, type, flags, header length, payload length. */
function header(version: number, type: number, headerLength: number, payloadLength: number, magic = 0x4657): Buffer {
  const b = Buffer.alloc(12);
  writeFixedHeader(b, type, 0, headerLength, payloadLength);
  b.writeUInt16BE(magic, 0);
  b[2] = version;
  return b;
}

const goodHello = Buffer.from(encodeControl({ type: 'hello', body: { role: 'view', stream: STREAM, token: TOKEN } }));

interface BadPeer {
  name: string;
  code: ErrorCode;
  /** Misbehaves on a fresh connection. */
  act(peer: RawPeer): Promise<void> | void;
}

const badPeers: BadPeer[] = [
  {
    name: 'random bytes',
    code: ErrorCodes.BAD_MAGIC,
    act: (p) => {
      const junk = new Prng(0xbad5eed).bytes(1500);
      junk[0] = 0x00; // never "FW"
      p.send(junk);
    },
  },
  { name: 'an HTTP request', code: ErrorCodes.BAD_MAGIC, act: (p) => p.send(Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')) },
  {
    name: 'wrong magic on a good hello',
    code: ErrorCodes.BAD_MAGIC,
    act: (p) => p.send(Buffer.concat([Buffer.from('WF'), goodHello.subarray(2)])),
  },
  {
    name: 'protocol version 2',
    code: ErrorCodes.BAD_VERSION,
    act: (p) => p.send(Buffer.concat([goodHello.subarray(0, 2), Buffer.from([2]), goodHello.subarray(3)])),
  },
  { name: 'a header declaring a 1 GiB frame', code: ErrorCodes.FRAME_TOO_LARGE, act: (p) => p.send(header(1, 0x10, 32, 2 ** 30)) },
  { name: 'a header declaring a 1 GiB hello', code: ErrorCodes.CONTROL_TOO_LARGE, act: (p) => p.send(header(1, 0x01, 12, 2 ** 30)) },
  { name: 'an unknown message type', code: ErrorCodes.BAD_HEADER, act: (p) => p.send(header(1, 0x42, 12, 2)) },
  { name: 'a hello that never comes', code: ErrorCodes.HANDSHAKE_TIMEOUT, act: () => undefined },
  { name: 'half a hello, then silence', code: ErrorCodes.HANDSHAKE_TIMEOUT, act: (p) => p.send(goodHello.subarray(0, 20)) },
  { name: 'a frame before hello', code: ErrorCodes.UNEXPECTED_MESSAGE, act: (p) => p.send(encodeFrame(sampleFrame(1, 100))) },
  {
    name: 'a ping before hello',
    code: ErrorCodes.UNEXPECTED_MESSAGE,
    act: (p) => p.send(encodeControl({ type: 'ping', body: { id: 1, t0: 1 } })),
  },
  { name: 'invalid hello JSON', code: ErrorCodes.BAD_MESSAGE, act: (p) => p.send(rawControl('hello', '{"role":"view","stream":')) },
  {
    name: 'a hello with a bad stream name',
    code: ErrorCodes.BAD_MESSAGE,
    act: (p) => p.hello({ role: 'view', stream: '../etc', token: TOKEN }),
  },
  {
    name: 'a hello with role "chat"',
    code: ErrorCodes.BAD_MESSAGE,
    act: (p) => p.send(rawControl('hello', `{"role":"chat","stream":"${STREAM}"}`)),
  },
  { name: 'a wrong token', code: ErrorCodes.UNAUTHORIZED, act: (p) => p.hello({ role: 'view', stream: STREAM, token: 'guess' }) },
  { name: 'no token', code: ErrorCodes.UNAUTHORIZED, act: (p) => p.hello({ role: 'publish', stream: STREAM }) },
  {
    name: 'a second publisher on the live stream',
    code: ErrorCodes.STREAM_BUSY,
    act: (p) => p.hello({ role: 'publish', stream: STREAM, token: TOKEN }),
  },
  {
    name: 'a viewer that sends a frame after its welcome',
    code: ErrorCodes.UNEXPECTED_MESSAGE,
    act: async (p) => {
      p.send(goodHello);
      await p.waitFor('welcome');
      p.send(encodeFrame(sampleFrame(1, 100)));
    },
  },
  {
    name: 'a viewer that sends a second hello',
    code: ErrorCodes.UNEXPECTED_MESSAGE,
    act: async (p) => {
      p.send(goodHello);
      await p.waitFor('welcome');
      p.send(goodHello);
    },
  },
  {
    name: 'a publisher of another stream that sends a frame with codec 9',
    code: ErrorCodes.BAD_HEADER,
    act: async (p) => {
      p.hello({ role: 'publish', stream: 'other', token: TOKEN });
      await p.waitFor('welcome');
      const f = encodeFrame(sampleFrame(1, 100));
      f[28] = 9;
      p.send(f);
    },
  },
];

/** Connects, misbehaves, and checks: an error with `code` is the last message, then the socket closes. */
async function runBadPeer(port: number, bad: BadPeer, open: Set<RawPeer>): Promise<void> {
  const peer = await RawPeer.connect(port);
  open.add(peer);
  try {
    await bad.act(peer);
    await peer.closed;
    assert.equal(peer.parseError, undefined, `${bad.name}: the relay sent valid protocol`);
    const last = peer.messages.at(-1);
    assert.ok(
      last?.type === 'error',
      `${bad.name}: last message is an error (got ${peer.messages.map((m) => m.type).join(', ') || 'nothing'})`,
    );
    assert.equal(last.body.code, bad.code, `${bad.name}: error code`);
    assert.equal(peer.messages.filter((m) => m.type === 'error').length, 1, `${bad.name}: exactly one error`);
  } finally {
    peer.destroy();
    open.delete(peer);
  }
}

describe('relay against bad peers', () => {
  let relay: Relay;
  let port: number;
  let pub: Publication;
  let viewer: Subscription;
  const frames: EncodedFrame[] = [];
  let frameWaiters: (() => void)[] = [];
  let viewerDone: Promise<void>;
  const openPeers = new Set<RawPeer>();
  const peerErrors: string[] = [];

  /** Resolves once the good viewer has `n` more frames than now. */
  const moreFrames = (n: number): Promise<void> => {
    const target = frames.length + n;
    return new Promise((resolve) => {
      const check = (): void => {
        if (frames.length >= target) resolve();
        else frameWaiters.push(check);
      };
      check();
    });
  };

  before(async () => {
    relay = createRelay({ token: TOKEN, handshakeTimeoutMs: 300 });
    relay.on('peerError', (e) => peerErrors.push(e.code));
    port = (await relay.listenTcp(0)).port;
    const url = `tcp://127.0.0.1:${port}/${STREAM}?token=${TOKEN}`;
    pub = await publish(url, testPattern({ width: 160, height: 120, fps: 30 }), { reconnect: false });
    viewer = subscribe(url, { reconnect: false, queueSize: 64 });
    await viewer.ready;
    viewerDone = (async () => {
      for await (const f of viewer) {
        frames.push(f);
        const ws = frameWaiters;
        frameWaiters = [];
        for (const w of ws) w();
      }
    })();
    await moreFrames(3);
  });

  after(async () => {
    for (const p of openPeers) p.destroy();
    viewer?.close();
    pub?.close();
    await relay?.close();
    await viewerDone?.catch(() => undefined);
  });

  for (const bad of badPeers) {
    it(`answers ${bad.name} with ${bad.code}, then closes`, async () => {
      const before = frames.length;
      await runBadPeer(port, bad, openPeers);
      await moreFrames(2);
      assert.ok(frames.length > before);
    });
  }

  it('survives all the bad peers at once', async () => {
    const errorsBefore = peerErrors.length;
    await Promise.all(badPeers.map((bad) => runBadPeer(port, bad, openPeers)));
    assert.equal(peerErrors.length - errorsBefore, badPeers.length, 'one peerError event per bad peer');
  });

  it('dropped every bad session: only the publisher and the good viewer remain', () => {
    assert.equal(relay.clientCount, 2);
    assert.equal(relay.viewers(STREAM)?.length, 1);
    assert.deepEqual(
      relay.streams().map((s) => [s.name, s.live, s.viewers]),
      [[STREAM, true, 1]],
      'the bad publisher\'s stream "other" is gone',
    );
    assert.equal(pub.stats().connected, true);
  });

  it('kept the good viewer fed: increasing seq, every gap accounted for as a skip, nothing lost', async () => {
    await moreFrames(3);
    const seqs = frames.map((f) => f.seq);
    let gaps = 0;
    for (let i = 1; i < seqs.length; i++) {
      const d = (seqs[i] as number) - (seqs[i - 1] as number);
      assert.ok(d >= 1, `seq went from ${seqs[i - 1]} to ${seqs[i]}`);
      gaps += d - 1;
    }
    const s = viewer.stats();
    assert.equal(s.framesLost, 0, 'no frame lost');
    assert.equal(gaps, s.framesSkipped + s.framesDropped, 'gaps = relay skips + local drops');
    assert.equal(pub.stats().framesNotSent, 0, 'the publisher sent every frame it made');
    assert.ok(frames.every((f) => f.width === 160 && f.height === 120 && f.codec === 'jpeg' && f.data[0] === 0xff && f.data[1] === 0xd8));
  });

  it('still accepts a new viewer, which receives frames', async () => {
    const late = subscribe(`tcp://127.0.0.1:${port}/${STREAM}?token=${TOKEN}`, { reconnect: false });
    try {
      const welcome = await late.ready;
      assert.equal(welcome.live, true);
      const got: number[] = [];
      for await (const f of late) {
        got.push(f.seq);
        if (got.length === 3) break;
      }
      assert.equal(got.length, 3);
      assert.ok((got[0] as number) < (got[2] as number));
    } finally {
      late.close();
    }
  });
});
