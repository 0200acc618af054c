import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createRelay,
  isFramewireError,
  publish,
  subscribe,
  testPattern,
  type EncodedFrame,
  type Publication,
  type Relay,
} from '../../src/index.js';
import { encodeControl } from '../../src/protocol/index.js';
import { relayNames, selfSignedCertificate, type StoredCertificate } from '../../src/cli/tls-cert.js';
import { hasCommand, skipUnless } from '../helpers/web.js';

const skip = skipUnless(hasCommand('openssl', ['version']), 'openssl');

/** Takes `n` frames from a subscription, then closes it. */
async function take(url: string, n: number, options: Parameters<typeof subscribe>[1]): Promise<EncodedFrame[]> {
  const sub = subscribe(url, { reconnect: false, ...options });
  const out: EncodedFrame[] = [];
  try {
    for await (const f of sub) {
      out.push(f);
      if (out.length >= n) break;
    }
  } finally {
    sub.close();
  }
  return out;
}

/** Connects a plain TCP client, sends `bytes` (if any), and collects what comes back until the relay closes it. */
function plainClient(port: number, bytes?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1', () => {
      if (bytes) s.write(bytes);
    });
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', () => undefined); // a reset after the alert is fine: what matters is what came before it
    s.on('close', () => resolve(Buffer.concat(chunks)));
    setTimeout(() => reject(new Error('the relay did not close a plain TCP client on its TLS port')), 15_000).unref();
  });
}

/** What a plain client may get back from a TLS port: nothing, or TLS alert records (content type 21) only. */
function onlyTlsAlerts(got: Buffer): boolean {
  for (let i = 0; i < got.length; ) {
    if (got[i] !== 21 || i + 5 > got.length) return false;
    i += 5 + got.readUInt16BE(i + 3);
  }
  return true;
}

