import { parseArgs } from 'node:util';
import { createRelay, playerSink, publish, subscribe, type FrameSink, type Publication, type Relay, type Subscription } from '../index.js';
import {
  clientTls,
  durationTimer,
  formatStats,
  onSignals,
  parseNum,
  parseSize,
  statusLine,
  TLS_CLIENT_ARGS,
  TLS_CLIENT_HELP,
  UsageError,
} from './common.js';
import { SERVE_TLS_ARGS, SERVE_TLS_HELP, clientTrustArgs, serveTls, serveTlsLines } from './serve-tls.js';
import type { TlsClientOptions } from '../index.js';
import { jsonEverySecond, makeSource } from './publish.js';

export const chatHelp = `Usage: framewire chat --listen [HOST:]PORT [options]     (the side that waits)
       framewire chat tcp://HOST:PORT [options]             (the side that calls)
       (tls://HOST:PORT when the listening side has --tls-cert/--tls-self-signed)

Two-way video between two machines, one command on each side: each sends
its source and shows (--play) or measures what the other sends. The side
with --listen runs a small relay inside the command; the caller connects to
it. Latest-frame-wins both ways, so neither side's latency can build up.

Options:
  --listen [HOST:]PORT  wait for the other side here (default host 0.0.0.0;
                  port 0 picks a free one; the line printed says which)
  --source S      what to send (default: test); as "framewire publish --source":
                  camera, camera:N, screen, a file, rtsp://..., http(s)://...
  --size WxH      picture size to send (default 640x480 for test)
  --fps N         frames per second to send (default 30)
  --quality Q     JPEG quality 1-100 (default 75)
  --play          show the other side in a window (ffplay)
  --token T       a shared secret both sides must give
  --stats         a status line for both directions every second (default on a terminal)
  --json          one JSON object per second on stdout: { sent: {...}, received: {...} }
  --duration S    stop after S seconds
TLS, the listening side (then the caller uses tls://):
${SERVE_TLS_HELP}TLS, the calling side:
${TLS_CLIENT_HELP}  -h, --help      this help

A third caller is refused (FW_STREAM_BUSY): a chat has two sides.
`;

/** Stream names of the two sides inside the listening side's relay. */
const SIDES = { listener: 'chat-a', caller: 'chat-b' } as const;

