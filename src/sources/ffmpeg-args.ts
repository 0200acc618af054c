import { ErrorCodes, FramewireError } from '../errors.js';

/**
 * Pure ffmpeg argument building, per platform. No I/O: every function takes
 * the platform and environment it builds for, so one machine can test them
 * all.
 */

/** What ffmpeg reads. */
export type FfmpegInput =
  /** A webcam: `device` is an index ("0"), a path ("/dev/video2") or, on Windows/macOS, a device name. */
  | { kind: 'camera'; device?: string }
  /** The screen: an X display (":0", ":1.0+100,200"), a macOS screen index, or a gdigrab target ("desktop", "title=…"). */
  | { kind: 'screen'; display?: string }
  /** A video file: paced in real time unless `realtime` is false; `loop` repeats it forever. */
  | { kind: 'file'; path: string; loop?: boolean; realtime?: boolean }
  /** A network stream ffmpeg opens itself: `rtsp://`, `rtmp://`, `srt://`, … */
  | { kind: 'url'; url: string }
  /** Any input arguments, e.g. `['-f', 'lavfi', '-i', 'testsrc2']`. */
  | { kind: 'args'; args: readonly string[]; live?: boolean };

/** What ffmpeg writes: MJPEG, at this size, rate and quality. */
export interface FfmpegOutputOptions {
  /** Output width; with `height`, a scale filter. Default: the input's. */
  width?: number;
  /** Output height. */
  height?: number;
  /** Frames per second: the capture rate for devices, an fps filter otherwise. Default: the input's. */
  fps?: number;
  /** JPEG quality 1–100 (mapped to ffmpeg's q:v 31–2). Default 75. */
  quality?: number;
}

/** Platforms with a capture backend. */
export type CapturePlatform = 'linux' | 'darwin' | 'win32';

/** Maps JPEG quality 1–100 to ffmpeg's mjpeg `-q:v` 31 (worst) … 2 (best). */
export function qualityToQscale(quality: number): number {
  const q = Math.min(100, Math.max(1, quality));
  return Math.round(31 - ((q - 1) * 29) / 99);
}

/** True for inputs that produce frames in real time (drop, never queue, when the consumer is slow). */
export function isLiveInput(input: FfmpegInput): boolean {
  if (input.kind === 'file') return false;
  if (input.kind === 'args') return input.live ?? true;
  return true;
}

function capturePlatform(platform: string): CapturePlatform {
  if (platform === 'linux' || platform === 'darwin' || platform === 'win32') return platform;
  if (platform === 'freebsd' || platform === 'openbsd') return 'linux';
  throw new FramewireError(ErrorCodes.BAD_OPTION, `no camera or screen capture backend for platform "${platform}"`);
}

function deviceOptions(o: FfmpegOutputOptions, withSize: boolean): string[] {
  const a: string[] = [];
  if (o.fps !== undefined) a.push('-framerate', String(o.fps));
  if (withSize && o.width !== undefined && o.height !== undefined) a.push('-video_size', `${o.width}x${o.height}`);
  return a;
}

/** Input arguments for a camera on `platform`. */
export function cameraArgs(device: string | undefined, o: FfmpegOutputOptions, platform: string): string[] {
  const p = capturePlatform(platform);
  const d = device === undefined || device === '' ? undefined : device;
  switch (p) {
    case 'linux': {
      const path = d === undefined ? '/dev/video0' : /^\d+$/.test(d) ? `/dev/video${d}` : d;
      return ['-f', 'v4l2', ...deviceOptions(o, true), '-i', path];
    }
    case 'darwin':
      // avfoundation insists on a frame rate the camera supports; 30 is the common one.
      return [
        '-f',
        'avfoundation',
        '-framerate',
        String(o.fps ?? 30),
        ...deviceOptions({ ...o, fps: undefined }, true),
        '-i',
        `${d ?? 'default'}:none`,
      ];
    case 'win32':
      if (d === undefined || /^\d+$/.test(d)) {
        throw new FramewireError(
          ErrorCodes.BAD_OPTION,
          'on Windows a camera is chosen by name: --source "camera:Integrated Camera"; list them with: ffmpeg -list_devices true -f dshow -i dummy',
        );
      }
      return ['-f', 'dshow', ...deviceOptions(o, true), '-i', `video=${d}`];
  }
}

