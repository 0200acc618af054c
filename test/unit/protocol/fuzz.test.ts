/**
 * Fuzzing the decoder with a seeded PRNG. Every case derives its own seed;
 * a failure names it, and FW_FUZZ_SEED=<seed> replays that case first.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, FramewireError, isErrorCode } from '../../../src/errors.js';
import { MessageType, writeFixedHeader } from '../../../src/protocol/header.js';
import type { ControlMessage, Message } from '../../../src/protocol/messages.js';
import { DEFAULT_LIMITS, StreamParser, decodeMessage, type ParserLimits } from '../../../src/protocol/parser.js';
import { Prng, fuzzSeed } from '../../helpers/proto-prng.js';
import { assertSameMessages, assertValidMessage, encode, sampleControls, sampleFrame, sampleFrames } from '../../helpers/proto-samples.js';

const BASE_SEED = fuzzSeed(0x0f0e_1234);
const SMALL_LIMITS: ParserLimits = { maxFrameBytes: 2048, maxControlBytes: 1024, maxHeaderBytes: 64 };
const KNOWN_TYPES = Object.values(MessageType);
const CONTROL_TYPES = Object.keys(MessageType).filter((t) => t !== 'frame') as ControlMessage['type'][];

/** Runs `iterations` cases, each with its own PRNG; a failure reports the case's seed. */
function fuzz(name: string, iterations: number, body: (rng: Prng) => void): void {
  it(`${name} (${iterations} cases, base seed ${BASE_SEED})`, { timeout: 30_000 }, () => {
    for (let i = 0; i < iterations; i++) {
      const seed = (BASE_SEED + Math.imul(i, 0x9e37_79b9)) >>> 0;
      try {
        body(new Prng(seed));
      } catch (err) {
        const msg = `fuzz case ${i} failed; replay with FW_FUZZ_SEED=${seed}: ${err instanceof Error ? err.message : String(err)}`;
        console.error(msg);
        throw new Error(msg, { cause: err });
      }
    }
  });
}

/** A thrown value must be a FramewireError with a known code that is not a wrapped TypeError/RangeError. */
function assertCodedError(err: unknown): FramewireError {
  assert.ok(err instanceof FramewireError, `expected a FramewireError, got ${String(err)}`);
  assert.ok(isErrorCode(err.code), `unknown code ${err.code}`);
  assert.doesNotMatch(err.message, /^(TypeError|RangeError|SyntaxError|Error):/, 'an internal exception was wrapped');
  return err;
}

interface Outcome {
  messages: Message[];
  code: string | undefined;
}

/** Feeds `chunks` to a fresh parser, checking every invariant on the way. */
function feedChecked(chunks: readonly Buffer[], limits: ParserLimits): Outcome {
  const lim = { ...DEFAULT_LIMITS, ...limits };
  const p = new StreamParser(limits);
  const messages: Message[] = [];
  for (const c of chunks) {
    let out: Message[];
    try {
      out = p.push(c);
    } catch (err) {
      const e = assertCodedError(err);
      assert.equal(p.failed, e, 'the parser records its error');
      assert.equal(p.bufferedBytes, 0, 'a failed parser holds nothing');
      assert.throws(
        () => p.push(Buffer.from([0x46, 0x57, 1])),
        (again) => again === e,
        'stays failed',
      );
      return { messages, code: e.code };
    }
    for (const m of out) assertValidMessage(m);
    messages.push(...out);
    assert.ok(p.bufferedBytes < lim.maxHeaderBytes + Math.max(lim.maxFrameBytes, lim.maxControlBytes), 'buffer bounded by the limits');
  }
  return { messages, code: undefined };
}

/** Parses `wire` chunked at random and in one piece: same messages, or the same error code. */
function checkStream(rng: Prng, wire: Buffer): Outcome {
  const limits = rng.chance(0.5) ? SMALL_LIMITS : {};
  const chunked = feedChecked(rng.chunks(wire, rng.pick([1, 7, 64, 4096])), limits);
  const whole = feedChecked([wire], limits);
  assert.equal(chunked.code, whole.code, 'same error whatever the chunking');
  if (whole.code === undefined) assertSameMessages(chunked.messages, whole.messages, 'same messages whatever the chunking');
  return whole;
}