export async function chatCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      listen: { type: 'string' },
      source: { type: 'string', default: 'test' },
      size: { type: 'string' },
      fps: { type: 'string' },
      quality: { type: 'string' },
      play: { type: 'boolean', default: false },
      token: { type: 'string' },
      stats: { type: 'boolean' },
      json: { type: 'boolean', default: false },
      duration: { type: 'string' },
      ...SERVE_TLS_ARGS,
      ...TLS_CLIENT_ARGS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(chatHelp);
    return;
  }
  if ((values.listen === undefined) === (positionals.length === 0)) {
    throw new UsageError("give either --listen [HOST:]PORT (to wait) or the other side's tcp://HOST:PORT (to call), not both");
  }
  if (positionals.length > 1) throw new UsageError('chat calls one address, e.g. tcp://192.168.1.20:7070');
  const size = parseSize(values.size) ?? (values.source === 'test' ? { width: 640, height: 480 } : undefined);
  const fps = parseNum('fps', values.fps, 0.1, 240) ?? 30;
  const quality = parseNum('quality', values.quality, 1, 100) ?? 75;
  const duration = parseNum('duration', values.duration, 0, 1e7);

  let relay: Relay | undefined;
  let tls: TlsClientOptions | undefined;
  let base: string;
  let mine: string;
  let theirs: string;
  if (values.listen !== undefined) {
    const m = /^(?:(\[[^\]]+\]|[^:]+):)?(\d{1,5})$/.exec(values.listen);
    if (!m) throw new UsageError(`--listen must be PORT or HOST:PORT, got "${values.listen}"`);
    const host = (m[1] ?? '0.0.0.0').replace(/^\[(.*)\]$/, '$1');
    if (values.ca !== undefined || values.fingerprint !== undefined || values.insecure)
      throw new UsageError('--ca, --fingerprint and --insecure are for the calling side');
    const served = await serveTls(values, host);
    relay = createRelay({ token: values.token, maxClients: 16, maxStreams: 4, maxRenditions: 0 });
    const addr = await relay.listenTcp(Number(m[2]), host, { tls: served?.tls });
    const shown = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
    const scheme = served ? 'tls' : 'tcp';
    // This side talks to its own relay too: over TLS, pinned to its own certificate.
    tls = served ? { fingerprint: served.fingerprint } : undefined;
    base = `${scheme}://${addr.host === '0.0.0.0' || addr.host === '::' ? '127.0.0.1' : shown}:${addr.port}`;
    [mine, theirs] = [SIDES.listener, SIDES.caller];
    process.stdout.write(
      `framewire chat: listening on ${scheme}=${shown}:${addr.port}; on the other machine run: ` +
        `npx framewire chat ${scheme}://THIS-MACHINE:${addr.port}${values.token ? ' --token …' : ''}${clientTrustArgs(served)}\n`,
    );
    if (served) process.stdout.write(`${serveTlsLines(served).join('\n')}\n`);
  } else {
    const u = new URL(positionals[0] as string);
    if (u.protocol !== 'tcp:' && u.protocol !== 'tls:')
      throw new UsageError(`chat calls a tcp://HOST:PORT or tls://HOST:PORT address, got ${positionals[0]}`);
    if (
      values['tls-cert'] !== undefined ||
      values['tls-key'] !== undefined ||
      values['tls-self-signed'] ||
      values['tls-dir'] !== undefined
    ) {
      throw new UsageError('--tls-cert, --tls-key, --tls-self-signed and --tls-dir are for the listening side');
    }
    tls = clientTls(values, positionals[0] as string, 'chat');
    base = `${u.protocol}//${u.host}`;
    [mine, theirs] = [SIDES.caller, SIDES.listener];
  }

  const source = makeSource(values.source ?? 'test', size, fps, quality);
  let pub: Publication | undefined;
  let sub: Subscription | undefined;
  let player: FrameSink | undefined;
  const stop = async (): Promise<void> => {
    sub?.close();
    pub?.close();
    source.close();
    await player?.close().catch(() => undefined);
    await pub?.done.catch(() => undefined);
    await relay?.close('chat ended');
  };
  onSignals(stop);
  try {
    await source.ready;
    pub = await publish(`${base}/${mine}`, source, {
      token: values.token,
      ...(tls ? { tls } : {}),
      onDisconnect: (reason, retry) => process.stderr.write(`framewire chat: sending: ${reason}${retry ? '; reconnecting' : ''}\n`),
    });
    sub = subscribe(`${base}/${theirs}`, {
      token: values.token,
      ...(tls ? { tls } : {}),
      onLive: (live) => process.stderr.write(`framewire chat: ${live ? 'the other side is sending' : 'waiting for the other side'}\n`),
      onDisconnect: (reason, retry) => process.stderr.write(`framewire chat: receiving: ${reason}${retry ? '; reconnecting' : ''}\n`),
    });
    await sub.ready;
    player = values.play ? playerSink({ title: 'framewire chat' }) : undefined;
  } catch (err) {
    await stop();
    throw err;
  }
  const p = pub;
  const s = sub;
  process.stderr.write(
    `framewire chat: sending ${source.info.width}x${source.info.height} @ ${fps} fps as "${mine}", receiving "${theirs}"\n`,
  );
  const stops: (() => void)[] = [];
  if (values.json) stops.push(jsonEverySecond(() => ({ sent: p.stats(), received: s.stats() })));
  if (values.stats ?? (!values.json && process.stderr.isTTY === true)) {
    stops.push(
      statusLine(
        () =>
          `${formatStats('you', { ...p.stats(), framesLost: 0, framesSkipped: p.stats().framesNotSent }, true)}  |  ${formatStats('them', s.stats())}`,
      ),
    );
  }
  player?.done.then(
    () => s.close(),
    (err: unknown) => {
      process.stderr.write(`framewire chat: the player stopped: ${err instanceof Error ? err.message : String(err)}\n`);
      s.close();
    },
  );
  durationTimer(duration, () => s.close());
  try {
    for await (const frame of s) player?.write(frame);
  } finally {
    for (const x of stops) x();
    if (values.json)
      process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), final: true, sent: p.stats(), received: s.stats() })}\n`);
    await stop();
  }
}
