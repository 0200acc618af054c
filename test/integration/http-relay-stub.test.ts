import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import { ErrorCodes, FramewireError } from '../../src/errors.js';
import type { EncodedFrame } from '../../src/frame/frame.js';
import type { MessageChannel } from '../../src/transport/channel.js';
import type { AccessNeed, TokenScope } from '../../src/relay/auth.js';
import { createHttpServer } from '../../src/relay/http.js';
import type { HttpRelay, RelayHealth } from '../../src/relay/http-relay.js';
import type { StreamInfo } from '../../src/relay/stream.js';
import { DEFAULT_LIMITS } from '../../src/protocol/parser.js';
import { fakeFrame, until } from '../helpers/relay.js';
import { request } from '../helpers/web.js';

/** A relay reduced to the HttpRelay interface: the HTTP port needs nothing else of one. */
class StubRelay implements HttpRelay {
  readonly clock = (): number => 1_000_000;
  readonly handshakeTimeoutMs = 5000;
  readonly limits = { ...DEFAULT_LIMITS };
  readonly accepted: MessageChannel[] = [];
  readonly frame: EncodedFrame = fakeFrame(7);
  get clientCount(): number {
    return this.accepted.length;
  }
  accept(channel: MessageChannel): void {
    this.accepted.push(channel);
  }
  async checkToken(token: string | undefined, need?: AccessNeed): Promise<TokenScope> {
    if (token === 'one') {
      if (need && need.stream !== 'a') throw new FramewireError(ErrorCodes.UNAUTHORIZED, 'token for stream a only');
      return { stream: 'a', role: 'view' };
    }
    if (token !== undefined) throw new FramewireError(ErrorCodes.UNAUTHORIZED, 'wrong token');
    return { stream: '*', role: '*' };
  }
  streams(): StreamInfo[] {
    return ['a', 'b'].map((name) => ({
      name,
      live: true,
      viewers: 0,
      width: 64,
      height: 48,
      fps: 30,
      kbps: 100,
      framesIn: 1,
      uptimeS: 0,
      publisher: null,
      renditions: [],
      renditionDecodes: 0,
      renditionDecodesRefused: 0,
      badFrames: 0,
      framesDroppedByPublisher: 0,
    }));
  }
  health(): RelayHealth {
    const memory = { totalBytes: 1, perPeerBytes: 1, usedBytes: 0, peakBytes: 0, holders: 0, overloads: 0, decodesRefused: 0 };
    const counts = { badFrames: 0, badPublishers: 0, decodesRefused: 0, ackTimeouts: 0, rssBytes: 1 };
    return { clients: 42, streams: 2, liveStreams: 2, waitingViewers: 0, memory, ...counts };
  }
  latestFrame(stream: string): EncodedFrame | undefined {
    return stream === 'a' ? this.frame : undefined;
  }
}

describe('the HTTP port on the HttpRelay interface alone', () => {
  const relay = new StubRelay();
  let server: http.Server;
  let base: string;

  before(async () => {
    server = createHttpServer(relay, {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const c of relay.accepted) c.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it("serves the relay figures it is given: /api/health, /api/streams (filtered by the token's scope)", async () => {
    const health = await request(`${base}/api/health`);
    assert.equal(health.status, 200);
    assert.equal((JSON.parse(health.body.toString()) as RelayHealth).clients, 42);
    const all = JSON.parse((await request(`${base}/api/streams`)).body.toString()) as { streams: StreamInfo[] };
    assert.deepEqual(
      all.streams.map((s) => s.name),
      ['a', 'b'],
    );
    const scoped = JSON.parse((await request(`${base}/api/streams?token=one`)).body.toString()) as { streams: StreamInfo[] };
    assert.deepEqual(
      scoped.streams.map((s) => s.name),
      ['a'],
    );
    const refused = await request(`${base}/api/health?token=one`);
    assert.equal(refused.status, 401);
  });

  it('answers a snapshot from latestFrame, and 404 with a code where there is none', async () => {
    const snap = await request(`${base}/streams/a.jpg`);
    assert.equal(snap.status, 200);
    assert.equal(snap.headers['x-frame-seq'], '7');
    assert.ok(snap.body.equals(relay.frame.data));
    const none = await request(`${base}/streams/b.jpg`);
    assert.equal(none.status, 404);
    assert.equal((JSON.parse(none.body.toString()) as { error: { code: string } }).error.code, ErrorCodes.NOT_FOUND);
  });

  it('hands an MJPEG viewer to accept as a channel', async () => {
    const before = relay.accepted.length;
    const ac = new AbortController();
    const res = fetch(`${base}/streams/a.mjpg`, { signal: ac.signal }).catch(() => undefined);
    await until(() => relay.accepted.length === before + 1, 'the MJPEG channel');
    assert.equal(relay.accepted[before]?.transport, 'mjpeg');
    ac.abort();
    await res;
  });
});
