import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import { FULL_SCOPE, RelayAuth, scopeDenial } from '../../../src/relay/auth.js';
import { createRelay, createToken, isFramewireError, verifyToken } from '../../../src/index.js';
import { parseTtl, streamAllowed } from '../../../src/relay/auth.js';

const SECRET = 'unit-test-secret-0123456789abcdef';
const OTHER = 'another-secret-0123456789abcdefgh';
const key = new TextEncoder().encode(SECRET);

/** Asserts FW_UNAUTHORIZED with a message matching `reason`. */
function unauthorized(reason: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(isFramewireError(e, 'FW_UNAUTHORIZED'), `expected FW_UNAUTHORIZED, got ${String(e)}`);
    assert.match(e.message, reason);
    return true;
  };
}
const badOption = (e: unknown): boolean => isFramewireError(e, 'FW_BAD_OPTION');

describe('parseTtl', () => {
  it('reads seconds, minutes, hours and days', () => {
    assert.equal(parseTtl('30s'), 30);
    assert.equal(parseTtl('10m'), 600);
    assert.equal(parseTtl('1h'), 3600);
    assert.equal(parseTtl('7d'), 7 * 86_400);
    assert.equal(parseTtl('7D'), 7 * 86_400);
    assert.equal(parseTtl('45'), 45);
    assert.equal(parseTtl(90), 90);
    assert.equal(parseTtl('3650d'), 3650 * 86_400);
  });
  it('refuses zero, negatives, fractions, unknown units, never and more than ten years', () => {
    for (const bad of ['0', '0s', '-1s', '1.5h', '1w', '', 'h', 'none', 'never', '3651d', '1h30m', 0, -5, 1.5, Number.NaN, Infinity]) {
      assert.throws(() => parseTtl(bad), badOption, String(bad));
    }
  });
});

describe('stream scope', () => {
  it('matches exact names, prefixes ending in * and *', () => {
    assert.ok(streamAllowed('cam', 'cam'));
    assert.ok(!streamAllowed('cam', 'cam2'));
    assert.ok(!streamAllowed('cam', 'ca'));
    assert.ok(streamAllowed('cam-*', 'cam-1'));
    assert.ok(streamAllowed('cam-*', 'cam-'));
    assert.ok(!streamAllowed('cam-*', 'cam'));
    assert.ok(!streamAllowed('cam-*', 'xcam-1'));
    assert.ok(streamAllowed('*', 'anything'));
  });
  it('says why a scope does not allow a role on a stream; publish implies view', () => {
    assert.equal(scopeDenial({ stream: 'cam', role: 'view' }, 'cam', 'view'), undefined);
    assert.equal(scopeDenial({ stream: 'cam', role: 'publish' }, 'cam', 'publish'), undefined);
    assert.equal(scopeDenial({ stream: 'cam', role: 'publish' }, 'cam', 'view'), undefined);
    assert.equal(scopeDenial({ stream: 'cam', role: 'view' }, 'cam', 'publish'), 'token allows view, not publish');
    assert.equal(scopeDenial({ stream: 'cam', role: 'view' }, 'b', 'view'), 'token is for stream "cam", not "b"');
    assert.equal(scopeDenial({ stream: 'cam-*', role: 'publish' }, 'b', 'publish'), 'token is for streams "cam-*", not "b"');
    assert.equal(scopeDenial(FULL_SCOPE, 'any', 'publish'), undefined);
  });
});

