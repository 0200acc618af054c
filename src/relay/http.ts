import { readFile } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { ErrorCodes, FramewireError } from '../errors.js';
import { STREAM_NAME } from '../protocol/messages.js';
import { LINGER_MS, requestRemote, requestToken, sendHttpError, httpStatusFor } from '../transport/http-util.js';
import { MjpegIngestChannel } from '../transport/mjpeg-ingest.js';
import { MjpegViewerChannel } from '../transport/mjpeg.js';
import { createHttpsServer, type TlsServerOptions } from '../transport/tls.js';
import { WsChannel } from '../transport/ws.js';
import { streamAllowed } from './auth.js';
import type { Relay } from './relay.js';

/** Options for {@link createHttpServer}. */
export interface HttpServerOptions {
  /** Directory of the built web UI. Default: the package's `dist/web`. */
  webRoot?: string;
  /** Serve HTTPS (and WSS on `/ws`) with this certificate and key instead of plain HTTP. */
  tls?: TlsServerOptions | undefined;
}

/** Where the package's built web UI lives (dist/web, beside dist/src). */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

/** Pretty routes for the UI pages. */
const PAGES: Record<string, string> = { '/': 'index.html', '/view': 'view.html', '/publish': 'publish.html' };

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

const MAX_CACHED_FILES = 64;

/**
 * The relay's HTTP port: web UI (static files), JSON API, WebSocket endpoint
 * (`/ws`, the native protocol), MJPEG out (`/streams/NAME.mjpg`), snapshot
 * (`/streams/NAME.jpg`) and MJPEG ingest (`POST|PUT /streams/NAME`). Every
 * stream route is an ordinary relay session, so latest-frame-wins, limits,
 * stats and the token apply as on TCP.
 *
 * ```
 * GET  /  /view?stream=N  /publish?stream=N   pages (dist/web)
 * GET  /api/streams                           {"streams":[StreamInfo...]}
 * GET  /api/health                            RelayHealth (clients, memory budget, refusals)
 * GET  /streams/N.mjpg[?fps=F][&wait=1]      multipart/x-mixed-replace
 * GET  /streams/N.jpg                         newest frame
 * POST /streams/N  (or PUT)                   multipart JPEG body (ffmpeg -f mpjpeg)
 * GET  /ws  (Upgrade: websocket)              native protocol, one message per binary message
 * ```
 */
