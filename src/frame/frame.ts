/** Codecs a frame can carry. `h264` is reserved for a later release. */
export type Codec = 'jpeg' | 'h264';

/**
 * One whole encoded picture with its history. Immutable once made: the relay
 * forwards the same `data` bytes to every viewer, never a copy.
 */
export interface EncodedFrame {
  /** Sequence number set by the publisher, +1 per frame (wraps at 2^32). */
  readonly seq: number;
  /** Capture time in microseconds on the clock of whoever sent this frame (see {@link nowUs}). */
  readonly captureUs: number;
  /** Picture width in pixels. */
  readonly width: number;
  /** Picture height in pixels. */
  readonly height: number;
  /** Codec of `data`. */
  readonly codec: Codec;
  /** True for a picture that decodes on its own (every JPEG). */
  readonly key: boolean;
  /** The encoded picture. */
  readonly data: Uint8Array;
}

/**
 * A source of encoded frames: an async iterable that stops when the source
 * ends or is closed. `close()` is idempotent and releases everything the
 * source owns (timers, child processes).
 */
export interface FrameSource extends AsyncIterable<EncodedFrame> {
  /** Nominal size and rate, when known up front. */
  readonly info: { readonly width: number; readonly height: number; readonly fps: number };
  /** Stops the source; pending and future iterations end. */
  close(): void;
}
