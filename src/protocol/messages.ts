import { ErrorCodes, FramewireError, type ErrorCode } from '../errors.js';
import type { Codec, EncodedFrame } from '../frame/frame.js';
import { CodecId, FIXED_HEADER_BYTES, FRAME_HEADER_BYTES, FrameFlags, MessageType, writeFixedHeader } from './header.js';
import { concatBytes, setU64, utf8Encode, viewOf } from './bytes.js';

/** What a client is: a publisher sends one stream, a viewer receives one. */
export type Role = 'publish' | 'view';

/** Video parameters a peer asks for or is granted. Absent = "as the source". */
export interface VideoParams {
  width?: number;
  height?: number;
  fps?: number;
  quality?: number;
}

/** First message from the client. */
export interface HelloBody {
  role: Role;
  stream: string;
  token?: string;
  /** Viewer: what it asks for. Publisher: what it will send. */
  params?: VideoParams;
  /** Free-form client name and version, for logs. */
  client?: string;
  /**
   * Viewer: it will send an `ack` for every frame it receives. The relay then
   * keeps at most a small window of frames in flight to it (about one round
   * trip's worth plus two), so a slow viewer's latency cannot build up in
   * socket buffers along the way.
   */
  acks?: boolean;
}

/** The server's answer to a good hello. */
export interface WelcomeBody {
  session: string;
  role: Role;
  stream: string;
  granted: VideoParams;
  /** Server clock (µs) when the welcome was sent. */
  serverTimeUs: number;
  /** Largest frame payload the server accepts / sends. */
  maxFrameBytes: number;
  /** True if the stream has a publisher right now. */
  live: boolean;
}

/** A coded error; the connection closes after it. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/** Ping: `t0` is the sender's clock in µs. */
export interface PingBody {
  id: number;
  t0: number;
}

/** Pong: echoes `id` and `t0`; `t1` receive time and `t2` send time on the answerer's clock. */
export interface PongBody {
  id: number;
  t0: number;
  t1: number;
  t2: number;
}

/**
 * Stats: numbers, booleans or short strings. Well-known keys from relay to
 * viewer: `framesSkipped` (cumulative, latest-frame-wins skips for this
 * viewer), `framesDecimated` (cumulative, skipped for the fps cap), `live`
 * (stream has a publisher), `viewers`, `width`, `height`.
 */
export type StatsBody = Record<string, number | boolean | string>;

/** Viewer → relay: the frame with this (wire) sequence number arrived. */
export interface AckBody {
  seq: number;
}

/** Goodbye with a reason; the sender closes after it. */
export interface ByeBody {
  reason: string;
}

/** A control message (JSON body). */
export type ControlMessage =
  | { type: 'hello'; body: HelloBody }
  | { type: 'welcome'; body: WelcomeBody }
  | { type: 'error'; body: ErrorBody }
  | { type: 'ping'; body: PingBody }
  | { type: 'pong'; body: PongBody }
  | { type: 'stats'; body: StatsBody }
  | { type: 'bye'; body: ByeBody }
  | { type: 'ack'; body: AckBody };

/** Any decoded message. */
export type Message = ControlMessage | { type: 'frame'; frame: EncodedFrame };

/** Stream names: 1–128 of `A–Z a–z 0–9 . _ -`, not starting with a dot. */
export const STREAM_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

const MAX_STRING = 1024;
const MAX_STATS_KEYS = 64;

function bad(message: string): FramewireError {
  return new FramewireError(ErrorCodes.BAD_MESSAGE, message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Record<string, unknown>, key: string, max = MAX_STRING): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length > max) throw bad(`"${key}" must be a string of at most ${max} characters`);
  return v;
}

function optStr(o: Record<string, unknown>, key: string, max = MAX_STRING): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, max);
}

function num(o: Record<string, unknown>, key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw bad(`"${key}" must be a number in [${min}, ${max}]`);
  }
  return v;
}

/**
 * Sizes in params take any size a frame header can carry (1–65535): a relay
 * grants the live stream's real size, and a viewer must not refuse that
 * welcome because the picture is tiny or huge.
 */
const MAX_SIZE = 0xffff;

function params(v: unknown, key: string): VideoParams | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw bad(`"${key}" must be an object`);
  const out: VideoParams = {};
  if (v.width !== undefined) out.width = Math.round(num(v, 'width', 1, MAX_SIZE));
  if (v.height !== undefined) out.height = Math.round(num(v, 'height', 1, MAX_SIZE));
  if (v.fps !== undefined) out.fps = num(v, 'fps', 0.1, 1000);
  if (v.quality !== undefined) out.quality = Math.round(num(v, 'quality', 1, 100));
  return out;
}

