import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { JpegSplitter, jpegSize } from '../codec/jpeg.js';
import { ErrorCodes, FramewireError } from '../errors.js';
import { nowUs, type Clock } from '../frame/clock.js';
import type { EncodedFrame, FrameSource } from '../frame/frame.js';
import { ffmpegArgs, isLiveInput, type FfmpegInput, type FfmpegOutputOptions } from './ffmpeg-args.js';
import { ffmpegErrorLine, findFfmpeg, trackChild } from './ffmpeg-process.js';

/** The subset of `child_process.spawn` a source needs; inject a fake in tests. */
export type SpawnLike = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

/** Options for {@link ffmpegSource}. */
export interface FfmpegSourceOptions extends FfmpegOutputOptions {
  /** What ffmpeg reads. */
  input: FfmpegInput;
  /**
   * Live: when the consumer is slow the oldest queued frame is dropped (and
   * counted). Not live (files): ffmpeg is paused instead, so no frame is lost.
   * Default: true except for files.
   */
  live?: boolean;
  /** Frames held for a slow consumer. Default 2 when live, 8 otherwise. */
  queueSize?: number;
  /** The ffmpeg binary. Default: `FFMPEG_PATH`, then `PATH`. */
  ffmpegPath?: string;
  /** Largest JPEG accepted from ffmpeg. Default 32 MiB. */
  maxFrameBytes?: number;
  /** Grace period between SIGTERM and SIGKILL on close, ms. Default 2000. */
  killTimeoutMs?: number;
  /** Clock for capture stamps (µs). */
  clock?: Clock;
  /** Platform to build arguments for. Default `process.platform`. */
  platform?: string;
  /** Environment (FFMPEG_PATH, PATH, DISPLAY). Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Process spawner. Default `child_process.spawn`. */
  spawn?: SpawnLike;
}

/** Counters of an {@link FfmpegSource}. */
export interface FfmpegSourceStats {
  /** JPEGs read from ffmpeg. */
  frames: number;
  /** Frames dropped because the consumer was slow (live only). */
  dropped: number;
  /** Pieces of the MJPEG stream that were not a readable JPEG. */
  bad: number;
}

/** A frame source backed by one ffmpeg child writing MJPEG to a pipe. */
export interface FfmpegSource extends FrameSource {
  /**
   * Resolves when the first frame arrived (`info` then holds its real size);
   * rejects with ffmpeg's error (FW_FFMPEG_FAILED) if it fails first.
   */
  readonly ready: Promise<void>;
  /** Resolves once the ffmpeg child has exited and been reaped. */
  readonly exited: Promise<void>;
  /** The child's process id (undefined if it could not start). */
  readonly pid: number | undefined;
  /** The ffmpeg command line, for logs. */
  readonly args: readonly string[];
  /** Counters so far. */
  stats(): FfmpegSourceStats;
}

const STDERR_TAIL = 16 * 1024;

/**
 * Runs ffmpeg on `input` and yields the JPEGs it writes, passed through
 * untouched: no raw pixel crosses into JavaScript. Width and height come
 * from each JPEG's SOF; the capture time is when the picture's last byte
 * left ffmpeg. The child is killed and reaped on every path: `close()`, the
 * end of iteration, ffmpeg's own end or error, and this process's exit or a
 * SIGINT/SIGTERM/SIGHUP. If this process dies without running any handler
 * (kill -9), ffmpeg exits at its next write to the closed stdout pipe.
 *
 * Throws FW_FFMPEG_NOT_FOUND (with install instructions) if ffmpeg is missing.
 *
 * @example
 * ```ts
 * const src = ffmpegSource({ input: { kind: 'file', path: 'clip.mp4', loop: true }, width: 1280, height: 720, fps: 30 });
 * await src.ready;
 * for await (const frame of src) console.log(frame.seq, frame.width, frame.height, frame.data.length);
 * ```
 */