export function createHttpServer(relay: Relay, options: HttpServerOptions = {}): http.Server {
  const webRoot = path.resolve(options.webRoot ?? DEFAULT_WEB_ROOT);
  const files = new Map<string, Buffer>();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: relay.limits.maxFrameBytes + relay.limits.maxHeaderBytes,
  });
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    route(req, res).catch((err: unknown) => {
      const e = FramewireError.from(err, `HTTP ${req.method ?? '?'} route`);
      sendHttpError(res, e.code, e.message);
    });
  };
  // A client has twice the handshake timeout (10 s by default) for its request headers, checked every second,
  // so slow-header connections cannot pile up for Node's default minute.
  const httpOptions: http.ServerOptions = { headersTimeout: 2 * relay.handshakeTimeoutMs, connectionsCheckingInterval: 1000 };
  const server: http.Server = options.tls
    ? createHttpsServer(options.tls, relay.handshakeTimeoutMs, handler, httpOptions)
    : http.createServer(httpOptions, handler);
  // An MJPEG upload lasts as long as its source: no whole-request deadline (Node's default is 5 min).
  // Header timeouts still apply, so a client that never finishes its headers is dropped.
  server.requestTimeout = 0;
  server.on('clientError', (err: Error & { code?: string; rawPacket?: Buffer }, socket: Duplex) => answerClientError(err, socket));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const url = parseUrl(req);
    const refuse = (code: FramewireError['code'], message: string): void => {
      const status = httpStatusFor(code);
      const body = JSON.stringify({ error: { code, message } });
      socket.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    if (url.pathname !== '/ws') return refuse(ErrorCodes.NOT_FOUND, `no WebSocket endpoint at ${shown(url.pathname)}; use /ws`);
    const upgrade = (): void => {
      if (socket.destroyed) return;
      wss.handleUpgrade(req, socket, head, (ws) => relay.accept(new WsChannel(ws, socket, requestRemote(req), relay.limits)));
    };
    // A token on the upgrade request is checked here (valid, not expired); its stream and role are
    // checked against the hello, which must carry the token too (the web pages put it there).
    const token = requestToken(req, url);
    if (token === undefined) return upgrade();
    relay
      .checkToken(token)
      .then(upgrade, (err: unknown) => {
        const e = FramewireError.from(err, 'the WebSocket token check');
        refuse(e.code, e.message);
      })
      .catch(() => socket.destroy());
  });
  server.on('close', () => wss.close());

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = parseUrl(req);
    const p = url.pathname;
    const method = req.method ?? 'GET';
    const streamRoute = /^\/streams\/([^/]+?)(\.mjpg|\.jpg)?$/.exec(p);
    if (streamRoute) {
      const name = decodeSegment(streamRoute[1] as string);
      if (!STREAM_NAME.test(name)) throw new FramewireError(ErrorCodes.BAD_MESSAGE, `stream name "${shown(name)}" must match ${STREAM_NAME.source}`);
      const kind = streamRoute[2];
      const token = requestToken(req, url);
      if (kind === undefined) {
        if (method !== 'POST' && method !== 'PUT') return methodNotAllowed(res, 'POST, PUT');
        relay.accept(new MjpegIngestChannel(req, res, { stream: name, token, maxFrameBytes: relay.limits.maxFrameBytes, clock: relay.clock }));
        return;
      }
      if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
      if (kind === '.jpg') {
        await relay.checkToken(token, { stream: name, role: 'view' });
        return snapshot(res, name, method === 'HEAD');
      }
      const known = relay.streams().some((s) => s.name === name);
      if (!known && url.searchParams.get('wait') !== '1') {
        await relay.checkToken(token, { stream: name, role: 'view' });
        throw new FramewireError(ErrorCodes.NOT_FOUND, `no stream "${shown(name)}" on this relay (add ?wait=1 to wait for it)`);
      }
      const fpsParam = url.searchParams.get('fps');
      const fps = fpsParam === null ? undefined : Number(fpsParam);
      if (fps !== undefined && !(fps >= 0.1 && fps <= 1000)) throw new FramewireError(ErrorCodes.BAD_MESSAGE, `fps must be a number in [0.1, 1000], got "${shown(fpsParam ?? '')}"`);
      relay.accept(new MjpegViewerChannel(req, res, { stream: name, token, fps }));
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
    if (p === '/api/streams') {
      // A scoped token sees only the streams it names; the shared token (or no auth) sees all.
      const scope = await relay.checkToken(requestToken(req, url));
      return json(res, { streams: relay.streams().filter((s) => streamAllowed(scope.stream, s.name)), clients: relay.clientCount });
    }
    if (p === '/api/health') {
      // Relay-wide figures: for the shared token (or an open relay), or a token for every stream.
      const scope = await relay.checkToken(requestToken(req, url));
      if (scope.stream !== '*') throw new FramewireError(ErrorCodes.UNAUTHORIZED, 'this token is for one stream; /api/health needs the relay token or a token for every stream (--stream "*")');
      return json(res, relay.health());
    }
    return serveStatic(res, p, method === 'HEAD');
  }

  function snapshot(res: ServerResponse, name: string, headOnly: boolean): void {
    const frame = relay.latestFrame(name);
    if (!frame || frame.codec !== 'jpeg') throw new FramewireError(ErrorCodes.NOT_FOUND, `stream "${shown(name)}" has no frame yet`);
    res.writeHead(200, {
      'Content-Type': 'image/jpeg',
      'Content-Length': frame.data.length,
      'Cache-Control': 'no-store',
      'X-Timestamp': (frame.captureUs / 1e6).toFixed(6),
      'X-Frame-Seq': String(frame.seq),
      'Access-Control-Allow-Origin': '*',
    });
    res.end(headOnly ? undefined : frame.data);
  }

  async function serveStatic(res: ServerResponse, urlPath: string, headOnly: boolean): Promise<void> {
    const rel = PAGES[urlPath] ?? staticPath(urlPath);
    const file = path.resolve(webRoot, rel);
    if (!file.startsWith(webRoot + path.sep)) throw new FramewireError(ErrorCodes.NOT_FOUND, `no such file ${shown(urlPath)}`);
    let body = files.get(file);
    if (!body) {
      try {
        body = await readFile(file);
      } catch {
        throw new FramewireError(ErrorCodes.NOT_FOUND, `no such file ${shown(urlPath)}`);
      }
      if (files.size < MAX_CACHED_FILES) files.set(file, body);
    }
    res.writeHead(200, {
      'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
      'Content-Length': body.length,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(headOnly ? undefined : body);
  }

  return server;
}

/** At most 64 characters of a name a client sent, for an error message (never echo a peer's megabyte back). */
function shown(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
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
function answerClientError(err: Error & { code?: string; rawPacket?: Buffer }, socket: Duplex & { _httpMessage?: ServerResponse | null }): void {
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

/** A static path checked for traversal: no "..", no backslashes, no NUL, no hidden files. */
function staticPath(urlPath: string): string {
  const decoded = decodeSegment(urlPath);
  const segments = decoded.split('/').filter((s) => s.length > 0);
  if (segments.length === 0 || decoded.includes('\\') || decoded.includes('\0') || segments.some((s) => s.startsWith('.'))) {
    throw new FramewireError(ErrorCodes.NOT_FOUND, `no such file ${shown(urlPath)}`);
  }
  return segments.join('/');
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new FramewireError(ErrorCodes.BAD_MESSAGE, `bad percent-encoding in "${shown(s)}"`);
  }
}

function parseUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', 'http://relay.invalid');
  } catch {
    return new URL('http://relay.invalid/');
  }
}

function json(res: ServerResponse, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(200, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'Access-Control-Allow-Origin': '*',
  });
  res.end(body);
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  sendHttpError(res, ErrorCodes.BAD_MESSAGE, `method not allowed here; use ${allow}`, 405);
}
