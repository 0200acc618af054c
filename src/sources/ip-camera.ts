import http from 'node:http';
import https from 'node:https';
import { boundaryFromContentType, MultipartParser } from '../codec/multipart.js';
import { JpegSplitter, jpegSize } from '../codec/jpeg.js';
import { ErrorCodes, FramewireError } from '../errors.js';
import { nowUs, type Clock } from '../frame/clock.js';
import type { EncodedFrame, FrameSource } from '../frame/frame.js';
import { DropOldestQueue } from '../frame/queue.js';

/** Options for {@link ipCameraSource}. */
export interface IpCameraOptions {
  /**
   * For an MJPEG stream, the most frames per second passed on (extra frames
   * are skipped, never re-encoded); for a single-JPEG URL, the polling rate.
   * Default: MJPEG as sent; polling at 2 fps.
   */
  fps?: number;
  /** Reconnect with backoff after the first successful connection. Default true. */
  reconnect?: boolean;
  /** First and largest reconnect delay, ms. Default 250 and 5000. */
  backoffMs?: { initial: number; max: number };
  /** No byte for this long ends the connection (then it reconnects), ms. Default 10000. */
  idleTimeoutMs?: number;
  /** Largest JPEG accepted. Default 16 MiB. */
  maxFrameBytes?: number;
  /** Frames held for a slow consumer before the oldest is dropped. Default 2. */
  queueSize?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Accept any TLS certificate (cameras with self-signed ones). Default false. */
  insecure?: boolean;
  /** Called when a connection ends; `willRetry` says whether a reconnect follows. */
  onDisconnect?(reason: string, willRetry: boolean): void;
  /** Clock for capture stamps (µs). */
  clock?: Clock;
}

/** Counters of an {@link IpCameraSource}. */
export interface IpCameraStats {
  frames: number;
  /** Dropped because the consumer was slow. */
  dropped: number;
  /** Skipped to honour `fps`. */
  skipped: number;
  /** Parts that were not a readable JPEG. */
  bad: number;
  connects: number;
}

/** An HTTP(S) camera as a frame source. */
export interface IpCameraSource extends FrameSource {
  /** Resolves at the first frame (`info` then holds its size); rejects if the first connection fails. */
  readonly ready: Promise<void>;
  stats(): IpCameraStats;
}

/** The URL without credentials, and a Basic Authorization header from them. */
export function splitCredentials(url: string): { url: URL; authorization: string | undefined } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw FramewireError.badUrl(`not a URL: "${url}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw FramewireError.badUrl(`an IP camera URL must be http:// or https://, got "${u.protocol}"`);
  let authorization: string | undefined;
  if (u.username || u.password) {
    const creds = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
    authorization = `Basic ${Buffer.from(creds, 'utf8').toString('base64')}`;
    u.username = '';
    u.password = '';
  }
  return { url: u, authorization };
}

/**
 * A phone IP-webcam app, ustreamer, mjpg-streamer or a network camera over
 * HTTP(S). A `multipart/x-mixed-replace` stream is parsed natively and each
 * JPEG passed through as is; a URL answering one `image/jpeg` is polled at
 * `fps`. Credentials in the URL (`http://user:pass@host/`) become Basic
 * auth. After the first successful connection a lost stream reconnects with
 * exponential backoff; the first connection failing ends the source (and
 * rejects `ready`) with a coded error (FW_UNAUTHORIZED for 401/403).
 */