describe('relay over TLS (library): tls://, https://, wss://', { skip, timeout: 90_000 }, () => {
  let dir: string;
  let cert: StoredCertificate;
  let relay: Relay;
  let tlsPort: number;
  let httpsPort: number;
  let pub: Publication;
  const peerErrors: { code: string; transport: string }[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fw-tls-lib-'));
    cert = await selfSignedCertificate(dir, relayNames('127.0.0.1'));
    relay = createRelay({ handshakeTimeoutMs: 500 });
    relay.on('peerError', (e) => peerErrors.push({ code: e.code, transport: e.transport }));
    tlsPort = (await relay.listenTcp(0, '127.0.0.1', { tls: cert })).port;
    httpsPort = (await relay.listenHttp(0, '127.0.0.1', { tls: cert })).port;
    pub = await publish(`tls://127.0.0.1:${tlsPort}/cam`, testPattern({ width: 160, height: 120, fps: 30 }), {
      tls: { fingerprint: cert.fingerprint },
    });
  });

  after(async () => {
    pub?.close();
    await relay?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('trusts the relay through a CA file (with the host name checked), a pin, or insecure; frames flow each way', async () => {
    const viaCa = await take(`tls://localhost:${tlsPort}/cam`, 5, { tls: { ca: cert.cert } });
    assert.equal(viaCa.length, 5);
    assert.equal(viaCa[0]?.width, 160);
    const lowerPlain = cert.fingerprint.replace(/:/g, '').toLowerCase();
    assert.equal((await take(`tls://127.0.0.1:${tlsPort}/cam`, 3, { tls: { fingerprint: lowerPlain } })).length, 3);
    assert.equal((await take(`wss://127.0.0.1:${httpsPort}/cam`, 3, { tls: { fingerprint: cert.fingerprint } })).length, 3);
    assert.equal((await take(`wss://localhost:${httpsPort}/cam`, 3, { tls: { ca: cert.cert } })).length, 3);
    assert.equal((await take(`tls://127.0.0.1:${tlsPort}/cam`, 3, { tls: { insecure: true } })).length, 3);
  });

  it('a viewer over TLS is reported with transport "tls" (and "wss" on the HTTP port)', async () => {
    const a = subscribe(`tls://127.0.0.1:${tlsPort}/cam`, { tls: { fingerprint: cert.fingerprint } });
    const b = subscribe(`wss://127.0.0.1:${httpsPort}/cam`, { tls: { fingerprint: cert.fingerprint } });
    try {
      await Promise.all([a.ready, b.ready]);
      const transports = (relay.viewers('cam') ?? []).map((v) => v.transport).sort();
      assert.ok(transports.includes('tls') && transports.includes('wss'), transports.join(','));
    } finally {
      a.close();
      b.close();
    }
  });

  it('refuses an untrusted certificate and a wrong pin with FW_TLS, before any hello reaches the relay', async () => {
    const before = relay.clientCount;
    const sessions: string[] = [];
    const onSession = (e: { role: string }): number => sessions.push(e.role);
    relay.on('session', onSession);
    try {
      const wrong = `${cert.fingerprint.slice(0, -2)}${cert.fingerprint.endsWith('00') ? '11' : '00'}`;
      for (const url of [`tls://127.0.0.1:${tlsPort}/cam`, `wss://127.0.0.1:${httpsPort}/cam`]) {
        await assert.rejects(
          take(url, 1, {}),
          (e) => isFramewireError(e, 'FW_TLS') && /not trusted/.test(e.message),
          `${url} without trust`,
        );
        await assert.rejects(
          take(url, 1, { tls: { fingerprint: wrong } }),
          (e) => isFramewireError(e, 'FW_TLS') && /fingerprint/.test(e.message),
          `${url} wrong pin`,
        );
      }
      // The certificate names 127.0.0.1 and localhost, not another name: with the CA alone the name check fails.
      await assert.rejects(take(`tls://127.0.0.1:${tlsPort}/cam`, 1, { tls: { ca: cert.cert, servername: 'example.org' } }), (e) =>
        isFramewireError(e, 'FW_TLS'),
      );
      await assert.rejects(
        publish(`tls://127.0.0.1:${tlsPort}/other`, testPattern({ width: 64, height: 48, fps: 5 }), {
          reconnect: false,
          tls: { fingerprint: wrong },
        }),
        (e) => isFramewireError(e, 'FW_TLS'),
      );
      assert.deepEqual(sessions, []);
      assert.ok(relay.clientCount <= before, `clients ${relay.clientCount} > ${before}`);
    } finally {
      relay.off('session', onSession);
    }
  });

  it('TLS options need a tls:// or wss:// URL; a contradiction or a malformed pin is FW_BAD_OPTION', async () => {
    await assert.rejects(take(`tcp://127.0.0.1:${tlsPort}/cam`, 1, { tls: { insecure: true } }), (e) => isFramewireError(e, 'FW_BAD_URL'));
    const sub = subscribe(`tls://127.0.0.1:${tlsPort}/cam`, { reconnect: false, tls: { fingerprint: 'abc' } });
    await assert.rejects(sub.ready, (e) => isFramewireError(e, 'FW_BAD_OPTION'));
    const both = subscribe(`tls://127.0.0.1:${tlsPort}/cam`, { reconnect: false, tls: { fingerprint: cert.fingerprint, insecure: true } });
    await assert.rejects(both.ready, (e) => isFramewireError(e, 'FW_BAD_OPTION'));
  });

  it('a TLS client reaching a plain TCP relay fails with FW_TLS ("does not speak TLS")', async () => {
    const plain = createRelay();
    const { port } = await plain.listenTcp(0, '127.0.0.1');
    try {
      await assert.rejects(
        take(`tls://127.0.0.1:${port}/cam`, 1, { tls: { insecure: true } }),
        (e) => isFramewireError(e) && ['FW_TLS', 'FW_CONNECTION_CLOSED'].includes(e.code),
      );
    } finally {
      await plain.close();
    }
  });

  it('a plain TCP client on the TLS port gets at most a TLS alert, a silent one is closed at the handshake timeout, and the relay goes on', async () => {
    const errorsBefore = peerErrors.length;
    const hello = Buffer.from(encodeControl({ type: 'hello', body: { role: 'view', stream: 'cam' } }));
    const answers = await Promise.all([
      plainClient(tlsPort, hello),
      plainClient(tlsPort, Buffer.from('GET / HTTP/1.1\r\n\r\n')),
      plainClient(tlsPort),
    ]);
    for (const got of answers) {
      assert.ok(onlyTlsAlerts(got), `only TLS alerts or nothing, got ${got.subarray(0, 32).toString('hex')}`);
      assert.ok(!got.includes(Buffer.from('FW')), 'no framewire bytes');
    }
    const theirs = peerErrors.slice(errorsBefore);
    assert.equal(theirs.length, 3, JSON.stringify(theirs));
    assert.ok(theirs.every((e) => e.code === 'FW_TLS' && e.transport === 'tls'));
    // Plain HTTP on the HTTPS port: closed too.
    assert.ok(onlyTlsAlerts(await plainClient(httpsPort, Buffer.from('GET /api/streams HTTP/1.1\r\nHost: x\r\n\r\n'))));
    // The next TLS client is served.
    assert.equal((await take(`tls://127.0.0.1:${tlsPort}/cam`, 2, { tls: { fingerprint: cert.fingerprint } })).length, 2);
  });

  it('serves the API and the MJPEG stream over HTTPS', async () => {
    const get = (p: string): Promise<{ status: number; body: Buffer }> =>
      new Promise((resolve, reject) => {
        const req = https.get({ host: '127.0.0.1', port: httpsPort, path: p, ca: cert.cert }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => {
            chunks.push(c);
            // An MJPEG response never ends: stop at the first JPEG start.
            if (Buffer.concat(chunks).includes(Buffer.from([0xff, 0xd8]))) req.destroy();
          });
          const done = (): void => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) });
          res.on('end', done);
          res.on('close', done);
        });
        req.on('error', (e) => (e.message === 'socket hang up' ? undefined : reject(e)));
      });
    const api = await get('/api/streams');
    assert.equal(api.status, 200);
    const streams = (JSON.parse(api.body.toString()) as { streams: { name: string }[] }).streams;
    assert.ok(streams.some((s) => s.name === 'cam'));
    const mjpeg = await get('/streams/cam.mjpg');
    assert.equal(mjpeg.status, 200);
    assert.ok(mjpeg.body.includes(Buffer.from([0xff, 0xd8])), 'a JPEG start of image');
  });
});
