import { parseArgs } from 'node:util';
import { ErrorCodes, isFramewireError, openSource, publish, type OpenedSource } from '../index.js';
import {
  clientTls,
  durationTimer,
  errorLine,
  formatStats,
  onSignals,
  oneUrl,
  parseNum,
  parseSize,
  statusLine,
  TLS_CLIENT_ARGS,
  TLS_CLIENT_HELP,
  UsageError,
} from './common.js';

export const publishHelp = `Usage: framewire publish URL [options]

Publishes a source to a relay, e.g.
  framewire publish tcp://127.0.0.1:7070/cam --size 1280x720 --fps 30

URL is one of
  tcp://HOST[:7070]/STREAM     the native protocol over TCP (serve --tcp)
  udp://HOST[:7071]/STREAM     over UDP, fragmented, with loss repair (serve --udp)
  tls://HOST[:7070]/STREAM     the same inside TLS (serve --tls-cert/--tls-self-signed)
  ws://HOST[:8080]/STREAM      over WebSocket on the relay's HTTP port (serve --http);
                               wss:// for TLS (serve with TLS, or behind a reverse proxy)

Options:
  --source S      what to send (default: test):
                    test                 an animated test pattern (needs nothing else)
                    camera[:N|:/dev/videoN|:NAME]
                                         a webcam (Linux v4l2, macOS avfoundation,
                                         Windows dshow by NAME); needs ffmpeg
                    screen[:DISPLAY]     the screen (Linux x11grab, e.g. screen::0;
                                         macOS avfoundation; Windows gdigrab); needs ffmpeg
                    PATH                 a video file, paced in real time; needs ffmpeg
                    rtsp://...           an RTSP camera; needs ffmpeg
                    http(s)://...        an IP webcam / phone app serving MJPEG or a
                                         JPEG snapshot (polled at --fps); user:pass@ for
                                         basic auth; JPEGs passed through as sent
                  ffmpeg is found through FFMPEG_PATH, then PATH.
  --size WxH      picture size (default: 1280x720 for test; other sources keep theirs)
  --fps N         frames per second (default 30 for test, camera and screen;
                  files, RTSP and IP cameras keep their own rate unless asked)
  --quality Q     JPEG quality 1-100 (default 75)
  --loop          file source: start again at the end, forever
  --as-fast-as-possible
                  file and test sources: no real-time pacing (tests, benchmarks)
  --token T       token the relay requires (or ?token=T in the URL)
  --fec           udp:// only: XOR parity, one datagram per 10 fragments
  --mtu BYTES     udp:// only: fragment payload size (default 1200)
  --duration S    stop after S seconds
  --stats         print a status line (fps, kbps, connection) every second
  --json          print one JSON stats object per second on stdout
  --no-reconnect  exit when the relay goes away instead of retrying
${TLS_CLIENT_HELP}  -h, --help      this help
`;

/** Builds a source from the --source argument (see {@link openSource}). */
export function makeSource(
  kind: string,
  size: { width: number; height: number } | undefined,
  fps: number | undefined,
  quality: number,
  extra: { loop?: boolean; asFastAsPossible?: boolean } = {},
): OpenedSource {
  try {
    return openSource(kind, { ...size, fps, quality, ...extra });
  } catch (err) {
    if (isFramewireError(err, ErrorCodes.BAD_OPTION)) throw new UsageError(err.message);
    throw err;
  }
}

export async function publishCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      source: { type: 'string', default: 'test' },
      size: { type: 'string' },
      fps: { type: 'string' },
      quality: { type: 'string' },
      token: { type: 'string' },
      fec: { type: 'boolean', default: false },
      mtu: { type: 'string' },
      duration: { type: 'string' },
      stats: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'no-reconnect': { type: 'boolean', default: false },
      loop: { type: 'boolean', default: false },
      'as-fast-as-possible': { type: 'boolean', default: false },
      ...TLS_CLIENT_ARGS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(publishHelp);
    return;
  }
  const url = oneUrl(positionals, 'publish');
  const tls = clientTls(values, url, 'publish');
  const size = parseSize(values.size);
  // Captured sources default to 30 fps; files and network cameras keep their own rate unless asked.
  const captured = /^(test|camera|screen)(:|$)/.test(values.source ?? 'test');
  const fps = parseNum('fps', values.fps, 0.1, 240) ?? (captured ? 30 : undefined);
  const quality = parseNum('quality', values.quality, 1, 100) ?? 75;
  const duration = parseNum('duration', values.duration, 0, 1e7);
  const source = makeSource(values.source ?? 'test', size, fps, quality, {
    loop: values.loop,
    asFastAsPossible: values['as-fast-as-possible'],
  });
  // Device and ffmpeg errors surface here, before connecting, in one line.
  try {
    await source.ready;
  } catch (err) {
    source.close();
    throw err;
  }
  const pub = await publish(url, source, {
    token: values.token,
    ...(tls ? { tls } : {}),
    udp: udpOptions(values.fec ?? false, values.mtu),
    reconnect: !values['no-reconnect'],
    onDisconnect: (reason, retry) => process.stderr.write(`framewire publish: ${reason}${retry ? '; reconnecting' : ''}\n`),
  });
  const w = pub.welcome;
  process.stderr.write(
    `framewire publish: publishing ${source.info.width}x${source.info.height} @ ${fps ?? "the source's"} fps q${quality} to ${url} (session ${w?.session ?? '?'})\n`,
  );
  const stopStatus = values.json
    ? jsonEverySecond(() => pub.stats())
    : values.stats
      ? statusLine(() => formatStats('publish', { ...pub.stats(), framesLost: 0, framesSkipped: pub.stats().framesNotSent }, true))
      : () => undefined;
  durationTimer(duration, () => pub.close());
  onSignals(async () => {
    pub.close();
    await pub.done.catch(() => undefined);
  });
  try {
    await pub.done;
  } catch (err) {
    stopStatus();
    throw new Error(`publish stopped: ${errorLine(err)}`);
  }
  stopStatus();
}

/** The udp:// options of --fec and --mtu. */
export function udpOptions(fec: boolean, mtu: string | undefined): { fecGroup: number; fragmentSize?: number } {
  const fragmentSize = parseNum('mtu', mtu, 512, 65_000);
  return { fecGroup: fec ? 10 : 0, ...(fragmentSize !== undefined ? { fragmentSize } : {}) };
}

/** Writes `get()` as one JSON line per second to stdout. Returns a stop function. */
export function jsonEverySecond(get: () => object): () => void {
  const t = setInterval(() => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...get() })}\n`), 1000);
  return () => clearInterval(t);
}