/** decodeMessage on one buffer: a valid message, or a coded error (no wrapping here to hide bugs). */
function checkDecode(buf: Buffer, limits: ParserLimits = {}): void {
  try {
    assertValidMessage(decodeMessage(buf, limits));
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assertCodedError(err);
  }
}

/** A plausible-looking header (right magic and version most of the time) followed by random bytes. */
function randomMessage(rng: Prng): Buffer {
  const type = rng.chance(0.8) ? rng.pick(KNOWN_TYPES) : rng.int(0, 255);
  const headerLength = rng.chance(0.7) ? (type === MessageType.frame ? 32 : 12) : rng.int(0, 300);
  const payload = rng.chance(0.3) && type !== MessageType.frame ? Buffer.from(randomJson(rng, 0)) : rng.bytes(rng.int(0, 200));
  const payloadLength = rng.chance(0.85) ? payload.length : rng.pick([0, 1, 2047, 2048, 2049, 65537, 0xffff_ffff, rng.int(0, 5000)]);
  const header = Buffer.alloc(Math.max(12, Math.min(headerLength, 300)));
  writeFixedHeader(header, type, rng.int(0, 255), headerLength, payloadLength);
  if (headerLength > 12) rng.bytes(header.length - 12).copy(header, 12);
  if (type === MessageType.frame && header.length >= 32 && rng.chance(0.7)) header[28] = rng.pick([1, 2]);
  if (rng.chance(0.05)) header.writeUInt16BE(rng.int(0, 0xffff), 0);
  if (rng.chance(0.05)) header[2] = rng.int(0, 255);
  return Buffer.concat([header, payload]);
}

const KEYS = [
  'role',
  'stream',
  'token',
  'params',
  'client',
  'session',
  'granted',
  'serverTimeUs',
  'maxFrameBytes',
  'live',
  'code',
  'message',
  'id',
  't0',
  't1',
  't2',
  'reason',
  'width',
  'height',
  'fps',
  'quality',
  'framesSkipped',
  '__proto__',
  'constructor',
  'toString',
];
const STRINGS = [
  'view',
  'publish',
  'cam',
  'a.b-c_d',
  '.dot',
  '',
  'x'.repeat(129),
  'x'.repeat(300),
  'FW_BAD_MAGIC',
  'FW_NOPE',
  'ü',
  '\u0000',
];
const NUMBERS = [0, 1, -1, 0.5, 15, 16, 640, 16384, 16385, 1e300, -1e300, 2 ** 53, 2 ** 53 + 2, 1e-9, 1000, 1000.5];

/** A random JSON text, biased toward the field names and edge values the validator checks. */
function randomJson(rng: Prng, depth: number): string {
  const value = (d: number): unknown => {
    switch (rng.int(0, d > 2 ? 3 : 5)) {
      case 0:
        return rng.pick(NUMBERS);
      case 1:
        return rng.pick(STRINGS);
      case 2:
        return rng.chance(0.5);
      case 3:
        return null;
      case 4:
        return Array.from({ length: rng.int(0, 3) }, () => value(d + 1));
      default:
        return object(d + 1);
    }
  };
  const object = (d: number): Record<string, unknown> => {
    const o: Record<string, unknown> = {};
    for (let n = rng.int(0, 8); n > 0; n--)
      Object.defineProperty(o, rng.pick(KEYS), { value: value(d), enumerable: true, configurable: true, writable: true });
    return o;
  };
  return JSON.stringify(rng.chance(0.9) ? object(depth) : value(depth));
}

/** Applies 1–6 random edits: bit flips, byte overwrites (header-biased), inserts, deletes, duplicates, truncation. */
function mutate(rng: Prng, input: Buffer): Buffer {
  let b = Buffer.from(input);
  for (let n = rng.int(1, 6); n > 0 && b.length > 0; n--) {
    const at = rng.chance(0.5) ? rng.int(0, Math.min(b.length - 1, 40)) : rng.int(0, b.length - 1);
    switch (rng.int(0, 5)) {
      case 0:
        b[at] = (b[at] as number) ^ (1 << rng.int(0, 7));
        break;
      case 1:
        b[at] = rng.pick([0, 1, 0x7f, 0x80, 0xff, rng.int(0, 255)]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), rng.bytes(rng.int(1, 16)), b.subarray(at)]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + rng.int(1, 16)))]);
        break;
      case 4:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + rng.int(1, 64)), b.subarray(at)]);
        break;
      default:
        b = b.subarray(0, rng.int(0, b.length));
        break;
    }
  }
  return b;
}

