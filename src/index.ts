/**
 * framewire: live video over the network with the least latency a socket
 * allows. Public API, re-exports only.
 *
 * @packageDocumentation
 */
export { ErrorCodes, FramewireError, isFramewireError, type ErrorCode } from './errors.js';
export type { Codec, EncodedFrame, FrameSource } from './frame/frame.js';
export { nowUs, type Clock } from './frame/clock.js';
export { StatsMeter, type StatsSnapshot } from './frame/meter.js';
export { createRelay, Relay, type RelayOptions, type RelayEvents, type ListenAddress, type ViewerInfo, type RelayHealth } from './relay/relay.js';
export type { BudgetInfo } from './relay/budget.js';
export type { StreamInfo } from './relay/stream.js';
export {
  createToken,
  verifyToken,
  parseTtl,
  streamAllowed,
  DEFAULT_TTL,
  MIN_SECRET_BYTES,
  type CreateTokenOptions,
  type TokenClaims,
  type TokenScope,
  type AccessNeed,
} from './relay/auth.js';
export { publish, Publication, type PublishOptions, type PublicationStats } from './client/publish.js';
export { subscribe, Subscription, type SubscribeOptions, type SubscriptionStats } from './client/subscribe.js';
export { parseStreamUrl, DEFAULT_TCP_PORT, DEFAULT_HTTP_PORT, DEFAULT_UDP_PORT, type StreamUrl } from './client/url.js';
export { testPattern, type TestPatternOptions } from './sources/test-pattern.js';
export { StreamParser, decodeMessage, DEFAULT_LIMITS, type ParserLimits } from './protocol/parser.js';
export {
  encodeControl,
  encodeFrame,
  encodeFrameHeader,
  type ControlMessage,
  type Message,
  type HelloBody,
  type WelcomeBody,
  type VideoParams,
  type Role,
} from './protocol/messages.js';
export { createHttpServer, DEFAULT_WEB_ROOT, type HttpServerOptions } from './relay/http.js';
export { WsChannel, connectWs, type ConnectWsOptions } from './transport/ws.js';
export { connectTls, normalizeFingerprint, certificateFingerprint, type TlsClientOptions, type TlsServerOptions } from './transport/tls.js';
export type { TcpListenOptions } from './relay/relay.js';
export { MjpegViewerChannel, MJPEG_BOUNDARY, type MjpegViewerOptions } from './transport/mjpeg.js';
export { MjpegIngestChannel, type MjpegIngestOptions } from './transport/mjpeg-ingest.js';
export { JpegSplitter, jpegSize, looksLikeJpeg, type JpegSize, type JpegSplitterLimits } from './codec/jpeg.js';
export { ffmpegSource, type FfmpegSource, type FfmpegSourceOptions, type FfmpegSourceStats, type SpawnLike } from './sources/ffmpeg.js';
export { ffmpegArgs, cameraArgs, screenArgs, inputArgs, qualityToQscale, type FfmpegInput, type FfmpegOutputOptions } from './sources/ffmpeg-args.js';
export { findFfmpeg, ffmpegErrorLine, installHint } from './sources/ffmpeg-process.js';
export { ipCameraSource, type IpCameraOptions, type IpCameraSource, type IpCameraStats } from './sources/ip-camera.js';
export {
  openSource,
  parseSourceSpec,
  cameraSource,
  screenSource,
  fileSource,
  rtspSource,
  type CaptureOptions,
  type OpenSourceOptions,
  type OpenedSource,
  type SourceSpec,
} from './sources/open-source.js';
export { playerSink, recorderSink, type FrameSink, type PlayerSinkOptions, type RecorderSinkOptions } from './sinks/ffmpeg-sink.js';
export { findTool } from './sources/ffmpeg-process.js';
