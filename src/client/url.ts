import { FramewireError } from '../errors.js';
import { STREAM_NAME } from '../protocol/messages.js';

/**
 * A parsed framewire URL: `tcp://host:port/stream?token=T`,
 * `tls://host:port/stream` (the same protocol inside TLS, on a relay serving
 * TLS on its TCP port), `udp://host:port/stream`, or `ws://host:port/stream` /
 * `wss://…` (the relay's HTTP port; the WebSocket endpoint is the path's last
 * segment replaced by `ws`, so `wss://example.com/video/cam` uses `/video/ws`).
 */
export interface StreamUrl {
  /** `tls://` is transport "tcp" with `tls` true; `wss://` is "ws" with `tls` true. */
  transport: 'tcp' | 'udp' | 'ws';
  /** The connection is TLS (`tls://`, `wss://`). */
  tls: boolean;
  host: string;
  port: number;
  /** ws only: the WebSocket URL to connect to. */
  wsUrl?: string;
  stream: string;
  token: string | undefined;
}

/** Default TCP port of `framewire serve`. */
export const DEFAULT_TCP_PORT = 7070;
/** Default HTTP (and WebSocket) port of `framewire serve`. */
export const DEFAULT_HTTP_PORT = 8080;
/** Default UDP port of `framewire serve --udp` (used when a udp:// URL names none). */
export const DEFAULT_UDP_PORT = 7071;

/** Parses and checks a stream URL; throws FW_BAD_URL with what is wrong. */
export function parseStreamUrl(input: string): StreamUrl {
  let u: URL;
  try {
    u = new URL(input);
  } catch {
    throw FramewireError.badUrl(`"${input}" is not a URL; expected tcp://HOST:PORT/STREAM`);
  }
  if (!['tcp:', 'tls:', 'udp:', 'ws:', 'wss:'].includes(u.protocol)) {
    throw FramewireError.badUrl(
      `unsupported scheme "${u.protocol}" in ${input}; expected tcp://HOST:PORT/STREAM, tls://…, udp://… or ws(s)://HOST:PORT/STREAM`,
    );
  }
  const transport = u.protocol === 'udp:' ? 'udp' : u.protocol === 'tcp:' || u.protocol === 'tls:' ? 'tcp' : 'ws';
  const tls = u.protocol === 'tls:' || u.protocol === 'wss:';
  const path = u.pathname.replace(/^\/+/, '');
  const slash = transport === 'ws' ? path.lastIndexOf('/') : -1;
  let stream: string;
  try {
    stream = decodeURIComponent(path.slice(slash + 1));
  } catch {
    throw FramewireError.badUrl(`bad percent-encoding in ${input}`);
  }
  if (!STREAM_NAME.test(stream)) {
    throw FramewireError.badUrl(`stream name "${stream}" in ${input} must match ${STREAM_NAME.source}`);
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = u.port
    ? Number(u.port)
    : { tcp: DEFAULT_TCP_PORT, udp: DEFAULT_UDP_PORT, ws: u.protocol === 'wss:' ? 443 : DEFAULT_HTTP_PORT }[transport];
  const token = u.searchParams.get('token') ?? undefined;
  if (transport !== 'ws') return { transport, tls, host, port, stream, token };
  const prefix = slash > 0 ? `/${path.slice(0, slash)}` : '';
  const wsUrl = `${u.protocol}//${u.host || `127.0.0.1:${port}`}${prefix}/ws`;
  return { transport, tls, host, port, stream, token, wsUrl };
}