export function ffmpegSource(options: FfmpegSourceOptions): FfmpegSource {
  const o = checkOptions(options);
  const platform = options.platform ?? process.platform;
  const env = options.env ?? process.env;
  const args = ffmpegArgs(options.input, o, platform, env);
  const bin = options.ffmpegPath ?? findFfmpeg(env, platform);
  const live = options.live ?? isLiveInput(options.input);
  const capacity = options.queueSize ?? (live ? 2 : 8);
  const clock = options.clock ?? nowUs;
  const splitter = new JpegSplitter({ maxFrameBytes: options.maxFrameBytes ?? 32 * 1024 * 1024 });
  const info = { width: o.width ?? 0, height: o.height ?? 0, fps: o.fps ?? 30 };
  const counts: FfmpegSourceStats = { frames: 0, dropped: 0, bad: 0 };

  const items: EncodedFrame[] = [];
  let waiter: { resolve: (r: IteratorResult<EncodedFrame>) => void; reject: (e: unknown) => void } | undefined;
  let closed = false;
  let ended = false;
  let error: FramewireError | undefined;
  let exitedFlag = false;
  let stderr = '';
  let seq = 0;
  let paused = false;
  let killTimer: NodeJS.Timeout | undefined;

  let resolveReady!: () => void;
  let rejectReady!: (e: unknown) => void;
  const ready = new Promise<void>((res, rej) => ((resolveReady = res), (rejectReady = rej)));
  ready.catch(() => undefined);
  let resolveExited!: () => void;
  const exited = new Promise<void>((res) => (resolveExited = res));

  const child = (options.spawn ?? spawn)(bin, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    // Own process group on POSIX: a terminal's Ctrl-C reaches only this
    // process, which then stops ffmpeg itself (so ffmpeg's exit is never
    // mistaken for a failure).
    detached: platform !== 'win32',
    windowsHide: true,
  });
  trackChild(child);
  // stdin stays an open pipe: ffmpeg never reads the terminal, and the pipe closes when we die.
  child.stdin?.on('error', () => undefined);

  const settle = (): void => {
    if (!waiter) return;
    const w = waiter;
    const item = items.shift();
    if (item !== undefined) {
      waiter = undefined;
      w.resolve({ value: item, done: false });
    } else if (closed || (ended && !error)) {
      waiter = undefined;
      w.resolve({ value: undefined, done: true });
    } else if (error) {
      waiter = undefined;
      w.reject(error);
    }
  };

  const finish = (err: FramewireError | undefined): void => {
    if (ended) return;
    ended = true;
    error = err;
    if (err) rejectReady(err);
    else rejectReady(FramewireError.sourceFailed(`ffmpeg ended without a frame${stderr ? `: ${ffmpegErrorLine(stderr)}` : ''}`));
    settle();
  };

  const kill = (): void => {
    if (exitedFlag) return;
    // Keep reading so a paused ffmpeg is not stuck in write() when the signal lands.
    child.stdout?.resume();
    child.kill('SIGTERM');
    killTimer ??= setTimeout(() => child.kill('SIGKILL'), options.killTimeoutMs ?? 2000);
  };

  child.stdout?.on('data', (chunk: Buffer) => {
    if (closed || ended) return;
    const captureUs = clock();
    let pictures: Buffer[];
    try {
      pictures = splitter.push(chunk);
    } catch (err) {
      finish(FramewireError.sourceFailed(`bad MJPEG from ffmpeg: ${(err as Error).message}`, err));
      kill();
      return;
    }
    for (const data of pictures) {
      const size = jpegSize(data);
      if (!size) {
        counts.bad++;
        continue;
      }
      counts.frames++;
      const frame: EncodedFrame = { seq: seq++ >>> 0, captureUs, width: size.width, height: size.height, codec: 'jpeg', key: true, data };
      if (counts.frames === 1) {
        info.width = size.width;
        info.height = size.height;
        resolveReady();
      }
      // Live: the newest frame wins. Not live: never drop; one chunk may overfill
      // the queue by the few frames it holds, then ffmpeg is paused below.
      if (live && items.length >= capacity) {
        items.shift();
        counts.dropped++;
      }
      items.push(frame);
    }
    settle();
    if (!live && items.length >= capacity && !paused) {
      paused = true;
      child.stdout?.pause();
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    if (stderr.length > STDERR_TAIL) stderr = stderr.slice(-STDERR_TAIL);
  });
  child.on('error', (err: NodeJS.ErrnoException) => {
    const code = err.code === 'ENOENT' ? ErrorCodes.FFMPEG_NOT_FOUND : ErrorCodes.SOURCE_FAILED;
    finish(new FramewireError(code, `cannot run ${bin}: ${err.message}`, { cause: err }));
    if (child.pid === undefined) {
      exitedFlag = true;
      resolveExited();
    }
  });
  child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
    exitedFlag = true;
    clearTimeout(killTimer);
    resolveExited();
    if (closed || code === 0) finish(undefined);
    else finish(new FramewireError(ErrorCodes.FFMPEG_FAILED, ffmpegErrorLine(stderr, { code, signal })));
  });

  const source: FfmpegSource = {
    info,
    ready,
    exited,
    pid: child.pid,
    args,
    stats: () => ({ ...counts }),
    close(): void {
      if (closed) return;
      closed = true;
      items.length = 0;
      rejectReady(FramewireError.aborted('source closed'));
      settle();
      kill();
    },
    [Symbol.asyncIterator](): AsyncIterator<EncodedFrame> {
      return {
        next(): Promise<IteratorResult<EncodedFrame>> {
          if (waiter) return Promise.reject(new FramewireError(ErrorCodes.BAD_OPTION, 'an ffmpeg source has one reader at a time'));
          const p = new Promise<IteratorResult<EncodedFrame>>((resolve, reject) => (waiter = { resolve, reject }));
          settle();
          if (paused && items.length < capacity && !closed) {
            paused = false;
            child.stdout?.resume();
          }
          return p;
        },
        return: async () => {
          source.close();
          return { value: undefined, done: true };
        },
      };
    },
  };
  return source;
}

function checkOptions(o: FfmpegSourceOptions): FfmpegOutputOptions {
  const out: FfmpegOutputOptions = {};
  const int = (v: number | undefined, name: 'width' | 'height', min: number, max: number): void => {
    if (v === undefined) return;
    if (!Number.isInteger(v) || v < min || v > max)
      throw new FramewireError(ErrorCodes.BAD_OPTION, `${name} must be an integer in [${min}, ${max}], got ${v}`);
    out[name] = v;
  };
  int(o.width, 'width', 16, 16384);
  int(o.height, 'height', 16, 16384);
  if ((out.width === undefined) !== (out.height === undefined))
    throw new FramewireError(ErrorCodes.BAD_OPTION, 'give both width and height, or neither');
  if (o.fps !== undefined) {
    if (!Number.isFinite(o.fps) || o.fps < 0.1 || o.fps > 1000)
      throw new FramewireError(ErrorCodes.BAD_OPTION, `fps must be in [0.1, 1000], got ${o.fps}`);
    out.fps = o.fps;
  }
  if (o.quality !== undefined) {
    if (!Number.isFinite(o.quality) || o.quality < 1 || o.quality > 100)
      throw new FramewireError(ErrorCodes.BAD_OPTION, `quality must be in [1, 100], got ${o.quality}`);
    out.quality = o.quality;
  }
  return out;
}
