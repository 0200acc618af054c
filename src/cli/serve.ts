import { parseArgs } from 'node:util';
import { createRelay, DEFAULT_TCP_PORT, type Relay } from '../index.js';
import { onSignals, parseNum } from './common.js';

export const serveHelp = `Usage: framewire serve [options]

Runs a relay: publishers send named streams to it, viewers watch them.

Options:
  --host H        address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
  --tcp PORT      native-protocol TCP port (default ${DEFAULT_TCP_PORT}; 0 picks a free one)
  --udp PORT      also listen for the native protocol over UDP (0 picks a free one)
  --token T       require this token from every publisher and viewer
  --max-clients N most connections at once (default 10000)
  --json          log one JSON object per line instead of text
  -h, --help      this help

The first line printed (stdout) names the ports actually bound, e.g.
  framewire relay listening tcp=127.0.0.1:7070 udp=127.0.0.1:7071
`;

/** Options the serve command shares with demo. */
export interface ServeArgs {
  host: string;
  tcp: number;
  /** UDP port, or undefined for no UDP listener. */
  udp?: number | undefined;
  token: string | undefined;
  maxClients: number | undefined;
  json: boolean;
}

/** Starts a relay with logging to stderr; returns it with its bound TCP address. */
export async function startRelay(
  a: ServeArgs,
  log: (line: string) => void,
): Promise<{ relay: Relay; tcp: { host: string; port: number }; udp?: { host: string; port: number } }> {
  const relay = createRelay({ token: a.token, maxClients: a.maxClients });
  const emit = (event: string, fields: Record<string, unknown>): void => {
    if (a.json) log(JSON.stringify({ time: new Date().toISOString(), event, ...fields }));
    else log(`${new Date().toISOString()} ${event} ${Object.entries(fields).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`);
  };
  relay.on('session', (e) => emit('session', e));
  relay.on('disconnect', (e) => emit('disconnect', e));
  relay.on('peerError', (e) => emit('error', e));
  const tcp = await relay.listenTcp(a.tcp, a.host);
  if (a.udp === undefined) return { relay, tcp };
  const udp = await relay.listenUdp(a.udp, a.host);
  return { relay, tcp, udp };
}

export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      tcp: { type: 'string' },
      udp: { type: 'string' },
      token: { type: 'string' },
      'max-clients': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(serveHelp);
    return;
  }
  const args: ServeArgs = {
    host: values.host ?? '127.0.0.1',
    tcp: parseNum('tcp', values.tcp, 0, 65535) ?? DEFAULT_TCP_PORT,
    udp: parseNum('udp', values.udp, 0, 65535),
    token: values.token,
    maxClients: parseNum('max-clients', values['max-clients'], 1, 1_000_000),
    json: values.json ?? false,
  };
  const { relay, tcp, udp } = await startRelay(args, (line) => process.stderr.write(`${line}\n`));
  const shownHost = tcp.host.includes(':') ? `[${tcp.host}]` : tcp.host;
  const udpPart = udp ? ` udp=${udp.host.includes(':') ? `[${udp.host}]` : udp.host}:${udp.port}` : '';
  if (args.json) process.stdout.write(`${JSON.stringify({ event: 'listening', tcp: { host: tcp.host, port: tcp.port }, ...(udp ? { udp } : {}) })}\n`);
  else {
    process.stdout.write(`framewire relay listening tcp=${shownHost}:${tcp.port}${udpPart}\n`);
    process.stdout.write(`  publish: npx framewire publish tcp://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${tcp.port}/cam${args.token ? ` --token ${args.token}` : ''}\n`);
    process.stdout.write(`  view:    npx framewire view tcp://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${tcp.port}/cam --stats${args.token ? ` --token ${args.token}` : ''}\n`);
  }
  onSignals(() => relay.close('relay shutting down'));
  // Runs until a signal: onSignals exits the process.
  await new Promise<never>(() => undefined);
}
