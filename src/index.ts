/**
 * framewire: live video over the network with the least latency a socket
 * allows. The public API — what an application calls: a relay, publish
 * (a source, or frames your code makes), subscribe, two-way chat, sources,
 * sinks, tokens, errors and their types. Re-exports only.
 *
 * The wire protocol itself (codecs, parser, clock sync, UDP fragmenting),
 * for writing another implementation, is the `framewire/protocol` entry.
 *
 * @packageDocumentation
 */

// Errors: one family with stable codes.
export { ErrorCodes, FramewireError, isFramewireError, type ErrorCode } from './errors.js';

// Frames, clocks, events.
export type { Codec, EncodedFrame, FrameSource } from './frame/frame.js';
export { nowUs, type Clock } from './frame/clock.js';
export type { StatsSnapshot } from './frame/meter.js';
export { TypedEmitter, type BuiltInEvents, type EventMap } from './events.js';

// The relay.
export {
  createRelay,
  Relay,
  type RelayOptions,
  type RelayEvents,
  type ListenAddress,
  type ViewerInfo,
  type RelayHealth,
  type TcpListenOptions,
} from './relay/relay.js';
export type { HttpServerOptions } from './relay/http.js';
export type { BudgetInfo } from './relay/budget.js';
export type { StreamInfo } from './relay/stream.js';
export type { UdpServerOptions, UdpServerStats } from './transport/udp-server.js';

// Tokens.
export { createToken, verifyToken, DEFAULT_TTL, type CreateTokenOptions, type TokenClaims } from './relay/auth.js';

// Clients: publish, subscribe, chat.
export {
  publish,
  Publication,
  PushPublication,
  type PublishOptions,
  type PushPublishOptions,
  type PublicationStats,
  type PushPublicationStats,
  type PublicationEvents,
  type DisconnectInfo,
  type RawImage,
  type PixelFormat,
} from './client/publish.js';
export { subscribe, Subscription, type SubscribeOptions, type SubscriptionStats, type SubscriptionEvents } from './client/subscribe.js';
export type { ConnectOptions } from './client/connection.js';
export { chat, type Chat, type ChatOptions } from './client/chat.js';
export { DEFAULT_TCP_PORT, DEFAULT_HTTP_PORT, DEFAULT_UDP_PORT } from './client/url.js';
export type { VideoParams, WelcomeBody, Role } from './protocol/messages.js';
export type { ParserLimits } from './protocol/parser.js';
export type { UdpChannelOptions } from './transport/udp.js';

// TLS: options, and fingerprints to pin a relay's certificate.
export { normalizeFingerprint, certificateFingerprint, type TlsClientOptions, type TlsServerOptions } from './transport/tls.js';

// Sources.
export { testPattern, type TestPatternOptions } from './sources/test-pattern.js';
export {
  openSource,
  cameraSource,
  screenSource,
  fileSource,
  rtspSource,
  type CaptureOptions,
  type OpenSourceOptions,
  type OpenedSource,
} from './sources/open-source.js';
export { ffmpegSource, type FfmpegSource, type FfmpegSourceOptions, type FfmpegSourceStats } from './sources/ffmpeg.js';
export type { FfmpegInput, FfmpegOutputOptions } from './sources/ffmpeg-args.js';
export { ipCameraSource, type IpCameraOptions, type IpCameraSource, type IpCameraStats } from './sources/ip-camera.js';

// Sinks.
export { playerSink, recorderSink, type FrameSink, type PlayerSinkOptions, type RecorderSinkOptions } from './sinks/ffmpeg-sink.js';
