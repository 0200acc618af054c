import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ErrorCodes, FramewireError } from '../index.js';
import { DEFAULT_HTTP_PORT } from './serve.js';

/**
 * The browser viewer page for a stream URL:
 * - `http(s)://H:P/view?stream=N`, `http://H:P/streams/N.mjpg`, `http://H:P/N` → `http://H:P/view?stream=N`
 * - `ws(s)://H:P/[prefix/]N` → `http(s)://H:P/[prefix/]view?stream=N` (the same HTTP port)
 * - `tcp://H:P/N` → `http://H:HTTP/view?stream=N` (the relay's HTTP port, default 8080); `tls://…` → `https://…`
 * A token in the URL (`?token=`) or given separately is carried over.
 */
export function viewerPageUrl(input: string, httpPort = DEFAULT_HTTP_PORT, token?: string): string {
  let u: URL;
  try {
    u = new URL(input);
  } catch {
    throw new FramewireError(ErrorCodes.BAD_URL, `"${input}" is not a URL; expected http://HOST:PORT/STREAM or tcp://HOST:PORT/STREAM`);
  }
  let stream = u.searchParams.get('stream');
  let base: string;
  if (u.protocol === 'ws:' || u.protocol === 'wss:') {
    // ws(s)://H:P/[prefix/]N: the pages live next to the /ws endpoint, on the same HTTP port.
    const i = u.pathname.lastIndexOf('/');
    stream ??= decodeURIComponent(u.pathname.slice(i + 1)) || null;
    base = `${u.protocol === 'wss:' ? 'https:' : 'http:'}//${u.host}${u.pathname.slice(0, i)}`;
  } else {
    if (!stream) {
      const m = /^\/(?:streams\/)?([^/]+?)(?:\.mjpg|\.jpg)?$/.exec(u.pathname);
      stream = m ? decodeURIComponent(m[1] as string) : null;
    }
    if (u.protocol === 'http:' || u.protocol === 'https:') base = `${u.protocol}//${u.host}`;
    else if (u.protocol === 'tcp:' || u.protocol === 'tls:')
      base = `${u.protocol === 'tls:' ? 'https' : 'http'}://${u.hostname || '127.0.0.1'}:${httpPort}`;
    else throw new FramewireError(ErrorCodes.BAD_URL, `unsupported scheme "${u.protocol}" in ${input}`);
  }
  if (!stream) throw new FramewireError(ErrorCodes.BAD_URL, `no stream name in ${input}`);
  const t = token ?? u.searchParams.get('token') ?? undefined;
  return `${base}/view?stream=${encodeURIComponent(stream)}${t ? `&token=${encodeURIComponent(t)}` : ''}`;
}

/** The platform's "open this URL" command, if one is installed. */
function opener(): { cmd: string; args: string[] } | undefined {
  if (process.platform === 'darwin') return { cmd: 'open', args: [] };
  if (process.platform === 'win32') return { cmd: 'cmd', args: ['/c', 'start', '""'] };
  const dirs = (process.env.PATH ?? '').split(path.delimiter);
  for (const cmd of ['xdg-open', 'sensible-browser', 'x-www-browser']) {
    if (dirs.some((d) => d && existsSync(path.join(d, cmd)))) return { cmd, args: [] };
  }
  return undefined;
}

/** Opens `url` in the desktop browser (detached); returns false if no opener exists (the caller prints the URL). */
export function openInBrowser(url: string): boolean {
  const o = opener();
  if (!o) return false;
  try {
    const child = spawn(o.cmd, [...o.args, url], { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}