function role(o: Record<string, unknown>): Role {
  const r = o.role;
  if (r !== 'publish' && r !== 'view') throw bad('"role" must be "publish" or "view"');
  return r;
}

function streamName(o: Record<string, unknown>): string {
  const s = str(o, 'stream', 128);
  if (!STREAM_NAME.test(s)) throw bad(`"stream" must match ${STREAM_NAME.source}`);
  return s;
}

/** Validates a parsed JSON body for `type`. Unknown extra fields are ignored. */
export function validateControl(type: ControlMessage['type'], body: unknown): ControlMessage {
  if (!isObject(body)) throw bad(`${type} body must be a JSON object`);
  switch (type) {
    case 'hello': {
      const out: HelloBody = { role: role(body), stream: streamName(body) };
      const token = optStr(body, 'token', 1024);
      if (token !== undefined) out.token = token;
      const p = params(body.params, 'params');
      if (p) out.params = p;
      const client = optStr(body, 'client', 128);
      if (client !== undefined) out.client = client;
      if (body.acks !== undefined) {
        if (typeof body.acks !== 'boolean') throw bad('"acks" must be a boolean');
        out.acks = body.acks;
      }
      return { type, body: out };
    }
    case 'welcome':
      return {
        type,
        body: {
          session: str(body, 'session', 128),
          role: role(body),
          stream: streamName(body),
          granted: params(body.granted, 'granted') ?? {},
          serverTimeUs: num(body, 'serverTimeUs'),
          maxFrameBytes: num(body, 'maxFrameBytes'),
          live: body.live === true,
        },
      };
    case 'error':
      // A code this build does not know (a newer peer's) is kept as it came.
      return { type, body: { code: str(body, 'code', 64), message: str(body, 'message') } };
    case 'ping':
      return { type, body: { id: num(body, 'id'), t0: num(body, 't0') } };
    case 'pong':
      return { type, body: { id: num(body, 'id'), t0: num(body, 't0'), t1: num(body, 't1'), t2: num(body, 't2') } };
    case 'stats': {
      // What a receiver does not understand is ignored, not fatal: other values
      // (objects, arrays, null, long strings) are skipped, and at most
      // MAX_STATS_KEYS entries are kept (the body itself is bounded by maxControlBytes).
      const out: StatsBody = {};
      let kept = 0;
      for (const k in body) {
        if (kept >= MAX_STATS_KEYS) break;
        if (k === '__proto__') continue;
        const v = body[k];
        if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean' || (typeof v === 'string' && v.length <= 256)) {
          out[k] = v;
          kept++;
        }
      }
      return { type, body: out };
    }
    case 'bye':
      return { type, body: { reason: str(body, 'reason') } };
    case 'ack':
      return { type, body: { seq: num(body, 'seq', 0, 0xffff_ffff) } };
  }
}

/** Encodes a control message: fixed header + UTF-8 JSON body, in one array. */
export function encodeControl(msg: ControlMessage): Uint8Array {
  const json = utf8Encode(JSON.stringify(msg.body));
  const buf = new Uint8Array(FIXED_HEADER_BYTES + json.length);
  writeFixedHeader(buf, MessageType[msg.type], 0, FIXED_HEADER_BYTES, json.length);
  buf.set(json, FIXED_HEADER_BYTES);
  return buf;
}

/**
 * Encodes the 32-byte header of a frame message. The payload is
 * `frame.data`, written after it unchanged (no copy).
 */
export function encodeFrameHeader(frame: EncodedFrame): Uint8Array {
  const buf = new Uint8Array(FRAME_HEADER_BYTES);
  writeFixedHeader(buf, MessageType.frame, frame.key ? FrameFlags.key : 0, FRAME_HEADER_BYTES, frame.data.length);
  const v = viewOf(buf);
  v.setUint32(12, frame.seq >>> 0);
  setU64(v, 16, frame.captureUs);
  v.setUint16(24, frame.width);
  v.setUint16(26, frame.height);
  v.setUint8(28, CodecId[frame.codec]);
  return buf;
}

/** Encodes a whole frame message into one array (copies the payload; for tests and datagram use). */
export function encodeFrame(frame: EncodedFrame): Uint8Array {
  return concatBytes([encodeFrameHeader(frame), frame.data]);
}

/** The codec for a wire number, or undefined. */
export function codecFromId(id: number): Codec | undefined {
  return id === CodecId.jpeg ? 'jpeg' : id === CodecId.h264 ? 'h264' : undefined;
}
