/**
 * One error family for the whole project. Every error a peer can cause, or a
 * user can hit, carries a stable `code` string; tests assert the code, never
 * the message.
 */

/** Every stable error code framewire emits. */
export const ErrorCodes = {
  /** The first bytes of a message are not the framewire magic. */
  BAD_MAGIC: 'FW_BAD_MAGIC',
  /** The peer speaks a protocol version this build does not. */
  BAD_VERSION: 'FW_BAD_VERSION',
  /** A header field is out of range (header length, reserved bits, type). */
  BAD_HEADER: 'FW_BAD_HEADER',
  /** A frame payload is larger than the receiver's `maxFrameBytes`. */
  FRAME_TOO_LARGE: 'FW_FRAME_TOO_LARGE',
  /** A control payload is larger than the receiver's `maxControlBytes`. */
  CONTROL_TOO_LARGE: 'FW_CONTROL_TOO_LARGE',
  /** A control body is not valid JSON or does not match its schema. */
  BAD_MESSAGE: 'FW_BAD_MESSAGE',
  /** A message arrived that is not allowed in the current state. */
  UNEXPECTED_MESSAGE: 'FW_UNEXPECTED_MESSAGE',
  /** The peer did not finish the handshake in time. */
  HANDSHAKE_TIMEOUT: 'FW_HANDSHAKE_TIMEOUT',
  /** Token missing or wrong. */
  UNAUTHORIZED: 'FW_UNAUTHORIZED',
  /** A second publisher tried to take a stream that is live. */
  STREAM_BUSY: 'FW_STREAM_BUSY',
  /** The relay refuses more clients. */
  TOO_MANY_CLIENTS: 'FW_TOO_MANY_CLIENTS',
  /** A URL the library or CLI was given cannot be used. */
  BAD_URL: 'FW_BAD_URL',
  /** An option value is invalid (a programmer's or user's mistake). */
  BAD_OPTION: 'FW_BAD_OPTION',
  /** The connection closed before the operation finished. */
  CONNECTION_CLOSED: 'FW_CONNECTION_CLOSED',
  /** The peer went silent (no answer to pings). */
  TIMEOUT: 'FW_TIMEOUT',
  /** The operation was aborted through an AbortSignal. */
  ABORTED: 'FW_ABORTED',
  /** A source failed (encoder error, device error). */
  SOURCE_FAILED: 'FW_SOURCE_FAILED',
  /** No such stream, page or route (HTTP 404). */
  NOT_FOUND: 'FW_NOT_FOUND',
  /** An uploaded picture is not a JPEG (MJPEG ingest). */
  NOT_JPEG: 'FW_NOT_JPEG',
  /** ffmpeg is needed for this source and was found neither at FFMPEG_PATH nor on PATH. */
  FFMPEG_NOT_FOUND: 'FW_FFMPEG_NOT_FOUND',
  /** ffmpeg exited with an error (no such device, permission denied, busy…); the message is ffmpeg's own line. */
  FFMPEG_FAILED: 'FW_FFMPEG_FAILED',
  /** The relay's memory budget is spent; the peer holding the most of it is closed. */
  OVERLOADED: 'FW_OVERLOADED',
  /** A publisher's frame is not what its header says (not a JPEG, or its SOF size disagrees, or too large a picture). */
  BAD_FRAME: 'FW_BAD_FRAME',
  /** An HTTP request the relay cannot read (headers too large, request line too long, conflicting lengths). */
  BAD_REQUEST: 'FW_BAD_REQUEST',
  /**
   * TLS failed: the relay's certificate is not trusted (no --ca for a self-signed one, wrong
   * host name, expired) or its SHA-256 fingerprint is not the pinned one, or the other end does
   * not speak TLS. Reconnecting does not help.
   */
  TLS: 'FW_TLS',
  /** A bug on the side that reports it, not the peer's fault (logged there with its stack). */
  INTERNAL: 'FW_INTERNAL',
} as const;

/** A stable error code string. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const knownCodes: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

/** True if `code` is one of framewire's stable codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && knownCodes.has(code);
}

/**
 * The error class for everything framewire throws or reports. `code` is
 * stable across releases; `message` is for humans and may change.
 */
export class FramewireError extends Error {
  /** Stable machine-readable code, e.g. `FW_BAD_MAGIC`. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FramewireError';
    this.code = code;
  }
}

/** True if `err` is a FramewireError, optionally with the given code. */
export function isFramewireError(err: unknown, code?: ErrorCode): err is FramewireError {
  return err instanceof FramewireError && (code === undefined || err.code === code);
}
