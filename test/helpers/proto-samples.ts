/**
 * Sample protocol messages for unit and integration tests, plus helpers to
 * encode any message and to compare or sanity-check decoded ones.
 */
import assert from 'node:assert/strict';
import type { EncodedFrame } from '../../src/frame/frame.js';
import { MessageType, writeFixedHeader } from '../../src/protocol/header.js';
import {
  STREAM_NAME,
  encodeControl,
  encodeFrame,
  validateControl,
  type ControlMessage,
  type Message,
} from '../../src/protocol/messages.js';

/** A frame with a deterministic payload of `size` bytes. */
export function sampleFrame(seq: number, size: number, overrides: Partial<EncodedFrame> = {}): EncodedFrame {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31 + seq * 7) & 0xff;
  if (size >= 2) {
    data[0] = 0xff;
    data[1] = 0xd8;
  }
  return { seq, captureUs: 1_700_000_000_123_456 + seq * 33_333, width: 160, height: 120, codec: 'jpeg', key: true, data, ...overrides };
}

/** One control message of every type, with every optional field set somewhere. */
export const sampleControls: readonly ControlMessage[] = [
  {
    type: 'hello',
    body: {
      role: 'view',
      stream: 'cam-1.main_hd',
      token: 's3cret',
      params: { width: 640, height: 480, fps: 15, quality: 80 },
      client: 'test/1.0',
    },
  },
  { type: 'hello', body: { role: 'publish', stream: 'cam' } },
  {
    type: 'welcome',
    body: {
      session: 'a1b2c3d4e5f6',
      role: 'view',
      stream: 'cam',
      granted: { width: 160, height: 120, fps: 15 },
      serverTimeUs: 1_700_000_000_000_000,
      maxFrameBytes: 16 * 1024 * 1024,
      live: true,
    },
  },
  {
    type: 'welcome',
    body: { session: 'x', role: 'publish', stream: 'cam', granted: {}, serverTimeUs: 0, maxFrameBytes: 1, live: false },
  },
  { type: 'error', body: { code: 'FW_STREAM_BUSY', message: 'stream "cam" already has a publisher' } },
  { type: 'ping', body: { id: 7, t0: 1_700_000_000_000_001 } },
  { type: 'pong', body: { id: 7, t0: 1_700_000_000_000_001, t1: 1_700_000_000_005_000, t2: 1_700_000_000_005_050 } },
  { type: 'stats', body: { framesSkipped: 3, framesDecimated: 1, live: true, viewers: 2, note: 'hi' } },
  { type: 'stats', body: {} },
  { type: 'bye', body: { reason: 'publisher closing' } },
  { type: 'ack', body: { seq: 0 } },
  { type: 'ack', body: { seq: 0xffff_ffff } },
  { type: 'hello', body: { role: 'view', stream: 'cam', acks: true } },
];

/** Sample frames: key JPEG, non-key H.264 with a >32-bit capture time, extremes, empty payload. */
export const sampleFrames: readonly EncodedFrame[] = [
  sampleFrame(0, 100),
  sampleFrame(1, 37, { codec: 'h264', key: false, width: 1920, height: 1080 }),
  sampleFrame(0xffff_ffff, 5, { captureUs: 2 ** 53 - 1, width: 65535, height: 65535 }),
  sampleFrame(42, 0, { captureUs: 0, width: 1, height: 1 }),
];

/** Encodes any message as one Buffer. */
export function encode(msg: Message): Buffer {
  return Buffer.from(msg.type === 'frame' ? encodeFrame(msg.frame) : encodeControl(msg));
}

/** A control message with an arbitrary (possibly invalid) body, raw bytes as the payload. */
export function rawControl(type: ControlMessage['type'], payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const buf = Buffer.alloc(12 + body.length);
  writeFixedHeader(buf, MessageType[type], 0, 12, body.length);
  body.copy(buf, 12);
  return buf;
}

/** A comparable form of a message: frame payloads as hex. */
export function plain(msg: Message): unknown {
  if (msg.type !== 'frame') return msg;
  return { type: 'frame', frame: { ...msg.frame, data: Buffer.from(msg.frame.data).toString('hex') } };
}

/** Asserts two message lists are equal, frame payloads compared byte for byte. */
export function assertSameMessages(got: readonly Message[], want: readonly Message[], label: string): void {
  assert.equal(got.length, want.length, `${label}: message count`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as Message;
    const w = want[i] as Message;
    if (g.type === 'frame' && w.type === 'frame') {
      const { data: gd, ...gf } = g.frame;
      const { data: wd, ...wf } = w.frame;
      assert.deepEqual(gf, wf, `${label}: frame ${i} fields`);
      assert.ok(Buffer.from(gd).equals(wd), `${label}: frame ${i} payload`);
    } else {
      assert.deepEqual(g, w, `${label}: message ${i}`);
    }
  }
}

/**
 * Asserts a decoded message is valid: a frame with sane fields, or a control
 * message whose body survives validation again unchanged.
 */
export function assertValidMessage(msg: Message): void {
  if (msg.type === 'frame') {
    const f = msg.frame;
    assert.ok(Number.isInteger(f.seq) && f.seq >= 0 && f.seq <= 0xffff_ffff, 'seq is a u32');
    assert.ok(Number.isInteger(f.captureUs) && f.captureUs >= 0, 'captureUs is a non-negative integer');
    assert.ok(f.width >= 1 && f.width <= 65535 && f.height >= 1 && f.height <= 65535, 'size in range');
    assert.ok(f.codec === 'jpeg' || f.codec === 'h264', 'known codec');
    assert.equal(typeof f.key, 'boolean');
    assert.ok(f.data instanceof Uint8Array);
    return;
  }
  assert.deepEqual(validateControl(msg.type, JSON.parse(JSON.stringify(msg.body))), msg, 'body re-validates to itself');
  if (msg.type === 'hello' || msg.type === 'welcome') assert.match(msg.body.stream, STREAM_NAME);
  if (msg.type === 'error')
    assert.ok(typeof msg.body.code === 'string' && msg.body.code.length <= 64, 'error code is a string of at most 64 characters');
}
