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
  /**
   * A bug of ours, not the peer's: an exception nobody expected. Logged with
   * its stack (see {@link FramewireError.internal}); the peer is told this
   * code, never FW_BAD_MESSAGE, and over HTTP the status is 500.
   */
  INTERNAL: 'FW_INTERNAL',
} as const;

/** One of the codes this build knows ({@link ErrorCodes}). */
export type KnownErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * A stable error code string: one of {@link ErrorCodes}, or a code a peer
 * sent that this build does not know, kept as it came (a newer relay's
 * code stays readable in logs). The `string & Record<never, never>` arm
 * admits those while editors still offer the known codes.
 */
export type ErrorCode = KnownErrorCode | (string & Record<never, never>);

const knownCodes: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

/** True if `code` is one of the codes this build knows. */
export function isErrorCode(code: unknown): code is KnownErrorCode {
  return typeof code === 'string' && knownCodes.has(code);
}

/** Where {@link FramewireError.internal} reports a bug: a process warning in Node, the console elsewhere. */
function logInternal(err: FramewireError, cause: unknown): void {
  const stack = cause instanceof Error && cause.stack ? cause.stack : String(cause);
  const text = `${err.message}\n${stack}`;
  const proc = (globalThis as { process?: { emitWarning?: (w: string, o: { type: string; code: string }) => void } }).process;
  if (typeof proc?.emitWarning === 'function') proc.emitWarning(text, { type: 'FramewireInternalError', code: ErrorCodes.INTERNAL });
  else console.error(text);
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

  /**
   * Keeps a FramewireError as it is; anything else thrown is a bug of ours
   * and becomes {@link FramewireError.internal} (logged with its stack).
   * Use this in catch-alls instead of blaming the peer.
   *
   * @param where what was running, for the log ("tcp parser", "http route")
   */
  static from(err: unknown, where: string): FramewireError {
    return err instanceof FramewireError ? err : FramewireError.internal(err, where);
  }

  /** FW_INTERNAL for an exception nobody expected; logs the cause's stack once. */
  static internal(cause: unknown, where: string): FramewireError {
    const what = cause instanceof Error ? cause.message : String(cause);
    const err = new FramewireError(ErrorCodes.INTERNAL, `internal error in ${where}: ${what}`, { cause });
    logInternal(err, cause);
    return err;
  }

  /**
   * FW_FRAME_TOO_LARGE: `bytes` declared or read (undefined: not known yet)
   * where at most `max` are allowed; `what` names it ("frame", "part").
   */
  static frameTooLarge(bytes: number | undefined, max: number, what = 'frame'): FramewireError {
    return new FramewireError(
      ErrorCodes.FRAME_TOO_LARGE,
      `${what}${bytes === undefined ? '' : ` of ${bytes} bytes`} exceeds the limit of ${max} bytes`,
    );
  }

  /** FW_BAD_HEADER: a header field out of range. */
  static badHeader(message: string): FramewireError {
    return new FramewireError(ErrorCodes.BAD_HEADER, message);
  }

  /** FW_BAD_MESSAGE: a body (JSON, multipart, JPEG structure) the peer got wrong. */
  static badMessage(message: string): FramewireError {
    return new FramewireError(ErrorCodes.BAD_MESSAGE, message);
  }

  /** FW_UNEXPECTED_MESSAGE: a message not allowed in the current state. */
  static unexpected(message: string): FramewireError {
    return new FramewireError(ErrorCodes.UNEXPECTED_MESSAGE, message);
  }

  /** FW_UNAUTHORIZED, with the reason (docs/protocol.md §6.2 lists them). */
  static unauthorized(reason: string, cause?: unknown): FramewireError {
    return new FramewireError(ErrorCodes.UNAUTHORIZED, reason, cause === undefined ? undefined : { cause });
  }

  /** FW_TOO_MANY_CLIENTS: a limit of the relay is reached. */
  static tooManyClients(message: string): FramewireError {
    return new FramewireError(ErrorCodes.TOO_MANY_CLIENTS, message);
  }

  /** FW_TIMEOUT: the peer went silent, or an operation took too long. */
  static timeout(message: string): FramewireError {
    return new FramewireError(ErrorCodes.TIMEOUT, message);
  }

  /** FW_CONNECTION_CLOSED: the connection ended before the operation finished. */
  static connectionClosed(message: string, cause?: unknown): FramewireError {
    return new FramewireError(ErrorCodes.CONNECTION_CLOSED, message, cause === undefined ? undefined : { cause });
  }

  /** FW_ABORTED: stopped through an AbortSignal or close(). */
  static aborted(message = 'aborted'): FramewireError {
    return new FramewireError(ErrorCodes.ABORTED, message);
  }

  /** FW_BAD_OPTION: `name` cannot be `value`; `expected` says what it can be. */
  static badOption(name: string, value: unknown, expected: string): FramewireError {
    return new FramewireError(ErrorCodes.BAD_OPTION, `${name} must be ${expected}, got ${String(value)}`);
  }

  /** FW_BAD_URL. */
  static badUrl(message: string): FramewireError {
    return new FramewireError(ErrorCodes.BAD_URL, message);
  }

  /** FW_NOT_FOUND (HTTP 404). */
  static notFound(message: string): FramewireError {
    return new FramewireError(ErrorCodes.NOT_FOUND, message);
  }

  /** FW_SOURCE_FAILED, keeping the cause. */
  static sourceFailed(message: string, cause?: unknown): FramewireError {
    return new FramewireError(ErrorCodes.SOURCE_FAILED, message, cause === undefined ? undefined : { cause });
  }
}

/** True if `err` is a FramewireError, optionally with the given code. */
export function isFramewireError(err: unknown, code?: ErrorCode): err is FramewireError {
  return err instanceof FramewireError && (code === undefined || err.code === code);
}
