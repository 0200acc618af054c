import { parseArgs } from 'node:util';
import { createRelay, DEFAULT_HTTP_PORT, DEFAULT_TCP_PORT, type ListenAddress, type Relay, type TlsServerOptions } from '../index.js';
import { onSignals, parseNum } from './common.js';
import { secretOption } from './token.js';
import { SERVE_TLS_ARGS, SERVE_TLS_HELP, clientTrustArgs, serveTls, serveTlsLines } from './serve-tls.js';

export { DEFAULT_HTTP_PORT };

export const serveHelp = `Usage: framewire serve [options]

Runs a relay: publishers send named streams to it, viewers watch them.

Options:
  --host H        address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
  --tcp PORT      native-protocol TCP port (default ${DEFAULT_TCP_PORT}; 0 picks a free one)
  --http PORT     HTTP port: web UI, WebSocket, MJPEG out and in, JSON API
                  (default ${DEFAULT_HTTP_PORT}; 0 picks a free one)
  --udp PORT      also listen for the native protocol over UDP (0 picks a free one)
  --token T       require this token from every publisher and viewer (TCP, WebSocket,
                  MJPEG, ingest, API: "Authorization: Bearer T" or ?token=T on HTTP)
  --secret S      accept tokens signed with S, each for one stream (or a prefix) and
                  one role, made with "framewire token" (or FRAMEWIRE_SECRET in the
                  environment); at least 32 bytes; may be used with --token
  --max-clients N most connections at once (default 10000)
  --memory-budget MB
                  most memory peers can make the relay hold (half-received frames, uploads,
                  UDP reassembly, rendition decodes), MiB (default 256); past it, the peer
                  holding the most is closed with FW_OVERLOADED
  --max-waiting N most viewers waiting for streams that have no publisher (default 1000;
                  32 per IP address)
  --max-renditions N
                  most distinct sizes/qualities made for viewers per stream (default 4;
                  0 = none: viewers get the stream as published)
  --json          log one JSON object per line instead of text
${SERVE_TLS_HELP}  -h, --help      this help

The first line printed (stdout) names the ports actually bound, e.g.
  framewire relay listening tcp=127.0.0.1:7070 http=127.0.0.1:8080 [udp=127.0.0.1:7071] [tls=on]
`;

/** Options the serve command shares with demo. */
export interface ServeArgs {
  host: string;
  tcp: number;
  /** HTTP port (web UI, WebSocket, MJPEG); undefined = no HTTP listener. */
  http?: number | undefined;
  /** UDP port, or undefined for no UDP listener. */
  udp?: number | undefined;
  token: string | undefined;
  /** Secret for scoped tokens (see `framewire token`). */
  secret?: string | undefined;
  maxClients: number | undefined;
  /** Most rendition profiles per stream (undefined = the relay's default). */
  maxRenditions?: number | undefined;
  /** Memory budget, MiB (undefined = the relay's default). */
  memoryBudgetMiB?: number | undefined;
  /** Most waiting viewers (undefined = the relay's default). */
  maxWaiting?: number | undefined;
  json: boolean;
  /** TLS on the TCP port (tls://) and the HTTP port (HTTPS, WSS); UDP stays plain. */
  tls?: TlsServerOptions | undefined;
}

/** Starts a relay with logging to stderr; returns it with its bound TCP address. */
export async function startRelay(
  a: ServeArgs,
  log: (line: string) => void,
): Promise<{ relay: Relay; tcp: ListenAddress; http: ListenAddress | undefined; udp: ListenAddress | undefined }> {
  const relay = createRelay({
    token: a.token,
    secret: a.secret,
    maxClients: a.maxClients,
    maxRenditions: a.maxRenditions,
    memoryBudgetBytes: a.memoryBudgetMiB === undefined ? undefined : a.memoryBudgetMiB * 1024 * 1024,
    maxWaitingViewers: a.maxWaiting,
  });
  const emit = (event: string, fields: Record<string, unknown>): void => {
    if (a.json) log(JSON.stringify({ time: new Date().toISOString(), event, ...fields }));
    else
      log(
        `${new Date().toISOString()} ${event} ${Object.entries(fields)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(' ')}`,
      );
  };
  relay.on('session', (e) => emit('connect', e));
  relay.on('disconnect', (e) => emit('disconnect', e));
  relay.on('peerError', (e) => emit('error', e));
  try {
    const tcp = await relay.listenTcp(a.tcp, a.host, { tls: a.tls });
    const http = a.http === undefined ? undefined : await relay.listenHttp(a.http, a.host, { tls: a.tls });
    const udp = a.udp === undefined ? undefined : await relay.listenUdp(a.udp, a.host);
    return { relay, tcp, http, udp };
  } catch (err) {
    await relay.close('listen failed');
    throw err;
  }
}

