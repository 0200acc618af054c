import type { Clock } from '../frame/clock.js';
import type { EncodedFrame } from '../frame/frame.js';
import type { ParserLimits } from '../protocol/parser.js';
import type { MessageChannel } from '../transport/channel.js';
import type { AccessNeed, TokenScope } from './auth.js';
import type { BudgetInfo } from './budget.js';
import type { StreamInfo } from './stream.js';

/** Figures from {@link HttpRelay.health}, served at `/api/health`. */
export interface RelayHealth {
  /** Connections open now, all transports. */
  clients: number;
  /** Stream entries (live, or kept for their viewers). */
  streams: number;
  /** Streams with a publisher. */
  liveStreams: number;
  /** Viewers waiting for a stream that had no publisher when they came. */
  waitingViewers: number;
  /** The memory budget. */
  memory: BudgetInfo;
  /** Frames refused by validation (not a JPEG, size mismatch, too large a picture). */
  badFrames: number;
  /** Publishers closed with FW_BAD_FRAME. */
  badPublishers: number;
  /** Rendition decodes refused: size mismatch, pixel limit or no room in the budget. */
  decodesRefused: number;
  /** Viewers closed because they stopped acking. */
  ackTimeouts: number;
  /** The process's resident memory, bytes. */
  rssBytes: number;
}

/**
 * What the relay's listeners and HTTP routes need of a relay, and all they
 * may use: where accepted channels go, the limits channels are made with,
 * token checks and the figures the JSON API serves. The relay implements it;
 * the listener and route modules import this interface, never the relay, so
 * the relay can own them without an import circle.
 */
export interface HttpRelay {
  /** The relay's clock, µs (MJPEG ingest stamps frames with it). */
  readonly clock: Clock;
  /** A peer must finish its hello (and a TLS client its handshake) within this time, ms. */
  readonly handshakeTimeoutMs: number;
  /** Message size limits every channel is made with. */
  readonly limits: Required<ParserLimits>;
  /** Number of open connections. */
  readonly clientCount: number;
  /** Takes a new connection from any transport. */
  accept(channel: MessageChannel): void;
  /** Resolves with what a token allows (with `need`: that role on that stream); rejects with FW_UNAUTHORIZED. */
  checkToken(token: string | undefined, need?: AccessNeed): Promise<TokenScope>;
  /** Figures for every stream. */
  streams(): StreamInfo[];
  /** Figures on the relay's own health. */
  health(): RelayHealth;
  /** The newest frame of a stream, or undefined. */
  latestFrame(stream: string): EncodedFrame | undefined;
}
