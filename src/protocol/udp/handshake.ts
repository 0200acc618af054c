import { bytesEqual, viewOf } from '../bytes.js';
import { COMMON_HEADER_BYTES, COOKIE_BYTES, INIT_MIN_BYTES, Kind, NONCE_BYTES, makeDatagram, type Datagram } from './datagram.js';

/**
 * The handshake datagrams, built and read without I/O. Every reader checks
 * lengths and returns undefined for anything malformed (the caller ignores
 * it and counts it); none throws on a peer's bytes.
 *
 * ```
 *  init    header(session 0) | nonce (8) | zero padding to >= 64 bytes in all
 *  cookie  header(session 0) | nonce (8) | cookie (20)
 *  open    header(session 0) | nonce (8) | cookie (20) | P u16 | K u8 | 0 u8
 *  opened  header(session)   | nonce (8) | P u16 | K u8 | 0 u8   (granted P, K)
 *  unknown session  header(session it was sent for)             (8 bytes)
 * ```
 */

/** Bytes after the common header in an open: nonce, cookie, fragment size, FEC group, reserved. */
export const OPEN_BODY_BYTES = NONCE_BYTES + COOKIE_BYTES + 4;
/** Bytes after the common header in an opened: nonce, granted fragment size, granted FEC group, reserved. */
export const OPENED_BODY_BYTES = NONCE_BYTES + 4;
/** Bytes of an unknown-session datagram (the common header alone). */
export const UNKNOWN_SESSION_BYTES = COMMON_HEADER_BYTES;

/** What a client asks for in an open. */
export interface OpenRequest {
  nonce: Uint8Array;
  cookie: Uint8Array;
  /** Fragment size the client wants the server to send with; 0 = server default. */
  fragmentSize: number;
  /** FEC group the client wants; 0 = off. */
  fecGroup: number;
}

/** What a server granted in an opened. */
export interface Opened {
  session: number;
  /** Fragment size and FEC group the server sends with; undefined from a server that does not say (older build). */
  granted: { fragmentSize: number; fecGroup: number } | undefined;
}

/** An init: the nonce, padded so that the cookie reply is never larger (no amplification). */
export function encodeInit(nonce: Uint8Array): Uint8Array {
  const b = makeDatagram(Kind.init, 0, INIT_MIN_BYTES - COMMON_HEADER_BYTES);
  b.set(nonce.subarray(0, NONCE_BYTES), COMMON_HEADER_BYTES);
  return b;
}

/** The nonce of an init, or undefined if the datagram is shorter than {@link INIT_MIN_BYTES}. */
export function readInit(dg: Datagram): Uint8Array | undefined {
  if (dg.kind !== Kind.init || COMMON_HEADER_BYTES + dg.body.length < INIT_MIN_BYTES) return undefined;
  return dg.body.subarray(0, NONCE_BYTES);
}

/** A cookie reply. */
export function encodeCookie(nonce: Uint8Array, cookie: Uint8Array): Uint8Array {
  const b = makeDatagram(Kind.cookie, 0, NONCE_BYTES + COOKIE_BYTES);
  b.set(nonce.subarray(0, NONCE_BYTES), COMMON_HEADER_BYTES);
  b.set(cookie.subarray(0, COOKIE_BYTES), COMMON_HEADER_BYTES + NONCE_BYTES);
  return b;
}

/** The cookie of a reply to our `nonce` (a copy), or undefined. */
export function readCookie(dg: Datagram, nonce: Uint8Array): Uint8Array | undefined {
  if (dg.kind !== Kind.cookie || dg.body.length < NONCE_BYTES + COOKIE_BYTES) return undefined;
  if (!bytesEqual(dg.body.subarray(0, NONCE_BYTES), nonce)) return undefined;
  return new Uint8Array(dg.body.subarray(NONCE_BYTES, NONCE_BYTES + COOKIE_BYTES));
}

/** An open. `fragmentSize` and `fecGroup` are written as u16 and u8 (clamped to fit). */
export function encodeOpen(r: OpenRequest): Uint8Array {
  const b = makeDatagram(Kind.open, 0, OPEN_BODY_BYTES);
  b.set(r.nonce.subarray(0, NONCE_BYTES), COMMON_HEADER_BYTES);
  b.set(r.cookie.subarray(0, COOKIE_BYTES), COMMON_HEADER_BYTES + NONCE_BYTES);
  viewOf(b).setUint16(COMMON_HEADER_BYTES + NONCE_BYTES + COOKIE_BYTES, Math.min(0xffff, Math.max(0, r.fragmentSize | 0)));
  viewOf(b).setUint8(COMMON_HEADER_BYTES + NONCE_BYTES + COOKIE_BYTES + 2, Math.min(0xff, Math.max(0, r.fecGroup | 0)));
  return b;
}

/** The fields of an open (views into the datagram), or undefined if it is too short. The reserved byte and extra bytes are ignored. */
export function readOpen(dg: Datagram): OpenRequest | undefined {
  if (dg.kind !== Kind.open || dg.body.length < OPEN_BODY_BYTES) return undefined;
  const b = dg.body;
  return {
    nonce: b.subarray(0, NONCE_BYTES),
    cookie: b.subarray(NONCE_BYTES, NONCE_BYTES + COOKIE_BYTES),
    fragmentSize: viewOf(b).getUint16(NONCE_BYTES + COOKIE_BYTES),
    fecGroup: viewOf(b).getUint8(NONCE_BYTES + COOKIE_BYTES + 2),
  };
}

/** An opened: the session id in the header, what the server granted in the body. */
export function encodeOpened(session: number, nonce: Uint8Array, fragmentSize: number, fecGroup: number): Uint8Array {
  const b = makeDatagram(Kind.opened, session, OPENED_BODY_BYTES);
  b.set(nonce.subarray(0, NONCE_BYTES), COMMON_HEADER_BYTES);
  viewOf(b).setUint16(COMMON_HEADER_BYTES + NONCE_BYTES, fragmentSize);
  viewOf(b).setUint8(COMMON_HEADER_BYTES + NONCE_BYTES + 2, fecGroup);
  return b;
}

/**
 * An opened answering our `nonce`, or undefined (wrong nonce, too short,
 * session id 0). A body of just the nonce (an older server) leaves
 * `granted` undefined.
 */
export function readOpened(dg: Datagram, nonce: Uint8Array): Opened | undefined {
  if (dg.kind !== Kind.opened || dg.session === 0 || dg.body.length < NONCE_BYTES) return undefined;
  if (!bytesEqual(dg.body.subarray(0, NONCE_BYTES), nonce)) return undefined;
  const granted =
    dg.body.length >= OPENED_BODY_BYTES
      ? { fragmentSize: viewOf(dg.body).getUint16(NONCE_BYTES), fecGroup: viewOf(dg.body).getUint8(NONCE_BYTES + 2) }
      : undefined;
  return { session: dg.session, granted };
}

/** An unknown-session reply for `session` (the id the unanswerable datagram carried). */
export function encodeUnknownSession(session: number): Uint8Array {
  return makeDatagram(Kind.unknownSession, session);
}

/**
 * True for the kinds a server answers with "unknown session" when their
 * session id is not one it has: those only a live session sends. Never the
 * handshake kinds, a close, or server-to-client kinds (an unknown-session
 * answered with another would let two relays be set to ping-pong).
 */
export function answersUnknownSession(kind: number): boolean {
  return (
    kind === Kind.control ||
    kind === Kind.ack ||
    kind === Kind.fragment ||
    kind === Kind.parity ||
    kind === Kind.nack ||
    kind === Kind.keepalive
  );
}