export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      tcp: { type: 'string' },
      http: { type: 'string' },
      udp: { type: 'string' },
      token: { type: 'string' },
      secret: { type: 'string' },
      'max-clients': { type: 'string' },
      'max-renditions': { type: 'string' },
      'memory-budget': { type: 'string' },
      'max-waiting': { type: 'string' },
      json: { type: 'boolean', default: false },
      ...SERVE_TLS_ARGS,
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
    http: parseNum('http', values.http, 0, 65535) ?? DEFAULT_HTTP_PORT,
    udp: parseNum('udp', values.udp, 0, 65535),
    token: values.token,
    secret: secretOption(values.secret),
    maxClients: parseNum('max-clients', values['max-clients'], 1, 1_000_000),
    maxRenditions: parseNum('max-renditions', values['max-renditions'], 0, 64),
    memoryBudgetMiB: parseNum('memory-budget', values['memory-budget'], 16, 1024 * 1024),
    maxWaiting: parseNum('max-waiting', values['max-waiting'], 1, 1_000_000),
    json: values.json ?? false,
  };
  // TLS: a certificate given or made; the TCP and HTTP ports then speak tls:// and https:// only.
  const tls = await serveTls(values, args.host);
  args.tls = tls?.tls;
  const [tcpScheme, httpScheme, trust] = tls ? ['tls', 'https', clientTrustArgs(tls)] : ['tcp', 'http', ''];
  const { relay, tcp, http, udp } = await startRelay(args, (line) => process.stderr.write(`${line}\n`));
  const shownHost = tcp.host.includes(':') ? `[${tcp.host}]` : tcp.host;
  const httpPart = http ? ` http=${shownHost}:${http.port}` : '';
  const udpPart = udp ? ` udp=${udp.host.includes(':') ? `[${udp.host}]` : udp.host}:${udp.port}` : '';
  const tlsJson = tls ? { tls: { cert: tls.certFile, fingerprint: tls.fingerprint, selfSigned: tls.selfSigned, names: tls.names } } : {};
  if (args.json)
    process.stdout.write(
      `${JSON.stringify({ event: 'listening', tcp: { host: tcp.host, port: tcp.port }, ...(http ? { http } : {}), ...(udp ? { udp } : {}), ...tlsJson })}\n`,
    );
  else {
    process.stdout.write(`framewire relay listening tcp=${shownHost}:${tcp.port}${httpPart}${udpPart}${tls ? ' tls=on' : ''}\n`);
    if (tls) process.stdout.write(`${serveTlsLines(tls).join('\n')}\n`);
    if (http)
      process.stdout.write(
        `  browser: ${httpScheme}://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${http.port}/${args.token ? `?token=${encodeURIComponent(args.token)}` : ''}\n`,
      );
    process.stdout.write(
      `  publish: npx framewire publish ${tcpScheme}://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${tcp.port}/cam${args.token ? ` --token ${args.token}` : ''}${trust}\n`,
    );
    process.stdout.write(
      `  view:    npx framewire view ${tcpScheme}://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${tcp.port}/cam --stats${args.token ? ` --token ${args.token}` : ''}${trust}\n`,
    );
  }
  if (args.secret !== undefined && !args.json)
    process.stdout.write('  tokens:  npx framewire token --secret S --stream cam --role view|publish\n');
  onSignals(() => relay.close('relay shutting down'));
  // Runs until a signal: onSignals exits the process.
  await new Promise<never>(() => undefined);
}
