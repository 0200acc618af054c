import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { ErrorCodes, FramewireError } from '../errors.js';
import type { EncodedFrame } from '../frame/frame.js';
import { ffmpegErrorLine, findTool, trackChild } from '../sources/ffmpeg-process.js';

/** Where received frames go: a player window or a file. */
export interface FrameSink {
  /** Hands a frame over; never blocks. Frames the sink cannot take now are dropped (player) or queued up to a limit (recorder). */
  write(frame: EncodedFrame): void;
  /** Frames handed to the player or file. */
  readonly written: number;
  /** Frames dropped: the player was behind (latest-frame-wins), or the recorder's backlog hit its limit. */
  readonly dropped: number;
  /** Settles when the sink has ended: the player window was closed, or the file is complete. Rejects with ffmpeg's error. */
  readonly done: Promise<void>;
  /** Ends the input and waits for the player or the file to finish (killed after `timeoutMs`, default 5 s). */
  close(timeoutMs?: number): Promise<void>;
}

/** Options for {@link playerSink}. */
export interface PlayerSinkOptions {
  /** Window title. */
  title?: string;
  /** Environment to find ffplay in and run it with (DISPLAY…). Default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** Options for {@link recorderSink}. */
export interface RecorderSinkOptions {
  /** Most bytes waiting for the file before frames are dropped (a slow disk). Default 64 MiB. */
  maxBacklogBytes?: number;
  env?: Record<string, string | undefined>;
}

/**
 * A live window: ffplay reading MJPEG from a pipe, with its input buffering
 * off. Latest-frame-wins into the pipe: while ffplay has not taken the last
 * frame, newer ones replace the one waiting, so a slow display never delays
 * the picture. Closing the window ends `done`.
 */
export function playerSink(options: PlayerSinkOptions = {}): FrameSink {
  const env = options.env ?? process.env;
  const bin = findTool('ffplay', env);
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostats',
    '-fflags',
    'nobuffer',
    '-flags',
    'low_delay',
    '-framedrop',
    '-probesize',
    '32',
    '-analyzeduration',
    '0',
    '-sync',
    'ext',
    '-autoexit',
    '-window_title',
    options.title ?? 'framewire',
    '-f',
    'mjpeg',
    '-i',
    'pipe:0',
  ];
  const child = spawn(bin, args, { stdio: ['pipe', 'ignore', 'pipe'], env: env as NodeJS.ProcessEnv, windowsHide: false });
  trackChild(child);
  return new PipeSink(child, 'ffplay', { latestWins: true, maxBacklogBytes: 0, anyQuietExitIsNormal: true });
}

/**
 * Records received frames to `file` without re-encoding: `.mjpeg`/`.mjpg`
 * as concatenated JPEGs written directly; any other extension (`.mkv`,
 * `.avi`, `.mov`, `.mp4`) through ffmpeg (`-c:v copy`, arrival times as
 * timestamps, so a variable frame rate plays at the speed it arrived).
 * Nothing is dropped unless the file falls `maxBacklogBytes` behind.
 * `close()` finishes the file (ffmpeg writes its trailer).
 */
export function recorderSink(file: string, options: RecorderSinkOptions = {}): FrameSink {
  const maxBacklogBytes = options.maxBacklogBytes ?? 64 * 1024 * 1024;
  if (/\.mjpe?g$/i.test(file)) return new FileSink(createWriteStream(file), maxBacklogBytes);
  const env = options.env ?? process.env;
  const bin = findTool('ffmpeg', env);
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'mjpeg',
    '-probesize',
    '32',
    '-analyzeduration',
    '0',
    '-fflags',
    'nobuffer',
    '-use_wallclock_as_timestamps',
    '1',
    '-i',
    'pipe:0',
    '-c:v',
    'copy',
    file,
  ];
  const child = spawn(bin, args, { stdio: ['pipe', 'ignore', 'pipe'], env: env as NodeJS.ProcessEnv });
  // SIGTERM, not SIGKILL, if we are killed: ffmpeg then still writes the file's trailer.
  trackChild(child, 'SIGTERM');
  return new PipeSink(child, 'ffmpeg', { latestWins: false, maxBacklogBytes });
}

/** JPEGs into a child's stdin. */
class PipeSink implements FrameSink {
  written = 0;
  dropped = 0;
  readonly done: Promise<void>;
  private waiting: EncodedFrame | undefined;
  private ended = false;
  private stderr = '';

  constructor(
    private readonly child: ChildProcess,
    name: string,
    private readonly o: { latestWins: boolean; maxBacklogBytes: number; anyQuietExitIsNormal?: boolean },
  ) {
    const stdin = child.stdin as NodeJS.WritableStream & { writableNeedDrain: boolean; writableLength: number };
    stdin.on('error', () => undefined); // EPIPE when the player window was closed: `done` says so
    stdin.on('drain', () => {
      const f = this.waiting;
      this.waiting = undefined;
      if (f) this.write(f);
    });
    child.stderr?.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-8000)));
    this.done = new Promise<void>((resolve, reject) => {
      child.once('error', (err) =>
        reject(new FramewireError(ErrorCodes.FFMPEG_FAILED, `${name} could not start: ${err.message}`, { cause: err })),
      );
      child.once('close', (code, signal) => {
        this.ended = true;
        // Closed window, end of input, or our own stop: all normal ends. (ffplay exits 123 on SIGTERM, 0 when its window is closed.)
        const quiet = this.stderr.trim() === '';
        if (code === 0 || signal === 'SIGTERM' || signal === 'SIGKILL' || (quiet && (code === 255 || o.anyQuietExitIsNormal))) resolve();
        else reject(new FramewireError(ErrorCodes.FFMPEG_FAILED, ffmpegErrorLine(this.stderr, { code, signal }).replace(/^ffmpeg/, name)));
      });
    });
    this.done.catch(() => undefined);
  }

  write(frame: EncodedFrame): void {
    if (this.ended) return;
    const stdin = this.child.stdin as NodeJS.WritableStream & { writableNeedDrain: boolean; writableLength: number };
    if (this.o.latestWins && stdin.writableNeedDrain) {
      if (this.waiting) this.dropped++;
      this.waiting = frame;
      return;
    }
    if (!this.o.latestWins && stdin.writableLength > this.o.maxBacklogBytes) {
      this.dropped++;
      return;
    }
    stdin.write(frame.data);
    this.written++;
  }

  async close(timeoutMs = 5000): Promise<void> {
    if (!this.ended) {
      this.child.stdin?.end();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      timer.unref();
      try {
        await this.done;
      } finally {
        clearTimeout(timer);
      }
    }
    return this.done;
  }
}

/** JPEGs appended to a file (MJPEG elementary stream). */
class FileSink implements FrameSink {
  written = 0;
  dropped = 0;
  readonly done: Promise<void>;
  private closing = false;

  constructor(
    private readonly out: WriteStream,
    private readonly maxBacklogBytes: number,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      out.once('error', (err) =>
        reject(new FramewireError(ErrorCodes.BAD_OPTION, `cannot write ${String(out.path)}: ${err.message}`, { cause: err })),
      );
      out.once('close', () => resolve());
    });
    this.done.catch(() => undefined);
  }

  write(frame: EncodedFrame): void {
    if (this.closing || this.out.destroyed) return;
    if (this.out.writableLength > this.maxBacklogBytes) {
      this.dropped++;
      return;
    }
    this.out.write(frame.data);
    this.written++;
  }

  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.out.end();
    }
    return this.done;
  }
}
