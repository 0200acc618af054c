import { ErrorCodes, FramewireError } from '../errors.js';
import { STREAM_NAME } from '../protocol/messages.js';

/** A parsed framewire URL: `tcp://host:port/stream?token=T` or `udp://host:port/stream?token=T`. */
export interface StreamUrl {
  transport: 'tcp' | 'udp';
  host: string;
  port: number;
  stream: string;
  token: string | undefined;
}

/** Default TCP port of `framewire serve`. */
export const DEFAULT_TCP_PORT = 7070;
/** Default UDP port of `framewire serve --udp` (used when a udp:// URL names none). */
export const DEFAULT_UDP_PORT = 7071;

/** Parses and checks a stream URL; throws FW_BAD_URL with what is wrong. */
export function parseStreamUrl(input: string): StreamUrl {
  let u: URL;
  try {
    u = new URL(input);
  } catch {
    throw new FramewireError(ErrorCodes.BAD_URL, `"${input}" is not a URL; expected tcp://HOST:PORT/STREAM`);
  }
  if (u.protocol !== 'tcp:' && u.protocol !== 'udp:') {
    throw new FramewireError(ErrorCodes.BAD_URL, `unsupported scheme "${u.protocol}" in ${input}; expected tcp://HOST:PORT/STREAM or udp://HOST:PORT/STREAM`);
  }
  const transport = u.protocol === 'udp:' ? 'udp' : 'tcp';
  const stream = decodeURIComponent(u.pathname.replace(/^\/+/, ''));
  if (!STREAM_NAME.test(stream)) {
    throw new FramewireError(ErrorCodes.BAD_URL, `stream name "${stream}" in ${input} must match ${STREAM_NAME.source}`);
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = u.port ? Number(u.port) : transport === 'udp' ? DEFAULT_UDP_PORT : DEFAULT_TCP_PORT;
  return { transport, host, port, stream, token: u.searchParams.get('token') ?? undefined };
}