const validMessages: Message[] = [...sampleControls, ...sampleFrames.map((frame) => ({ type: 'frame' as const, frame }))];
const validWires = validMessages.map(encode);

describe('parser fuzz', () => {
  fuzz('random bytes', 3000, (rng) => {
    const wire = rng.bytes(rng.int(0, 400));
    if (rng.chance(0.5) && wire.length >= 2) wire.writeUInt16BE(0x4657, 0);
    if (rng.chance(0.5) && wire.length > 2) wire[2] = 1;
    checkStream(rng, wire);
    checkDecode(wire);
  });

  fuzz('random headers with plausible fields and random or JSON payloads', 3000, (rng) => {
    const parts = Array.from({ length: rng.int(1, 5) }, () => (rng.chance(0.5) ? randomMessage(rng) : rng.pick(validWires)));
    checkStream(rng, Buffer.concat(parts));
    const one = randomMessage(rng);
    checkDecode(one, rng.chance(0.5) ? SMALL_LIMITS : {});
  });

  fuzz('random JSON bodies for every control type', 3000, (rng) => {
    const type = rng.pick(CONTROL_TYPES);
    const json = Buffer.from(randomJson(rng, 0));
    const wire = Buffer.alloc(12 + json.length);
    writeFixedHeader(wire, MessageType[type], 0, 12, json.length);
    json.copy(wire, 12);
    checkDecode(wire);
    const out = checkStream(rng, wire);
    assert.ok(out.code === undefined || out.code === ErrorCodes.BAD_MESSAGE || out.code === ErrorCodes.CONTROL_TOO_LARGE, String(out.code));
  });

  fuzz('mutated sequences of valid messages', 3000, (rng) => {
    const parts = Array.from({ length: rng.int(1, 6) }, () => rng.pick(validWires));
    const wire = mutate(rng, Buffer.concat(parts));
    checkStream(rng, wire);
    checkDecode(mutate(rng, rng.pick(validWires)));
  });

  fuzz('a valid prefix, then garbage: the prefix decodes, then a coded error or a wait for more', 500, (rng) => {
    const good = Array.from({ length: rng.int(1, 4) }, () => rng.pick(validMessages));
    const junk = rng.bytes(rng.int(1, 64));
    if (rng.chance(0.3) && junk.length >= 3) {
      junk.writeUInt16BE(0x4657, 0);
      junk[2] = 1;
    }
    const wire = Buffer.concat([...good.map(encode), junk]);
    const p = new StreamParser();
    const got = p.push(wire.subarray(0, wire.length - junk.length));
    assertSameMessages(got, good, 'prefix');
    try {
      for (const m of p.push(junk)) assertValidMessage(m);
      assert.ok(p.bufferedBytes <= junk.length, 'only the junk is held');
    } catch (err) {
      if (err instanceof assert.AssertionError) throw err;
      assertCodedError(err);
      if (junk.length >= 2 && junk.readUInt16BE(0) !== 0x4657) assert.equal((err as FramewireError).code, ErrorCodes.BAD_MAGIC);
    }
  });

  it('truncated messages: decodeMessage says FW_BAD_HEADER, the stream parser waits with exactly the bytes seen', () => {
    const big = encode({ type: 'frame', frame: sampleFrame(77, 3000) });
    for (const wire of [...validWires, big]) {
      for (let n = 0; n < wire.length; n++) {
        const cut = wire.subarray(0, n);
        assert.throws(
          () => decodeMessage(cut),
          (err) => err instanceof FramewireError && err.code === ErrorCodes.BAD_HEADER,
          `cut at ${n}`,
        );
        const p = new StreamParser();
        assert.deepEqual(p.push(cut), [], `cut at ${n}`);
        assert.equal(p.bufferedBytes, n);
      }
    }
  });
});
