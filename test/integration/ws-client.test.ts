import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isFramewireError } from '../../src/errors.js';
import { publish, subscribe, testPattern, type EncodedFrame } from '../../src/index.js';
import { parseStreamUrl } from '../../src/client/url.js';
import { viewerPageUrl } from '../../src/cli/open.js';
import { freePort } from '../helpers/procs.js';
import { BIN } from '../helpers/cli.js';
import { run, startTestRelay, type TestRelay } from '../helpers/web.js';

describe('ws:// stream URLs parse to the relay HTTP port and its /ws endpoint', () => {
  it('maps host, port, path prefix, default ports and token', () => {
    assert.deepEqual(parseStreamUrl('ws://10.0.0.2:9000/cam?token=t'), {
      transport: 'ws',
      tls: false,
      host: '10.0.0.2',
      port: 9000,
      stream: 'cam',
      token: 't',
      wsUrl: 'ws://10.0.0.2:9000/ws',
    });
    const behindProxy = parseStreamUrl('wss://video.example.com/relay/a/door-1');
    assert.equal(behindProxy.wsUrl, 'wss://video.example.com/relay/a/ws');
    assert.equal(behindProxy.port, 443);
    assert.equal(behindProxy.stream, 'door-1');
    assert.equal(parseStreamUrl('ws://h/cam').port, 8080);
    assert.throws(
      () => parseStreamUrl('ws://h:1/'),
      (e) => isFramewireError(e, 'FW_BAD_URL'),
    );
    assert.throws(
      () => parseStreamUrl('http://h:1/cam'),
      (e) => isFramewireError(e, 'FW_BAD_URL') && /ws\(s\):\/\//.test(e.message),
    );
    assert.equal(viewerPageUrl('wss://video.example.com/relay/cam?token=x'), 'https://video.example.com/relay/view?stream=cam&token=x');
  });
});

describe('Node clients over WebSocket (ws://HOST:HTTP/STREAM)', { timeout: 60_000 }, () => {
  let r: TestRelay;
  before(async () => {
    r = await startTestRelay({ token: 'k' });
  });
  after(async () => r?.close());

  it('publish over ws://, watch over ws:// and tcp://: the same frames in the same order', async () => {
    const wsUrl = `ws://127.0.0.1:${r.httpPort}/wsc?token=k`;
    const viaWs = subscribe(wsUrl);
    const viaTcp = subscribe(`tcp://127.0.0.1:${r.tcpPort}/wsc?token=k`);
    await Promise.all([viaWs.ready, viaTcp.ready]);
    const pub = await publish(wsUrl, testPattern({ width: 320, height: 240, fps: 60, frames: 40 }));
    const take = async (s: AsyncIterable<EncodedFrame>): Promise<EncodedFrame[]> => {
      const out: EncodedFrame[] = [];
      for await (const f of s) {
        out.push(f);
        if (out.length === 40) break;
      }
      return out;
    };
    const [a, b] = await Promise.all([take(viaWs), take(viaTcp)]);
    await pub.done;
    assert.deepEqual(
      a.map((f) => f.seq),
      b.map((f) => f.seq),
    );
    assert.ok(
      a.every((f, i) => Buffer.from(f.data).equals((b[i] as EncodedFrame).data)),
      'identical JPEG bytes',
    );
    assert.deepEqual([a[0]?.width, a[0]?.height], [320, 240]);
    const st = viaWs.stats();
    assert.equal(st.framesLost, 0);
    assert.ok(st.rttMs === null || st.rttMs >= 0);
    viaWs.close();
    viaTcp.close();
  });

  it('a wrong token is FW_UNAUTHORIZED; nothing listening is a coded connect error', async () => {
    await assert.rejects(subscribe(`ws://127.0.0.1:${r.httpPort}/wsc?token=no`).ready, (e) => isFramewireError(e, 'FW_UNAUTHORIZED'));
    await assert.rejects(publish(`ws://127.0.0.1:${r.httpPort}/wsc`, testPattern({ width: 64, height: 48 })), (e) =>
      isFramewireError(e, 'FW_UNAUTHORIZED'),
    );
    // A wrong path prefix reaches no WebSocket endpoint: the HTTP refusal is reported, not a hang.
    await assert.rejects(
      subscribe(`ws://127.0.0.1:${r.httpPort}/nope/wsc?token=k`, { reconnect: false }).ready,
      (e) => isFramewireError(e, 'FW_CONNECTION_CLOSED') && /HTTP 404/.test(e.message),
    );
    const dead = await freePort();
    await assert.rejects(subscribe(`ws://127.0.0.1:${dead}/x`, { reconnect: false }).ready, (e) =>
      isFramewireError(e, 'FW_CONNECTION_CLOSED'),
    );
  });

  it('the CLI views a ws:// URL', async () => {
    const pub = await publish(`tcp://127.0.0.1:${r.tcpPort}/cli?token=k`, testPattern({ width: 160, height: 120, fps: 30 }));
    try {
      const { done } = run(process.execPath, [
        BIN,
        'view',
        `ws://127.0.0.1:${r.httpPort}/cli`,
        '--token',
        'k',
        '--json',
        '--duration',
        '2',
      ]);
      const out = await done;
      assert.equal(out.code, 0, out.stderr);
      const last = JSON.parse(out.stdout.trim().split('\n').pop() as string) as { fps: number; width: number; framesLost: number };
      assert.ok(last.fps > 20, `fps ${last.fps}`);
      assert.equal(last.width, 160);
      assert.equal(last.framesLost, 0);
    } finally {
      pub.close();
    }
  });
});
