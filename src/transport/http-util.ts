import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
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
    case ErrorCodes.INTERNAL:
      return 500;
    default:
      return 400;
  }
}

/**
 * Answers with a JSON error `{"error":{"code","message"}}` and the status for
 * its code, then closes the connection. If the response already started
 * (a stream in progress), it can only be ended. A request whose body is
 * still coming (an upload refused mid-body) is read to its end or for
 * {@link LINGER_MS} first, so the client gets the answer (see
 * {@link lingerAfterAnswer}).
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
  if (!res.req.complete) lingerAfterAnswer(res.req);
}

/** How long what a refused client still sends is read (and dropped) after the answer, before the socket closes, ms. */
export const LINGER_MS = 2000;

/**
 * For an answer sent while the request's body still comes (a part too
 * large, not a JPEG, a bad stream name on an upload): Node closes the socket
 * as soon as a "Connection: close" answer is written, with unread body bytes
 * in it, which resets the connection; a client still sending (ffmpeg, any
 * streaming uploader) then sees a broken pipe instead of the answer
 * (RFC 9112 §9.6). Instead the rest of the body is read and dropped (nothing
 * is kept), the socket is half-closed once the answer is out and the body
 * has ended, and closed after {@link LINGER_MS} at the latest.
 */
function lingerAfterAnswer(req: IncomingMessage): void {
  const socket = req.socket as Socket & { destroySoon?: () => void };
  const endWriting = (): void => {
    if (socket.writable) socket.end();
  };
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  req.once('end', endWriting);
  req.resume();
  // Node calls destroySoon() once a "Connection: close" answer is written: end only the write side.
  if (typeof socket.destroySoon === 'function') socket.destroySoon = endWriting;
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
