import { decodeJpeg, encodeProfile, profileKey, satisfiedBySource, type Profile, type RawPicture } from '../codec/transcode.js';
import { checkJpegFrame, DEFAULT_PICTURE_LIMITS, type PictureLimits } from '../codec/jpeg.js';
import { FramewireError } from '../errors.js';
import type { EncodedFrame } from '../frame/frame.js';
import { toRelayFrame, type RelayFrame } from './relay-frame.js';

import type { RenditionInfo } from '../protocol/api.js';

export type { RenditionInfo };

/** What renditions may decode, and where their pixels are accounted. */
export interface RenditionOptions {
  /** Pictures larger than this are not decoded. Default 8192 × 8192, 8192 a side. */
  pictureLimits?: PictureLimits;
  /**
   * Reserves room for a decode's pixels in the relay's memory budget;
   * false = no room (the frame is not decoded). Default: always room.
   */
  reserve?: (bytes: number) => (() => void) | false;
}

/** Default limit of distinct rendition profiles per stream. */
export const DEFAULT_MAX_RENDITIONS = 4;

/** Quality used when a viewer asks for a size but no quality. */
export const DEFAULT_RENDITION_QUALITY = 75;

/** A viewer of a rendition, as the transcoder sees it: something frames are offered to. */
/**
 * Why a viewer's rendition missed a source frame: `busy` (the transcoder was
 * still on an earlier frame: latest-frame-wins, counted as skipped) or
 * `notDecodable` (the frame could not be decoded or encoded, or the memory
 * budget had no room: counted as not decodable, never as lost).
 */
export type RenditionSkip = 'busy' | 'notDecodable';

export interface RenditionViewer {
  /** Offers a frame of the rendition (sent, parked or skipped: the viewer decides). */
  offer(rf: RelayFrame): void;
}

interface Entry<V extends RenditionViewer> {
  readonly key: string;
  readonly profile: Profile;
  readonly viewers: Set<V>;
  encodes: number;
}

/**
 * Renditions of one stream for viewers that asked for a size or quality the
 * publisher does not send. Per source frame: decode once, then resize and
 * encode once per distinct profile, shared by every viewer of that profile.
 * A profile exists while it has viewers. The transcoder is latest-frame-wins
 * too: while it works, only the newest source frame waits; frames it never
 * gets to are counted as skipped for the viewers that miss them.
 */
export class Renditions<V extends RenditionViewer = RenditionViewer> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly limits: Required<PictureLimits>;
  private readonly reserve: (bytes: number) => (() => void) | false;
  /**
   * @param max most distinct profiles at once (each costs a resize and an encode per frame)
   * @param options decode limits and the memory budget
   * @param onSkip told of each source frame a viewer's rendition never got to (the transcoder was busy, or the frame was not decoded)
   */
  constructor(
    readonly max = DEFAULT_MAX_RENDITIONS,
    options: RenditionOptions = {},
    private readonly onSkip: (viewer: V, why: RenditionSkip) => void = () => undefined,
  ) {
    this.limits = { ...DEFAULT_PICTURE_LIMITS, ...options.pictureLimits };
    this.reserve = options.reserve ?? (() => () => undefined);
  }

  /** Source frames not decoded: size disagreeing with the frame header, past the pixel limit, or no room in the memory budget. */
  refused = 0;

  private busy = false;
  private next: RelayFrame | undefined;
  /** Source frames decoded. */
  decodes = 0;
  /** Frames that failed to decode or encode (corrupt input). */
  errors = 0;

  /**
   * Adds a viewer to its profile's rendition, creating it on first use.
   * Returns undefined, adding nothing, when a new profile would pass the
   * limit: the viewer then gets the source as published.
   */
  add(slot: V, profile: Profile): string | undefined {
    const key = profileKey(profile, DEFAULT_RENDITION_QUALITY);
    let e = this.entries.get(key);
    if (!e) {
      if (this.entries.size >= this.max) return undefined;
      e = { key, profile, viewers: new Set(), encodes: 0 };
      this.entries.set(key, e);
    }
    e.viewers.add(slot);
    return key;
  }

  /** Removes a viewer; a profile with no viewers left is dropped. */
  remove(slot: V, key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    e.viewers.delete(slot);
    if (e.viewers.size === 0) this.entries.delete(key);
  }

  /** Total encodes over all profiles alive now. */
  get encodes(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.encodes;
    return n;
  }

  info(): RenditionInfo[] {
    return [...this.entries.values()].map((e) => ({ profile: e.key, viewers: e.viewers.size, encodes: e.encodes }));
  }

  /** Offers a source frame to every rendition. */
  onSource(rf: RelayFrame): void {
    if (this.entries.size === 0) return;
    if (this.busy) {
      if (this.next) for (const e of this.entries.values()) for (const v of e.viewers) this.onSkip(v, 'busy');
      this.next = rf;
      return;
    }
    void this.run(rf);
  }

  private async run(rf: RelayFrame): Promise<void> {
    this.busy = true;
    // Entries whose viewers get nothing for this frame: counted as not decodable for them (never as lost).
    const failed = (entries: Iterable<Entry<V>>): void => {
      for (const e of entries) for (const v of e.viewers) this.onSkip(v, 'notDecodable');
    };
    const src = rf.frame;
    const todo: Entry<V>[] = [];
    try {
      for (const e of this.entries.values()) {
        if (satisfiedBySource(e.profile, src.width, src.height)) for (const v of e.viewers) v.offer(rf);
        else todo.push(e);
      }
      if (todo.length > 0) {
        // Read the JPEG's own size before decoding: a small file may declare a huge picture.
        const problem = checkJpegFrame(src.data, src.width, src.height, this.limits);
        // sharp decodes to at most 4 channels; the resize and encode need about as much again.
        const release = problem === undefined ? this.reserve(2 * 4 * src.width * src.height) : false;
        if (!release) {
          this.refused++;
          failed(todo);
          return;
        }
        try {
          let pic: RawPicture;
          try {
            pic = await decodeJpeg(src.data, this.limits.maxPixels);
          } catch {
            this.errors++;
            failed(todo);
            return;
          }
          this.decodes++;
          const decoded = pic;
          await Promise.all(
            todo.map(async (e) => {
              let out: Awaited<ReturnType<typeof encodeProfile>>;
              try {
                out = await encodeProfile(decoded, e.profile, DEFAULT_RENDITION_QUALITY);
              } catch {
                this.errors++;
                failed([e]);
                return;
              }
              e.encodes++;
              const frame: EncodedFrame = { ...src, data: out.data, width: out.width, height: out.height };
              const rendered = toRelayFrame(frame);
              // Viewers that joined or left meanwhile are handled: the set is read now.
              for (const v of e.viewers) v.offer(rendered);
            }),
          );
        } finally {
          release();
        }
      }
    } catch (err) {
      // Decode and encode failures are handled above: anything else is a bug of ours.
      FramewireError.internal(err, 'a rendition');
      this.errors++;
    } finally {
      this.busy = false;
      const next = this.next;
      this.next = undefined;
      if (next && this.entries.size > 0) void this.run(next);
    }
  }
}