describe('createToken and verifyToken', () => {
  it('make an HS256 JWT with stream, role, iat and exp, and read it back', async () => {
    const now = Date.UTC(2030, 0, 1);
    const token = await createToken({ secret: SECRET, stream: 'cam', role: 'view', ttl: '10m', now });
    const [header] = token.split('.');
    assert.deepEqual(JSON.parse(Buffer.from(header as string, 'base64url').toString()), { alg: 'HS256', typ: 'JWT' });
    const claims = await verifyToken(token, SECRET, now + 1000);
    assert.deepEqual(claims, { stream: 'cam', role: 'view', iat: now / 1000, exp: now / 1000 + 600 });
    const dflt = await verifyToken(await createToken({ secret: SECRET, stream: 'cam-*', role: 'publish', now }), SECRET, now);
    assert.equal(dflt.exp - dflt.iat, 3600);
    assert.equal(dflt.stream, 'cam-*');
  });
  it('refuse a short secret, a bad stream pattern, a bad role or ttl', async () => {
    await assert.rejects(createToken({ secret: 'x'.repeat(31), stream: 'cam', role: 'view' }), badOption);
    for (const stream of ['', 'a/b', '**', '*cam', 'ca*m', '.hidden']) {
      await assert.rejects(createToken({ secret: SECRET, stream, role: 'view' }), badOption, stream);
    }
    await assert.rejects(createToken({ secret: SECRET, stream: 'cam', role: 'admin' as 'view' }), badOption);
    await assert.rejects(createToken({ secret: SECRET, stream: 'cam', role: 'view', ttl: '0' }), badOption);
    assert.throws(() => createRelay({ secret: 'short' }), badOption);
  });
  it('refuse expired, foreign, malformed, unsigned and other-algorithm tokens with the reason', async () => {
    const now = Date.now();
    const expired = await createToken({ secret: SECRET, stream: 'cam', role: 'view', ttl: '1h', now: now - 2 * 3600_000 });
    await assert.rejects(verifyToken(expired, SECRET), unauthorized(/^token expired$/));
    const foreign = await createToken({ secret: OTHER, stream: 'cam', role: 'view' });
    await assert.rejects(verifyToken(foreign, SECRET), unauthorized(/signature does not match/));
    await assert.rejects(verifyToken('not a token', SECRET), unauthorized(/^malformed token/));
    await assert.rejects(verifyToken('a.b.c', SECRET), unauthorized(/^malformed token/));
    const unsigned = new UnsecuredJWT({ stream: 'cam', role: 'view' }).setExpirationTime('1h').encode();
    await assert.rejects(verifyToken(unsigned, SECRET), unauthorized(/^malformed token/));
    const hs512 = await new SignJWT({ stream: 'cam', role: 'view' })
      .setProtectedHeader({ alg: 'HS512' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET.repeat(2)));
    await assert.rejects(verifyToken(hs512, SECRET.repeat(2)), unauthorized(/only HS256/));
    const noExp = await new SignJWT({ stream: 'cam', role: 'view' }).setProtectedHeader({ alg: 'HS256' }).sign(key);
    await assert.rejects(verifyToken(noExp, SECRET), unauthorized(/^malformed token: .*exp/));
    const admin = await new SignJWT({ stream: 'cam', role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(key);
    await assert.rejects(verifyToken(admin, SECRET), unauthorized(/"role" must be/));
    const badStream = await new SignJWT({ stream: 'a/b', role: 'view' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(key);
    await assert.rejects(verifyToken(badStream, SECRET), unauthorized(/"stream" must be/));
    const noStream = await new SignJWT({ role: 'view' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(key);
    await assert.rejects(verifyToken(noStream, SECRET), unauthorized(/"stream" must be/));
  });
});

describe('RelayAuth', () => {
  it('without token or secret allows everything, at once', () => {
    assert.equal(new RelayAuth({}).check(undefined, { stream: 'x', role: 'publish' }), FULL_SCOPE);
  });
  it('answers the shared token and non-JWTs at once, and JWTs through a promise', async () => {
    const both = new RelayAuth({ token: 'shared', secret: SECRET });
    assert.equal(both.check('shared', { stream: 'x', role: 'publish' }), FULL_SCOPE);
    assert.throws(() => both.check(undefined), unauthorized(/^this relay needs a token$/));
    assert.throws(() => both.check('wrong'), unauthorized(/^wrong token$/));
    assert.throws(() => new RelayAuth({ secret: SECRET }).check('wrong'), unauthorized(/^malformed token: not a JWT$/));
    assert.throws(() => new RelayAuth({ token: 'shared' }).check('a.b.c'), unauthorized(/^wrong token$/));
    assert.throws(() => both.check(`${'a'.repeat(600)}.${'b'.repeat(600)}.c`), unauthorized(/longer than 1024/));
    const view = await createToken({ secret: SECRET, stream: 'cam', role: 'view' });
    const pending = both.check(view, { stream: 'cam', role: 'view' });
    assert.ok(pending instanceof Promise);
    assert.deepEqual(await pending, { stream: 'cam', role: 'view' });
    await assert.rejects(
      Promise.resolve(both.check(view, { stream: 'cam', role: 'publish' })),
      unauthorized(/^token allows view, not publish$/),
    );
    await assert.rejects(
      Promise.resolve(both.check(view, { stream: 'b', role: 'view' })),
      unauthorized(/^token is for stream "cam", not "b"$/),
    );
  });
  it('checks expiry on its own clock', async () => {
    let now = Date.now();
    const auth = new RelayAuth({ secret: SECRET, now: () => now });
    const token = await createToken({ secret: SECRET, stream: 'cam', role: 'view', ttl: '30s', now });
    assert.deepEqual(await auth.check(token), { stream: 'cam', role: 'view' });
    now += 31_000;
    await assert.rejects(Promise.resolve(auth.check(token)), unauthorized(/^token expired$/));
  });
});
