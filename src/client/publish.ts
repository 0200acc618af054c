import type { FrameSource } from '../frame/frame.js';
import { ErrorCodes, FramewireError } from '../errors.js';
import type { VideoParams } from '../protocol/messages.js';
import { Publication, type PublishOptions } from './publication.js';
import { PushPublication, type PushPublishOptions } from './push.js';
import { parseStreamUrl } from './url.js';

// The publication classes live beside this function; everything a caller of
// publish() needs is importable from here.
export { Publication, type DisconnectInfo, type PublicationEvents, type PublicationStats, type PublishOptions } from './publication.js';
export { PushPublication, type PixelFormat, type PushPublicationStats, type PushPublishOptions, type RawImage } from './push.js';

/**
 * Publishes to a relay. Resolves once the relay has welcomed the publisher;
 * rejects with a coded error (e.g. FW_STREAM_BUSY, FW_UNAUTHORIZED,
 * FW_CONNECTION_CLOSED) if it cannot start.
 *
 * With a source, its frames are sent until it ends or `close()`. Without
 * one, the result's `send()` takes the pictures your code makes.
 *
 * @example
 * ```ts
 * const pub = await publish('tcp://127.0.0.1:7070/cam', testPattern({ width: 1280, height: 720, fps: 30 }));
 * setTimeout(() => pub.close(), 10_000);
 * await pub.done;
 * ```
 * @example
 * ```ts
 * const pub = await publish('tcp://127.0.0.1:7070/bot', { quality: 70 });
 * await pub.send({ data: rgb, width: 320, height: 240, format: 'rgb' }); // or pub.send(jpegBytes)
 * pub.close(); // a picture not yet out when close() comes is dropped: await its send() first
 * ```
 */
export function publish(url: string, options?: PushPublishOptions): Promise<PushPublication>;
export function publish(url: string, source: FrameSource, options?: PublishOptions): Promise<Publication>;
export async function publish(
  url: string,
  sourceOrOptions?: FrameSource | PushPublishOptions,
  options: PublishOptions = {},
): Promise<Publication> {
  const parsed = parseStreamUrl(url);
  let pub: Publication;
  if (isFrameSource(sourceOrOptions)) {
    const info = sourceOrOptions.info;
    const params: VideoParams = { width: info.width, height: info.height };
    // fps 0 means "as fast as the source goes": no nominal rate to declare.
    if (info.fps > 0) params.fps = info.fps;
    pub = new Publication(parsed, options, sourceOrOptions, params);
  } else {
    const o = sourceOrOptions ?? {};
    pub = new PushPublication(parsed, o, pushParams(o));
  }
  await pub.ready;
  return pub;
}

function isFrameSource(v: unknown): v is FrameSource {
  return typeof v === 'object' && v !== null && typeof (v as Partial<FrameSource>)[Symbol.asyncIterator] === 'function' && 'info' in v;
}

/** The hello's params from push options, checked (FW_BAD_OPTION) before anything goes on the wire. */
function pushParams(o: VideoParams): VideoParams {
  const params: VideoParams = {};
  const ranges = { width: [1, 65_535, true], height: [1, 65_535, true], fps: [0.1, 1000, false], quality: [1, 100, true] } as const;
  for (const key of ['width', 'height', 'fps', 'quality'] as const) {
    const v = o[key];
    if (v === undefined) continue;
    const [min, max, whole] = ranges[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (whole && !Number.isInteger(v))) {
      throw new FramewireError(
        ErrorCodes.BAD_OPTION,
        `${key} must be a ${whole ? 'whole ' : ''}number in [${min}, ${max}], got ${String(v)}`,
      );
    }
    params[key] = v;
  }
  return params;
}
