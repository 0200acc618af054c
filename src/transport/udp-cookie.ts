import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { COOKIE_BYTES } from '../protocol/udp/datagram.js';

/**
 * Stateless address-proof cookies: the server answers an init with
 * `time (u32 s) + HMAC-SHA256(secret, time | address | nonce)[0..16)`, and
 * creates a session only for an open that returns a fresh cookie from the
 * same address. A spoofed source address never sees its cookie, so it can
 * never make the server send anything bulky there. Pure given the secret and
 * the time passed in.
 */
export class CookieJar {
  private readonly secret: Buffer;

  constructor(
    secret: Buffer = randomBytes(32),
    /** How long a cookie stays valid, seconds. Default 30. */
    private readonly lifetimeS = 30,
  ) {
    this.secret = secret;
  }

  /** Makes a cookie for `address` ("ip:port") and the client's nonce at `nowUs`. */
  make(address: string, nonce: Uint8Array, nowUs: number): Buffer {
    const t = Math.floor(nowUs / 1e6) >>> 0;
    const out = Buffer.allocUnsafe(COOKIE_BYTES);
    out.writeUInt32BE(t, 0);
    this.mac(t, address, nonce).copy(out, 4, 0, 16);
    return out;
  }

  /** True if `cookie` was made by this jar for `address` and `nonce` within the lifetime. */
  check(cookie: Uint8Array, address: string, nonce: Uint8Array, nowUs: number): boolean {
    if (cookie.length !== COOKIE_BYTES) return false;
    const t = new DataView(cookie.buffer, cookie.byteOffset, cookie.byteLength).getUint32(0);
    const age = Math.floor(nowUs / 1e6) - t;
    if (age < 0 || age > this.lifetimeS) return false;
    return timingSafeEqual(cookie.subarray(4), this.mac(t, address, nonce).subarray(0, 16));
  }

  private mac(t: number, address: string, nonce: Uint8Array): Buffer {
    const h = createHmac('sha256', this.secret);
    const tb = Buffer.allocUnsafe(4);
    tb.writeUInt32BE(t, 0);
    h.update(tb);
    h.update(address, 'utf8');
    h.update(nonce);
    return h.digest();
  }
}