/** Input arguments for screen capture on `platform`; `env` supplies DISPLAY on X11. */
export function screenArgs(
  display: string | undefined,
  o: FfmpegOutputOptions,
  platform: string,
  env: Record<string, string | undefined> = {},
): string[] {
  const p = capturePlatform(platform);
  const d = display === undefined || display === '' ? undefined : display;
  switch (p) {
    case 'linux': {
      // "99" and "99.0" mean the X display ":99".
      const x = d !== undefined && /^\d+(\.\d+)?$/.test(d) ? `:${d}` : d;
      return ['-f', 'x11grab', '-draw_mouse', '1', ...deviceOptions(o, false), '-i', x ?? env.DISPLAY ?? ':0'];
    }
    case 'darwin': {
      const name = d === undefined ? 'Capture screen 0' : /^\d+$/.test(d) ? `Capture screen ${d}` : d;
      return ['-f', 'avfoundation', '-capture_cursor', '1', '-framerate', String(o.fps ?? 30), '-i', `${name}:none`];
    }
    case 'win32':
      return ['-f', 'gdigrab', '-draw_mouse', '1', ...deviceOptions(o, false), '-i', d ?? 'desktop'];
  }
}

/** Input arguments for any {@link FfmpegInput}. */
export function inputArgs(
  input: FfmpegInput,
  o: FfmpegOutputOptions,
  platform: string,
  env: Record<string, string | undefined> = {},
): string[] {
  switch (input.kind) {
    case 'camera':
      return cameraArgs(input.device, o, platform);
    case 'screen':
      return screenArgs(input.display, o, platform, env);
    case 'file':
      return [...(input.realtime === false ? [] : ['-re']), ...(input.loop ? ['-stream_loop', '-1'] : []), '-i', input.path];
    case 'url': {
      const rtsp = /^rtsps?:/i.test(input.url);
      // Low-delay demuxing; RTSP over TCP (no loss on busy links) with a 5 s I/O timeout, so a dead camera ends the source.
      return [
        '-fflags',
        'nobuffer',
        '-flags',
        'low_delay',
        ...(rtsp ? ['-rtsp_transport', 'tcp', '-timeout', '5000000'] : ['-rw_timeout', '5000000']),
        '-i',
        input.url,
      ];
    }
    case 'args':
      return [...input.args];
  }
}

/** True if the fps is applied by the capture device itself rather than a filter. */
function deviceRate(input: FfmpegInput): boolean {
  return input.kind === 'camera' || input.kind === 'screen';
}

/**
 * The whole ffmpeg command line (without the program): quiet logging, the
 * input, then MJPEG on stdout, one whole JPEG written per packet.
 */
export function ffmpegArgs(
  input: FfmpegInput,
  o: FfmpegOutputOptions = {},
  platform: string = process.platform,
  env: Record<string, string | undefined> = {},
): string[] {
  const filters: string[] = [];
  if (o.fps !== undefined && !deviceRate(input)) filters.push(`fps=${o.fps}`);
  if (o.width !== undefined && o.height !== undefined) filters.push(`scale=${o.width}:${o.height}`);
  return [
    '-hide_banner',
    '-nostats',
    '-loglevel',
    'error',
    ...inputArgs(input, o, platform, env),
    '-an',
    '-sn',
    '-dn',
    ...(filters.length > 0 ? ['-vf', filters.join(',')] : []),
    '-pix_fmt',
    'yuvj420p',
    '-c:v',
    'mjpeg',
    '-q:v',
    String(qualityToQscale(o.quality ?? 75)),
    '-flush_packets',
    '1',
    '-f',
    'mjpeg',
    'pipe:1',
  ];
}
