import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCodes } from '../errors.js';
import { LINGER_MS } from '../transport/http-util.js';
import { createHttpsServer, type TlsServerOptions } from '../transport/tls.js';
import type { HttpRelay } from './http-relay.js';
import { createHttpRoutes, type HttpRoutesOptions } from './http-routes.js';

export { DEFAULT_WEB_ROOT } from './http-routes.js';

/** Options for {@link createHttpServer}. */
export interface HttpServerOptions extends HttpRoutesOptions {
  /** Serve HTTPS (and WSS on `/ws`) with this certificate and key instead of plain HTTP. */
  tls?: TlsServerOptions | undefined;
}

/**
 * The relay's HTTP port: an HTTP (or, with `options.tls`, HTTPS) server
 * with bounded header timeouts, serving the relay's routes (web UI, JSON
 * API, `/ws`, MJPEG out and in, snapshots: see {@link createHttpRoutes}).
 * Requests Node's HTTP parser refuses get framewire's JSON error answer.
 * The server is not listening yet.
 */
export function createHttpServer(relay: HttpRelay, options: HttpServerOptions = {}): http.Server {
  const routes = createHttpRoutes(relay, options);
  // A client has twice the handshake timeout (10 s by default) for its request headers, checked every second,
  // so slow-header connections cannot pile up for Node's default minute.
  const httpOptions: http.ServerOptions = { headersTimeout: 2 * relay.handshakeTimeoutMs, connectionsCheckingInterval: 1000 };
  const server: http.Server = options.tls
    ? createHttpsServer(options.tls, relay.handshakeTimeoutMs, routes.request, httpOptions)
    : http.createServer(httpOptions, routes.request);
  // An MJPEG upload lasts as long as its source: no whole-request deadline (Node's default is 5 min).
  // Header timeouts still apply, so a client that never finishes its headers is dropped.
  server.requestTimeout = 0;
  server.on('clientError', (err: Error & { code?: string; rawPacket?: Buffer }, socket: Duplex) => answerClientError(err, socket));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => routes.upgrade(req, socket, head));
  server.on('close', () => routes.close());
  return server;
}

/** Sockets already answered: Node reports every later chunk of a connection whose parser failed as another client error. */
const answered = new WeakSet<Duplex>();

/**
 * Answers a request Node's HTTP parser refused before any handler saw it
 * (framewire's JSON error body, then close): headers too large (431), a
 * request line too long (414), anything else unreadable — Content-Length
 * with Transfer-Encoding, a bad header, a bad method (400) — and headers
 * that did not arrive in time (408). Once a response on the connection has
 * started (a pipelined request after an MJPEG stream), nothing can be said
 * on it any more: it is closed. The answer is sent once; the connection is
 * half-closed, what the client still sends is read and dropped for
 * {@link LINGER_MS}, then it is closed (an immediate close would reset it
 * under a client still sending, before it read the answer: RFC 9112 §9.6).
 */
function answerClientError(
  err: Error & { code?: string; rawPacket?: Buffer },
  socket: Duplex & { _httpMessage?: ServerResponse | null },
): void {
  if (answered.has(socket)) return;
  answered.add(socket);
  const started = socket._httpMessage?.headersSent === true;
  if (started || !socket.writable || (err.code !== undefined && ['ECONNRESET', 'EPIPE', 'ERR_STREAM_DESTROYED'].includes(err.code))) {
    socket.destroy();
    return;
  }
  const { status, message } = clientErrorAnswer(err);
  const code = status === 408 ? ErrorCodes.HANDSHAKE_TIMEOUT : ErrorCodes.BAD_REQUEST;
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/** The status and message for an error of Node's HTTP parser. */
function clientErrorAnswer(err: Error & { code?: string; rawPacket?: Buffer }): { status: number; message: string } {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW': {
      // Node counts the URL and the headers together against maxHeaderSize, and reports both alike.
      // rawPacket is the chunk being parsed: a request line with no end in it, or ending past 8 KiB, is too long.
      const raw = err.rawPacket;
      const lineEnd = raw ? raw.indexOf(0x0a) : -1;
      if (raw && (lineEnd < 0 || lineEnd > 8 * 1024)) return { status: 414, message: 'the request line (method and URL) is too long' };
      return { status: 431, message: 'the request headers are too large' };
    }
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      // llhttp: Content-Length then Transfer-Encoding, the reverse, a Transfer-Encoding not ending in chunked, two Content-Lengths.
      return { status: 400, message: `the request's body length is ambiguous or invalid (${parserReason(err)})` };
    case 'HPE_HEADER_TIMEOUT':
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, message: 'the request headers did not arrive in time' };
    default:
      return { status: 400, message: `the request cannot be read as HTTP/1.1 (${parserReason(err)})` };
  }
}

/** llhttp's reason for an error (a fixed text of the parser, never the peer's bytes), or one made from the code. */
function parserReason(err: Error & { code?: string; reason?: unknown }): string {
  if (typeof err.reason === 'string' && err.reason.length > 0 && err.reason.length <= 120) return err.reason;
  if (err.code?.startsWith('HPE_')) return err.code.slice(4).toLowerCase().replace(/_/g, ' ');
  return 'unreadable';
}
