import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes, type ErrorCode } from '../errors.js';

/** The HTTP status that answers a framewire error code. */
export function httpStatusFor(code: ErrorCode): number {
  switch (code) {
    case ErrorCodes.UNAUTHORIZED:
      return 401;
    case ErrorCodes.NOT_FOUND:
      return 404;
    case ErrorCodes.STREAM_BUSY:
      return 409;
    case ErrorCodes.FRAME_TOO_LARGE:
    case ErrorCodes.CONTROL_TOO_LARGE:
      return 413;
    case ErrorCodes.NOT_JPEG:
      return 415;
    case ErrorCodes.TOO_MANY_CLIENTS:
    case ErrorCodes.OVERLOADED:
      return 503;
    case ErrorCodes.HANDSHAKE_TIMEOUT:
    case ErrorCodes.TIMEOUT:
      return 408;
    default:
      return 400;
  }
}

/**
 * Answers with a JSON error `{"error":{"code","message"}}` and the status for
 * its code, then closes the connection. If the response already started
 * (a stream in progress), it can only be ended.
 */
export function sendHttpError(res: ServerResponse, code: ErrorCode, message: string, status = httpStatusFor(code)): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    Connection: 'close',
  });
  res.end(body);
}

/** "ip:port" of the peer of an HTTP request. */
export function requestRemote(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '?';
  return `${a.includes(':') ? `[${a}]` : a}:${req.socket.remotePort ?? '?'}`;
}

/** The token a request presents: `Authorization: Bearer T`, `X-Framewire-Token: T` or `?token=T`. */
export function requestToken(req: IncomingMessage, url: URL): string | undefined {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1];
  }
  const h = req.headers['x-framewire-token'];
  if (typeof h === 'string' && h) return h;
  return url.searchParams.get('token') ?? undefined;
}
