import { readFile } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { ErrorCodes, FramewireError } from '../errors.js';
import { STREAM_NAME } from '../protocol/messages.js';
import { requestRemote, requestToken, sendHttpError, httpStatusFor } from '../transport/http-util.js';
import { MjpegIngestChannel } from '../transport/mjpeg-ingest.js';
import { MjpegViewerChannel } from '../transport/mjpeg.js';
import { WsChannel } from '../transport/ws.js';
import { streamAllowed } from './auth.js';
import type { HttpRelay } from './http-relay.js';

/** Options for {@link createHttpRoutes}. */
export interface HttpRoutesOptions {
  /** Directory of the built web UI. Default: the package's `dist/web`. */
  webRoot?: string;
}

/** The handlers an HTTP server hands its requests and upgrades to (see {@link createHttpRoutes}). */
export interface HttpRoutes {
  /** Answers one request. Never throws: an error becomes a JSON error response. */
  request(req: IncomingMessage, res: ServerResponse): void;
  /** Takes an `Upgrade: websocket` request: `/ws` becomes a relay session, anything else is refused. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes the WebSocket endpoint (call when the server closes). */
  close(): void;
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
 * The relay's HTTP routes: web UI (static files), JSON API, WebSocket endpoint
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
export function createHttpRoutes(relay: HttpRelay, options: HttpRoutesOptions = {}): HttpRoutes {
  const webRoot = path.resolve(options.webRoot ?? DEFAULT_WEB_ROOT);
  const files = new Map<string, Buffer>();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: relay.limits.maxFrameBytes + relay.limits.maxHeaderBytes,
  });
  const request = (req: IncomingMessage, res: ServerResponse): void => {
    route(req, res).catch((err: unknown) => {
      const e = FramewireError.from(err, `HTTP ${req.method ?? '?'} route`);
      sendHttpError(res, e.code, e.message);
    });
  };
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
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
    const accept = (): void => {
      if (socket.destroyed) return;
      wss.handleUpgrade(req, socket, head, (ws) => relay.accept(new WsChannel(ws, socket, requestRemote(req), relay.limits)));
    };
    // A token on the upgrade request is checked here (valid, not expired); its stream and role are
    // checked against the hello, which must carry the token too (the web pages put it there).
    const token = requestToken(req, url);
    if (token === undefined) return accept();
    relay
      .checkToken(token)
      .then(accept, (err: unknown) => {
        const e = FramewireError.from(err, 'the WebSocket token check');
        refuse(e.code, e.message);
      })
      .catch(() => socket.destroy());
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = parseUrl(req);
    const p = url.pathname;
    const method = req.method ?? 'GET';
    const streamRoute = /^\/streams\/([^/]+?)(\.mjpg|\.jpg)?$/.exec(p);
    if (streamRoute) {
      const name = decodeSegment(streamRoute[1] as string);
      if (!STREAM_NAME.test(name))
        throw new FramewireError(ErrorCodes.BAD_MESSAGE, `stream name "${shown(name)}" must match ${STREAM_NAME.source}`);
      const kind = streamRoute[2];
      const token = requestToken(req, url);
      if (kind === undefined) {
        if (method !== 'POST' && method !== 'PUT') return methodNotAllowed(res, 'POST, PUT');
        relay.accept(
          new MjpegIngestChannel(req, res, { stream: name, token, maxFrameBytes: relay.limits.maxFrameBytes, clock: relay.clock }),
        );
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
      if (fps !== undefined && !(fps >= 0.1 && fps <= 1000))
        throw new FramewireError(ErrorCodes.BAD_MESSAGE, `fps must be a number in [0.1, 1000], got "${shown(fpsParam ?? '')}"`);
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
      if (scope.stream !== '*')
        throw new FramewireError(
          ErrorCodes.UNAUTHORIZED,
          'this token is for one stream; /api/health needs the relay token or a token for every stream (--stream "*")',
        );
      return json(res, relay.health());
    }
    return serveStatic(res, p, method === 'HEAD');
  }

  function snapshot(res: ServerResponse, name: string, headOnly: boolean): void {
    const frame = relay.latestFrame(name);
    if (frame?.codec !== 'jpeg') throw new FramewireError(ErrorCodes.NOT_FOUND, `stream "${shown(name)}" has no frame yet`);
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

  return { request, upgrade, close: () => wss.close() };
}

/** At most 64 characters of a name a client sent, for an error message (never echo a peer's megabyte back). */
function shown(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
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
