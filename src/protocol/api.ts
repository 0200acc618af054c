/**
 * The relay's JSON API over HTTP (`GET /api/streams`), as the web pages and
 * other clients read it. Types only: the relay fills them, `docs/protocol.md`
 * and the README describe the routes.
 */

/** One rendition of a stream: a profile other viewers asked for. */
export interface RenditionInfo {
  /** The profile's key, e.g. "640x360q60" ("?" for a side left to the aspect ratio). */
  profile: string;
  viewers: number;
  /** Frames encoded for it so far. */
  encodes: number;
}

/** Public figures for one stream (an element of `GET /api/streams`). */
export interface StreamInfo {
  name: string;
  live: boolean;
  viewers: number;
  width: number;
  height: number;
  fps: number;
  kbps: number;
  framesIn: number;
  /** Seconds since the current publisher started, 0 if none. */
  uptimeS: number;
  publisher: string | null;
  /** Renditions alive (profiles other viewers asked for). */
  renditions: RenditionInfo[];
  /** Source frames decoded for renditions. */
  renditionDecodes: number;
  /** Source frames not decoded: their size disagreed with the header, passed the pixel limit, or the memory budget had no room. */
  renditionDecodesRefused: number;
  /** Frames the publisher sent that failed validation (never forwarded). */
  badFrames: number;
  /** Frames the current publisher never sent (gaps in its sequence numbers its wire did not cause). */
  framesDroppedByPublisher: number;
}
