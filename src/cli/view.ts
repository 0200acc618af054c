import { parseArgs } from 'node:util';
import { playerSink, recorderSink, subscribe, type FrameSink } from '../index.js';
import {
  clientTls,
  durationTimer,
  formatStats,
  onSignals,
  oneUrl,
  parseNum,
  parseSize,
  statusLine,
  TLS_CLIENT_ARGS,
  TLS_CLIENT_HELP,
} from './common.js';
import { openInBrowser, viewerPageUrl } from './open.js';
import { jsonEverySecond, udpOptions } from './publish.js';

export const viewHelp = `Usage: framewire view URL [options]

Watches a stream and reports what arrives, e.g.
  framewire view tcp://127.0.0.1:7070/cam --stats

URL is one of
  tcp://HOST[:7070]/STREAM     the native protocol over TCP (serve --tcp)
  udp://HOST[:7071]/STREAM     over UDP, fragmented, with loss repair (serve --udp)
  tls://HOST[:7070]/STREAM     the same inside TLS (serve --tls-cert/--tls-self-signed)
  ws://HOST[:8080]/STREAM      over WebSocket on the relay's HTTP port (serve --http);
                               wss:// for TLS (serve with TLS, or behind a reverse proxy)

Options:
  --stats         a live status line (fps, kbps, latency, losses) on stderr
  --json          one JSON object per second on stdout: fps, kbps, latencyP50Ms,
                  latencyP95Ms, framesReceived, framesLost (lost on the wire),
                  framesSkipped, framesNotDecodable, framesDroppedByPublisher,
                  framesDropped, width, height, rttMs, clockOffsetMs, connected, live,
                  fragmentsLost, framesRepaired (udp://); a last one with "final": true
  --duration S    stop after S seconds (exit 0)
  --fps N         ask the relay for at most N frames per second
  --size WxH      ask for this size (granted when the relay can make it)
  --quality Q     ask for this JPEG quality (same)
  --token T       token the relay requires (or ?token=T in the URL)
  --fec           udp:// only: XOR parity, one datagram per 10 fragments
  --mtu BYTES     udp:// only: fragment payload size (default 1200)
  --no-nack       udp:// only: do not ask the relay to resend lost fragments
  --budget MS     udp:// only: latency budget for repair (default two frame intervals)
  --no-reconnect  exit when the relay goes away instead of retrying
  --play          show the video in a window (ffplay, no buffering; closing the
                  window ends the view)
  --record FILE   record to FILE without re-encoding: .mkv, .avi, .mov or .mp4
                  through ffmpeg, or .mjpeg as raw concatenated JPEGs (no ffmpeg)
  --open          open the browser viewer page for this stream instead
                  (URL http://HOST:HTTP/STREAM, or tcp://… with the relay's --http port)
  --http PORT     the relay's HTTP port for --open with a tcp:// URL (default 8080)
${TLS_CLIENT_HELP}  -h, --help      this help
`;

export async function viewCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      stats: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      duration: { type: 'string' },
      fps: { type: 'string' },
      size: { type: 'string' },
      quality: { type: 'string' },
      token: { type: 'string' },
      fec: { type: 'boolean', default: false },
      mtu: { type: 'string' },
      'no-nack': { type: 'boolean', default: false },
      budget: { type: 'string' },
      'no-reconnect': { type: 'boolean', default: false },
      open: { type: 'boolean', default: false },
      play: { type: 'boolean', default: false },
      record: { type: 'string' },
      http: { type: 'string' },
      ...TLS_CLIENT_ARGS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(viewHelp);
    return;
  }
  const url = oneUrl(positionals, 'view');
  if (values.open) {
    const page = viewerPageUrl(url, parseNum('http', values.http, 1, 65535), values.token);
    process.stdout.write(`${page}\n`);
    if (!openInBrowser(page)) process.stderr.write('framewire view: no browser opener found (xdg-open/open/start); open the URL above\n');
    return;
  }
  const tls = clientTls(values, url, 'view');
  const size = parseSize(values.size);
  const budget = parseNum('budget', values.budget, 1, 10_000);
  const sub = subscribe(url, {
    token: values.token,
    ...(tls ? { tls } : {}),
    udp: {
      ...udpOptions(values.fec ?? false, values.mtu),
      nack: !values['no-nack'],
      ...(budget !== undefined ? { latencyBudgetMs: budget } : {}),
    },
    fps: parseNum('fps', values.fps, 0.1, 1000),
    quality: parseNum('quality', values.quality, 1, 100),
    ...size,
    reconnect: !values['no-reconnect'],
    onWelcome: (w) =>
      process.stderr.write(`framewire view: connected to ${url} (session ${w.session})${w.live ? '' : ', waiting for a publisher'}\n`),
    onLive: (live) => process.stderr.write(`framewire view: stream is ${live ? 'live' : 'not live (no publisher); waiting'}\n`),
    onDisconnect: (reason, retry) => process.stderr.write(`framewire view: ${reason}${retry ? '; reconnecting' : ''}\n`),
  });
  const duration = parseNum('duration', values.duration, 0, 1e7);
  // Sinks start before frames arrive, so a missing ffplay/ffmpeg is said at once.
  let player: FrameSink | undefined;
  let recorder: FrameSink | undefined;
  try {
    player = values.play ? playerSink({ title: `framewire: ${url}` }) : undefined;
    recorder = values.record ? recorderSink(values.record) : undefined;
  } catch (err) {
    sub.close();
    player?.close().catch(() => undefined);
    throw err;
  }
  let sinkError: unknown;
  for (const [sink, what] of [
    [player, 'player'],
    [recorder, 'recorder'],
  ] as const) {
    sink?.done.then(
      () => {
        // The window was closed: that ends the view.
        if (what === 'player') sub.close();
      },
      (err: unknown) => {
        sinkError ??= err;
        sub.close();
      },
    );
  }
  const stops: (() => void)[] = [];
  if (values.json) stops.push(jsonEverySecond(() => sub.stats()));
  if (values.stats) stops.push(statusLine(() => formatStats('view', sub.stats())));
  durationTimer(duration, () => sub.close());
  const closeSinks = async (): Promise<void> => {
    await Promise.all([player?.close().catch(() => undefined), recorder?.close().catch(() => undefined)]);
  };
  onSignals(async () => {
    sub.close();
    await closeSinks();
  });
  try {
    for await (const frame of sub) {
      player?.write(frame);
      recorder?.write(frame);
    }
  } finally {
    for (const s of stops) s();
    await closeSinks();
    if (recorder && !sinkError)
      process.stderr.write(
        `framewire view: recorded ${recorder.written} frames to ${values.record}${recorder.dropped ? ` (${recorder.dropped} dropped: the disk was behind)` : ''}\n`,
      );
    // A last figure for the partial second, so --duration N gives N lines.
    if (values.json) process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), final: true, ...sub.stats() })}\n`);
  }
  if (sinkError) throw sinkError;
}
