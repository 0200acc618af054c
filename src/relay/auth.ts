import { createHash, timingSafeEqual, webcrypto } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { ErrorCodes, FramewireError } from '../errors.js';
import { STREAM_NAME, type Role } from '../protocol/messages.js';

/**
 * Tokens scoped to a stream and a role: HS256 JWTs made and checked with
 * `jose`. Claims:
 *
 * ```
 * { "stream": "cam" | "cam-*" | "*",   which streams (exact, prefix + "*", all)
 *   "role":   "view" | "publish",      publish implies view of the same streams
 *   "iat":    1764624000,              issued at (s since the epoch)
 *   "exp":    1764627600 }             expiry (required)
 * ```
 */

/** Shortest secret a relay or {@link createToken} accepts, in bytes (HS256 keys shorter than its 32-byte hash are guessable offline). */
export const MIN_SECRET_BYTES = 32;
/** Longest lifetime {@link parseTtl} accepts: ten years. */
export const MAX_TTL_SECONDS = 3650 * 86_400;
/** Longest token a relay reads (as the hello's `token` field allows). */
export const MAX_TOKEN_LENGTH = 1024;
/** Default token lifetime: one hour. */
export const DEFAULT_TTL = '1h';

/** The claims of a framewire token. */
export interface TokenClaims {
  /** A stream name, a prefix ending in `*` (`cam-*`), or `*` for every stream. */
  stream: string;
  /** `view`, or `publish` (which also allows viewing the same streams). */
  role: Role;
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

/**
 * What a request may do: `role: '*'` and `stream: '*'` for the shared token
 * (or a relay without auth), otherwise a token's claims.
 */
export interface TokenScope {
  stream: string;
  role: Role | '*';
}

/** The scope of the shared `token` and of a relay that needs none: every stream, every role. */
export const FULL_SCOPE: TokenScope = Object.freeze({ stream: '*', role: '*' });

/** Options for {@link createToken}. */
export interface CreateTokenOptions {
  /** The relay's `secret` (at least {@link MIN_SECRET_BYTES} bytes of UTF-8). */
  secret: string;
  /** A stream name, a prefix ending in `*` (`cam-*`), or `*` for every stream. */
  stream: string;
  /** `view` or `publish` (publish implies view). */
  role: Role;
  /** Lifetime: seconds, or `30s`, `10m`, `1h`, `7d` (see {@link parseTtl}). Default `1h`. */
  ttl?: string | number;
  /** "Now" in ms since the epoch (default `Date.now()`); a time in the past makes a token that has already expired. */
  now?: number;
}

/**
 * Makes a signed token (HS256 JWT) that lets its holder view, or publish,
 * the streams it names on a relay started with the same `secret`.
 *
 * ```ts
 * const token = await createToken({ secret, stream: 'cam', role: 'view', ttl: '10m' });
 * subscribe(`tcp://relay:7070/cam?token=${token}`);
 * ```
 *
 * @throws FramewireError `FW_BAD_OPTION` for a short secret, a bad stream pattern, role or ttl.
 */
export async function createToken(options: CreateTokenOptions): Promise<string> {
  const key = secretKey(options.secret);
  if (!isStreamPattern(options.stream)) {
    throw new FramewireError(ErrorCodes.BAD_OPTION, `stream must be a stream name, a prefix ending in "*" or "*", got "${options.stream}"`);
  }
  if (options.role !== 'view' && options.role !== 'publish') {
    throw new FramewireError(ErrorCodes.BAD_OPTION, `role must be "view" or "publish", got "${String(options.role)}"`);
  }
  const ttl = parseTtl(options.ttl ?? DEFAULT_TTL);
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  return new SignJWT({ stream: options.stream, role: options.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .sign(key);
}

/**
 * Parses a token lifetime into seconds: a whole number of seconds, or one
 * with a unit, `30s`, `10m`, `1h`, `7d`. Must be positive and at most ten
 * years; there is no "never expires" (use the relay's shared `token` for that).
 *
 * @throws FramewireError `FW_BAD_OPTION`
 */
export function parseTtl(ttl: string | number): number {
  const m = typeof ttl === 'number' ? undefined : /^\s*(\d{1,10})\s*([smhd]?)\s*$/i.exec(ttl);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[(m?.[2] ?? '').toLowerCase() as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = typeof ttl === 'number' ? ttl : m ? Number(m[1]) * unit : NaN;
  if (!Number.isInteger(seconds) || seconds <= 0 || seconds > MAX_TTL_SECONDS) {
    throw new FramewireError(
      ErrorCodes.BAD_OPTION,
      `ttl must be a positive duration of at most 3650d, like 30s, 10m, 1h or 7d; got "${ttl}"`,
    );
  }
  return seconds;
}

/**
 * Verifies a token's signature (HS256 only) and expiry and reads its claims.
 *
 * @param now ms since the epoch (default `Date.now()`).
 * @throws FramewireError `FW_UNAUTHORIZED` with the reason: `token expired`,
 *   `token signature does not match …`, `malformed token: …`.
 */
export async function verifyToken(token: string, secret: string, now?: number): Promise<TokenClaims> {
  return verifyWithKey(token, secretKey(secret), now);
}

/** True if `name` is in the streams `pattern` names (exact, `prefix*`, or `*`). */
export function streamAllowed(pattern: string, name: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

/** Why `scope` does not allow `role` on `stream`, or undefined if it does. Publish implies view. */
export function scopeDenial(scope: TokenScope, stream: string, role: Role): string | undefined {
  if (!streamAllowed(scope.stream, stream)) {
    return `token is for stream${scope.stream.endsWith('*') ? 's' : ''} "${scope.stream}", not "${stream}"`;
  }
  if (scope.role !== '*' && scope.role !== role && !(scope.role === 'publish' && role === 'view')) {
    return `token allows ${scope.role}, not ${role}`;
  }
  return undefined;
}

/** What a request needs: a role on a stream. */
export interface AccessNeed {
  stream: string;
  role: Role;
}

/**
 * A relay's token checks: the shared `token` (every stream, every role) and
 * scoped tokens signed with `secret`. Either, both or neither may be set.
 */
export class RelayAuth {
  private readonly sharedDigest: Buffer | undefined;
  private readonly key: Uint8Array | undefined;
  /** The secret as a WebCrypto key, imported once (about twice as fast per check as raw bytes). */
  private cryptoKey: Promise<webcrypto.CryptoKey> | undefined;
  private readonly now: () => number;

  /** @throws FramewireError `FW_BAD_OPTION` for a secret shorter than {@link MIN_SECRET_BYTES}. */
  constructor(options: {
    token?: string | undefined;
    secret?: string | undefined;
    /** Wall clock in ms since the epoch, for expiry (default `Date.now`). */
    now?: () => number;
  }) {
    this.sharedDigest = options.token ? digest(options.token) : undefined;
    this.key = options.secret !== undefined ? secretKey(options.secret) : undefined;
    this.now = options.now ?? Date.now;
  }

  /** True when peers must present a token. */
  get required(): boolean {
    return this.sharedDigest !== undefined || this.key !== undefined;
  }

  /**
   * The scope `token` grants (checked against `need` when given). Answers
   * at once when no signature is to be checked (no auth, no token, the
   * shared token, something that is not a JWT); otherwise a promise, as
   * signature checks are asynchronous. Throws (or rejects) only
   * `FW_UNAUTHORIZED`.
   */
  check(token: string | undefined, need?: AccessNeed): TokenScope | Promise<TokenScope> {
    if (!this.required) return FULL_SCOPE;
    if (token === undefined) throw unauthorized('this relay needs a token');
    if (this.sharedDigest && timingSafeEqual(digest(token), this.sharedDigest)) return FULL_SCOPE;
    const key = this.key;
    if (!key) throw unauthorized('wrong token');
    if (token.length > MAX_TOKEN_LENGTH) throw unauthorized(`malformed token: longer than ${MAX_TOKEN_LENGTH} characters`);
    if (!JWT_SHAPE.test(token)) throw unauthorized(this.sharedDigest ? 'wrong token' : 'malformed token: not a JWT');
    this.cryptoKey ??= webcrypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    const now = this.now();
    return this.cryptoKey
      .then((k) => verifyWithKey(token, k, now))
      .then((claims) => {
        const scope: TokenScope = { stream: claims.stream, role: claims.role };
        const denial = need && scopeDenial(scope, need.stream, need.role);
        if (denial) throw unauthorized(denial);
        return scope;
      });
  }
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

async function verifyWithKey(token: string, key: Uint8Array | webcrypto.CryptoKey, now?: number): Promise<TokenClaims> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ['HS256'],
      requiredClaims: ['exp'],
      ...(now !== undefined ? { currentDate: new Date(now) } : {}),
    }));
  } catch (err) {
    throw unauthorized(joseReason(err), err);
  }
  const { stream, role, exp, iat } = payload;
  if (typeof stream !== 'string' || !isStreamPattern(stream))
    throw unauthorized('malformed token: "stream" must be a stream name, a prefix ending in "*" or "*"');
  if (role !== 'view' && role !== 'publish') throw unauthorized('malformed token: "role" must be "view" or "publish"');
  return { stream, role, exp: exp as number, iat: typeof iat === 'number' ? iat : 0 };
}

function joseReason(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature does not match (signed with another secret?)';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'malformed token: only HS256 tokens are accepted';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `malformed token: ${err.message}`;
  return 'malformed token';
}

function isStreamPattern(s: string): boolean {
  if (s === '*') return true;
  return STREAM_NAME.test(s.endsWith('*') ? s.slice(0, -1) : s);
}

function secretKey(secret: string): Uint8Array {
  const key = new TextEncoder().encode(secret);
  if (key.length < MIN_SECRET_BYTES) {
    throw new FramewireError(
      ErrorCodes.BAD_OPTION,
      `the secret must be at least ${MIN_SECRET_BYTES} bytes, got ${key.length} (make one with: openssl rand -base64 32)`,
    );
  }
  return key;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function unauthorized(message: string, cause?: unknown): FramewireError {
  return FramewireError.unauthorized(message, cause);
}
