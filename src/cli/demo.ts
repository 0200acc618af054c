import { parseArgs } from 'node:util';
import { publish, subscribe, testPattern, DEFAULT_TCP_PORT } from '../index.js';
import { durationTimer, formatStats, onSignals, parseNum, parseSize, statusLine } from './common.js';
import { DEFAULT_HTTP_PORT, startRelay } from './serve.js';

export const demoHelp = `Usage: framewire demo [options]

Everything in one process: a relay, a test-pattern publisher on stream "demo",
and a viewer printing live stats. Prints the commands to watch it from
another terminal.

Options:
  --host H        address for the relay (default 127.0.0.1)
  --tcp PORT      relay TCP port (default ${DEFAULT_TCP_PORT}; falls back to a free port if taken; 0 = any)
  --http PORT     relay HTTP port for the browser (default ${DEFAULT_HTTP_PORT}; same fallback)
  --size WxH      test pattern size (default 1280x720)
  --fps N         frames per second (default 30)
  --quality Q     JPEG quality (default 75)
  --duration S    stop after S seconds
  -h, --help      this help
`;

export async function demoCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      tcp: { type: 'string' },
      http: { type: 'string' },
      size: { type: 'string' },
      fps: { type: 'string' },
      quality: { type: 'string' },
      duration: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(demoHelp);
    return;
  }
  const host = values.host ?? '127.0.0.1';
  const wanted = parseNum('tcp', values.tcp, 0, 65535) ?? DEFAULT_TCP_PORT;
  const size = parseSize(values.size) ?? { width: 1280, height: 720 };
  const fps = parseNum('fps', values.fps, 0.1, 240) ?? 30;
  const quality = parseNum('quality', values.quality, 1, 100) ?? 75;
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const wantedHttp = parseNum('http', values.http, 0, 65535) ?? DEFAULT_HTTP_PORT;
  const args = { host, tcp: wanted, http: wantedHttp, token: undefined, maxClients: undefined, json: false };
  let started: Awaited<ReturnType<typeof startRelay>>;
  try {
    started = await startRelay(args, () => undefined);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || (values.tcp !== undefined && values.http !== undefined)) throw err;
    log(`framewire demo: port ${wanted} or ${wantedHttp} is taken, using free ports instead`);
    started = await startRelay(
      { ...args, tcp: values.tcp !== undefined ? wanted : 0, http: values.http !== undefined ? wantedHttp : 0 },
      () => undefined,
    );
  }
  const { relay, tcp, http } = started;
  const browserUrl = http ? `http://${http.host.includes(':') ? `[${http.host}]` : http.host}:${http.port}/` : undefined;
  const url = `tcp://${tcp.host}:${tcp.port}/demo`;
  const pub = await publish(url, testPattern({ ...size, fps, quality }));
  const sub = subscribe(url);
  process.stdout.write(
    [
      `framewire demo: relay on tcp=${tcp.host}:${tcp.port}, publishing a ${size.width}x${size.height} @ ${fps} fps test pattern as "demo".`,
      ...(browserUrl ? [`Open in a browser: ${browserUrl}  (viewer: ${browserUrl}view?stream=demo)`] : []),
      `Try, in another terminal:`,
      `  npx framewire view ${url} --stats`,
      `  npx framewire view ${url} --json --duration 5`,
      `  npx framewire publish tcp://${tcp.host}:${tcp.port}/cam --size 640x480 --fps 15`,
      `Ctrl-C stops the demo.`,
      '',
    ].join('\n'),
  );
  const stopStatus = statusLine(
    () => `${formatStats('demo', sub.stats())}  viewers ${relay.streams().find((s) => s.name === 'demo')?.viewers ?? 0}`,
  );
  const stop = async (): Promise<void> => {
    stopStatus();
    sub.close();
    pub.close();
    await relay.close('demo ending');
  };
  durationTimer(parseNum('duration', values.duration, 0, 1e7), () => void stop().then(() => process.exit(0)));
  onSignals(stop);
  for await (const frame of sub) void frame;
}