export function ipCameraSource(url: string, options: IpCameraOptions = {}): IpCameraSource {
  const { url: target, authorization } = splitCredentials(url);
  const fps = options.fps;
  if (fps !== undefined && (!Number.isFinite(fps) || fps < 0.1 || fps > 1000))
    throw new FramewireError(ErrorCodes.BAD_OPTION, `fps must be in [0.1, 1000], got ${fps}`);
  const clock = options.clock ?? nowUs;
  const maxFrameBytes = options.maxFrameBytes ?? 16 * 1024 * 1024;
  const idleMs = options.idleTimeoutMs ?? 10_000;
  const backoff = options.backoffMs ?? { initial: 250, max: 5000 };
  const counts: IpCameraStats = { frames: 0, dropped: 0, skipped: 0, bad: 0, connects: 0 };
  const queue = new DropOldestQueue<EncodedFrame>(options.queueSize ?? 2, () => counts.dropped++);
  const info = { width: 0, height: 0, fps: fps ?? 30 };
  const abort = new AbortController();
  const headers: Record<string, string> = {
    'user-agent': 'framewire',
    accept: 'multipart/x-mixed-replace, image/jpeg',
    ...options.headers,
  };
  if (authorization) headers.authorization = authorization;
  const desc = target.href;
  let seq = 0;
  let dueUs = 0;
  let closed = false;
  let resolveReady!: () => void;
  let rejectReady!: (e: unknown) => void;
  const ready = new Promise<void>((res, rej) => ((resolveReady = res), (rejectReady = rej)));
  ready.catch(() => undefined);

  /** Passes a JPEG on, honouring the fps cap; returns false if it was not a JPEG. */
  const emit = (data: Buffer, captureUs: number, cap: boolean): void => {
    const size = jpegSize(data);
    if (!size) {
      counts.bad++;
      return;
    }
    if (cap && fps !== undefined) {
      const interval = 1e6 / fps;
      // A quarter interval of slack absorbs network jitter.
      if (captureUs + interval / 4 < dueUs) {
        counts.skipped++;
        return;
      }
      dueUs = Math.max(dueUs + interval, captureUs);
    }
    counts.frames++;
    if (counts.frames === 1) {
      info.width = size.width;
      info.height = size.height;
      resolveReady();
    }
    queue.push({ seq: seq++ >>> 0, captureUs, width: size.width, height: size.height, codec: 'jpeg', key: true, data });
  };

  /** One HTTP request; resolves when the response ends, with whether it was a single JPEG. */
  const request = (): Promise<'stream-ended' | 'single'> =>
    new Promise((resolve, reject) => {
      const lib = target.protocol === 'https:' ? https : http;
      const req = lib.get(target, { headers, signal: abort.signal, rejectUnauthorized: !options.insecure }, (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          res.resume();
          const code = status === 401 || status === 403 ? ErrorCodes.UNAUTHORIZED : ErrorCodes.SOURCE_FAILED;
          return reject(new FramewireError(code, `${desc} answered HTTP ${status} ${res.statusMessage ?? ''}`.trim()));
        }
        counts.connects++;
        const type = res.headers['content-type'] ?? '';
        const fail = (err: unknown): void => {
          res.destroy();
          reject(err);
        };
        res.on('error', reject);
        let handle: ((chunk: Buffer, now: number) => void) | undefined;
        let pieces = 0;
        let ended: () => 'stream-ended' | 'single' = () => 'stream-ended';
        const multipart = (boundary: string): void => {
          const parser = new MultipartParser(boundary, { maxPartBytes: maxFrameBytes });
          handle = (chunk, now) => {
            for (const part of parser.push(chunk)) emit(part.body, now, true);
          };
        };
        const single = (): void => {
          const parts: Buffer[] = [];
          let bytes = 0;
          handle = (chunk) => {
            bytes += chunk.length;
            if (bytes > maxFrameBytes)
              throw new FramewireError(ErrorCodes.FRAME_TOO_LARGE, `${desc}: JPEG larger than ${maxFrameBytes} bytes`);
            parts.push(chunk);
          };
          ended = () => {
            emit(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts), clock(), false);
            return 'single';
          };
        };
        const boundary = boundaryFromContentType(type);
        if (boundary) multipart(boundary);
        else if (/^image\/jpe?g/i.test(type)) single();
        else {
          // Mislabelled (ffmpeg's HTTP server says application/octet-stream): sniff the body.
          let head = Buffer.alloc(0);
          handle = (chunk, now) => {
            head = Buffer.concat([head, chunk]);
            const text = head.subarray(0, 2).toString('latin1');
            if (text === '--') {
              const eol = head.indexOf(0x0a);
              if (eol < 0) {
                if (head.length > 256) throw FramewireError.sourceFailed(`${desc}: no multipart boundary line`);
                return;
              }
              multipart(head.subarray(0, eol).toString('latin1').trim());
            } else if (head[0] === 0xff && (head.length < 2 || head[1] === 0xd8)) {
              if (head.length < 2) return;
              // Bare JPEGs back to back, or one JPEG: split at markers.
              const splitter = new JpegSplitter({ maxFrameBytes });
              handle = (c, t) => {
                for (const jpg of splitter.push(c)) {
                  pieces++;
                  emit(jpg, t, true);
                }
              };
              ended = () => (pieces === 1 ? 'single' : 'stream-ended');
            } else {
              throw FramewireError.sourceFailed(`${desc} sent "${type || 'no content type'}", neither multipart MJPEG nor JPEG`);
            }
            // `handle` is now the real body handler: give it what was sniffed.
            handle?.(head, now);
          };
        }
        res.on('data', (chunk: Buffer) => {
          try {
            handle?.(chunk, clock());
          } catch (err) {
            fail(err);
          }
        });
        res.on('end', () => resolve(ended()));
      });
      req.setTimeout(idleMs, () => req.destroy(FramewireError.timeout(`${desc}: no data for ${idleMs} ms`)));
      req.on('error', (err) => reject(err));
    });

  const run = async (): Promise<void> => {
    let attempt = 0;
    let connectedOnce = false;
    let nextPollUs = 0;
    while (!closed) {
      let reason: string;
      let fatal = false;
      const connectsBefore = counts.connects;
      try {
        const kind = await request();
        connectedOnce = true;
        attempt = 0;
        if (kind === 'single') {
          // Poll on an absolute schedule; skip missed polls rather than bursting.
          const interval = 1e6 / (fps ?? 2);
          const now = clock();
          nextPollUs = Math.max(nextPollUs + interval, now);
          await sleep((nextPollUs - now) / 1000, abort.signal);
          continue;
        }
        reason = `${desc}: the stream ended`;
      } catch (err) {
        if (closed) break;
        if (counts.connects > connectsBefore) connectedOnce = true;
        const coded = toCoded(err, desc);
        reason = coded.message;
        fatal = !connectedOnce || coded.code === ErrorCodes.UNAUTHORIZED || options.reconnect === false;
        if (fatal) {
          rejectReady(coded);
          options.onDisconnect?.(reason, false);
          queue.fail(coded);
          return;
        }
      }
      if (counts.connects > connectsBefore) {
        connectedOnce = true;
        attempt = 0;
      }
      if (options.reconnect === false) {
        options.onDisconnect?.(reason, false);
        break;
      }
      options.onDisconnect?.(reason, true);
      const delay = Math.min(backoff.max, backoff.initial * 2 ** Math.min(attempt++, 16));
      await sleep(delay * (0.75 + Math.random() * 0.5), abort.signal).catch(() => undefined);
    }
    rejectReady(FramewireError.aborted('source closed'));
    queue.close();
  };
  void run();

  const source: IpCameraSource = {
    info,
    ready,
    stats: () => ({ ...counts }),
    close(): void {
      if (closed) return;
      closed = true;
      abort.abort();
      queue.close();
    },
    [Symbol.asyncIterator](): AsyncIterator<EncodedFrame> {
      const it = queue[Symbol.asyncIterator]();
      return {
        next: () => (closed ? Promise.resolve({ value: undefined, done: true }) : it.next()),
        return: async () => {
          source.close();
          return { value: undefined, done: true };
        },
      };
    },
  };
  return source;
}

function toCoded(err: unknown, desc: string): FramewireError {
  if (err instanceof FramewireError) return err;
  const e = err as NodeJS.ErrnoException;
  return FramewireError.sourceFailed(`${desc}: ${e.code ? `${e.code} ` : ''}${e.message ?? String(err)}`, err);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
