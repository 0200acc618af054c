import type { EncodedFrame } from '../frame/frame.js';
import { frameHeader } from '../transport/wire.js';

/** A frame as the relay holds it: the frame plus its wire header, built once and shared by every viewer. */
export interface RelayFrame {
  readonly frame: EncodedFrame;
  readonly header: Uint8Array;
}

/** Makes the shared wire form of a frame. */
export function toRelayFrame(frame: EncodedFrame): RelayFrame {
  return { frame, header: frameHeader(frame) };
}
