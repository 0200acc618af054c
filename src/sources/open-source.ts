import { existsSync } from 'node:fs';
import { ErrorCodes, FramewireError } from '../errors.js';
import type { FrameSource } from '../frame/frame.js';
import type { FfmpegInput } from './ffmpeg-args.js';
import { ffmpegSource } from './ffmpeg.js';
import { ipCameraSource } from './ip-camera.js';
import { testPattern } from './test-pattern.js';

/** A source spec, parsed. */
export type SourceSpec =
  | { kind: 'test' }
  | { kind: 'camera'; device?: string }
  | { kind: 'screen'; display?: string }
  | { kind: 'http'; url: string }
  | { kind: 'url'; url: string }
  | { kind: 'file'; path: string };

/** Options for {@link openSource}. */
export interface OpenSourceOptions {
  /** Output size. Default: the test pattern's 1280x720; other sources keep their own size. */
  width?: number;
  height?: number;
  /** Frames per second (capture rate, fps filter, IP-camera cap or poll rate). */
  fps?: number;
  /** JPEG quality 1–100 (IP-camera JPEGs are passed through as sent). */
  quality?: number;
  /** Files: start again at the end, forever. */
  loop?: boolean;
  /** Files and the test pattern: no real-time pacing (tests, benchmarks). */
  asFastAsPossible?: boolean;
  /** For ffmpeg sources: platform and environment to build for (tests). */
  platform?: string;
  env?: Record<string, string | undefined>;
}

/** A source from {@link openSource}: `ready` resolves at its first frame, or rejects with why it cannot start. */
export interface OpenedSource extends FrameSource {
  readonly ready: Promise<void>;
}

const NETWORK = /^(rtsps?|rtmps?|srt|rtp|udp|tcp):\/\//i;

/**
 * Parses a `--source` value: `test`, `camera`, `camera:N`, `camera:/dev/videoN`,
 * `camera:NAME`, `screen`, `screen:DISPLAY`, `http(s)://…` (IP camera),
 * `rtsp://…` (and other URLs ffmpeg opens), `file:PATH` or a plain path.
 */
export function parseSourceSpec(spec: string): SourceSpec {
  if (spec === 'test') return { kind: 'test' };
  const dev = /^(camera|screen)(?::(.*))?$/s.exec(spec);
  if (dev) {
    const arg = dev[2] === undefined || dev[2] === '' ? undefined : dev[2];
    return dev[1] === 'camera' ? { kind: 'camera', device: arg } : { kind: 'screen', display: arg };
  }
  if (/^https?:\/\//i.test(spec)) return { kind: 'http', url: spec };
  if (NETWORK.test(spec)) return { kind: 'url', url: spec };
  if (spec.startsWith('file:')) return { kind: 'file', path: spec.startsWith('file://') ? new URL(spec).pathname : spec.slice(5) };
  if (spec === '') throw new FramewireError(ErrorCodes.BAD_OPTION, 'empty source');
  return { kind: 'file', path: spec };
}

/** The ffmpeg input for a parsed spec (undefined for sources that need no ffmpeg). */
export function ffmpegInputFor(spec: SourceSpec, options: OpenSourceOptions = {}): FfmpegInput | undefined {
  switch (spec.kind) {
    case 'camera':
      return { kind: 'camera', device: spec.device };
    case 'screen':
      return { kind: 'screen', display: spec.display };
    case 'url':
      return { kind: 'url', url: spec.url };
    case 'file':
      return { kind: 'file', path: spec.path, loop: options.loop ?? false, realtime: !options.asFastAsPossible };
    default:
      return undefined;
  }
}

/**
 * Opens any source by its spec (see {@link parseSourceSpec}) with the same
 * size, fps and quality options. Throws at once for a bad spec or a missing
 * ffmpeg (FW_FFMPEG_NOT_FOUND); device errors arrive through `ready` and
 * the iteration (FW_FFMPEG_FAILED).
 *
 * @example
 * ```ts
 * const src = openSource('screen', { width: 1280, height: 720, fps: 30 });
 * await src.ready;
 * await publish('tcp://127.0.0.1:7070/desk', src);
 * ```
 */
export function openSource(spec: string, options: OpenSourceOptions = {}): OpenedSource {
  const parsed = parseSourceSpec(spec);
  const { width, height, fps, quality } = options;
  switch (parsed.kind) {
    case 'test': {
      const src = testPattern({ width, height, fps: options.asFastAsPossible ? 0 : fps, quality });
      return Object.assign(src, { ready: Promise.resolve() });
    }
    case 'http':
      return ipCameraSource(parsed.url, { fps });
    case 'file':
      if (!existsSync(parsed.path)) {
        throw new FramewireError(
          ErrorCodes.BAD_OPTION,
          `unknown source "${spec}": not a file, and not one of test, camera[:N], screen[:DISPLAY], http(s)://…, rtsp://…`,
        );
      }
      break;
    default:
      break;
  }
  const input = ffmpegInputFor(parsed, options) as FfmpegInput;
  return ffmpegSource({ input, width, height, fps, quality, platform: options.platform, env: options.env });
}

/** Size, fps and quality for a capture source. */
export type CaptureOptions = Pick<OpenSourceOptions, 'width' | 'height' | 'fps' | 'quality'>;

/**
 * A webcam through ffmpeg: `device` is an index (`0`), a path (`/dev/video2`,
 * Linux) or a device name (Windows dshow, macOS avfoundation); default the
 * first camera.
 */
export function cameraSource(device?: string | number, options: CaptureOptions = {}): OpenedSource {
  return openSource(device === undefined ? 'camera' : `camera:${device}`, options);
}

/** The screen through ffmpeg (x11grab on `display`, default `$DISPLAY` or `:0`; avfoundation; gdigrab). */
export function screenSource(display?: string, options: CaptureOptions = {}): OpenedSource {
  return openSource(display === undefined ? 'screen' : `screen:${display}`, options);
}

/** A video file through ffmpeg, paced in real time unless `asFastAsPossible`; `loop` starts again at the end. */
export function fileSource(path: string, options: OpenSourceOptions = {}): OpenedSource {
  return openSource(path.startsWith('file:') ? path : `file:${path}`, options);
}

/** An RTSP (or other ffmpeg-readable network) camera, decoded by ffmpeg and re-encoded to JPEG at the requested size, fps and quality. */
export function rtspSource(url: string, options: CaptureOptions = {}): OpenedSource {
  if (!NETWORK.test(url)) throw new FramewireError(ErrorCodes.BAD_OPTION, `not an rtsp:// (or other network) URL: ${url}`);
  return openSource(url, options);
}
