/**
 * `framewire/protocol`: the wire protocol for other implementers and for the
 * browser — header, messages, the stream parser, clock sync, the session
 * state machine and the stats meter. Pure: no I/O and no Node built-ins, so
 * the same module runs in Node and in a browser bundle (docs/protocol.md is
 * its spec, byte by byte).
 *
 * @packageDocumentation
 */
export { ErrorCodes, FramewireError, isErrorCode, isFramewireError, type ErrorCode } from '../errors.js';
export type { Codec, EncodedFrame } from '../frame/frame.js';
export { nowUs, type Clock } from '../frame/clock.js';
export { StatsMeter, type StatsSnapshot } from '../frame/meter.js';
export {
  MAGIC,
  VERSION,
  FIXED_HEADER_BYTES,
  FRAME_HEADER_BYTES,
  MessageType,
  FrameFlags,
  CodecId,
  messageTypeName,
  readFixedHeader,
  writeFixedHeader,
  type Header,
  type MessageTypeName,
} from './header.js';
export {
  STREAM_NAME,
  codecFromId,
  encodeControl,
  encodeFrame,
  encodeFrameHeader,
  validateControl,
  type AckBody,
  type ByeBody,
  type ControlMessage,
  type ErrorBody,
  type HelloBody,
  type Message,
  type PingBody,
  type PongBody,
  type Role,
  type StatsBody,
  type VideoParams,
  type WelcomeBody,
} from './messages.js';
export { DEFAULT_LIMITS, StreamParser, decodeMessage, type ParserLimits } from './parser.js';
export { ClockSync, DEFAULT_CLOCK_WINDOW, type ClockSample } from './clock-sync.js';
export {
  PING_INTERVAL_MS,
  ProtocolSession,
  backoffMs,
  isFatalCode,
  type SessionHooks,
  type SessionLink,
  type SessionOptions,
  type SessionState,
} from './session.js';
export { bytesEqual, concatBytes, utf8Decode, utf8Encode } from './bytes.js';
export type { RenditionInfo, StreamInfo } from './api.js';

// UDP: datagrams, fragmentation with parity FEC, reassembly with NACK repair, reliable control (docs/protocol-udp.md).
export {
  UDP_MAGIC,
  UDP_VERSION,
  COMMON_HEADER_BYTES,
  FRAGMENT_HEADER_BYTES,
  Kind,
  readDatagram,
  makeDatagram,
  readFragmentHeader,
  writeFragmentHeader,
  encodeNacks,
  decodeNack,
  seqDiff,
  type Datagram,
  type FragmentHeader,
  type KindId,
  type NackEntry,
} from './udp/datagram.js';
export { DEFAULT_FRAGMENT_SIZE, fragmentMessage, type FragmentOptions, type Fragments } from './udp/fragmenter.js';
export { Reassembler, type PollResult, type ReassemblerOptions, type ReassemblerStats } from './udp/reassembler.js';
export { ReliableControl, type ReliableControlOptions } from './udp/control.js';
export { SendHistory, type SendHistoryOptions } from './udp/send-history.js';
export {
  encodeInit,
  readInit,
  encodeCookie,
  readCookie,
  encodeOpen,
  readOpen,
  encodeOpened,
  readOpened,
  encodeUnknownSession,
  type OpenRequest,
  type Opened,
} from './udp/handshake.js';
