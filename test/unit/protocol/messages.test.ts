import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, isFramewireError, type ErrorCode } from '../../../src/errors.js';
import { FRAME_HEADER_BYTES, MessageType, readFixedHeader } from '../../../src/protocol/header.js';
import { encodeControl, encodeFrame, encodeFrameHeader, validateControl, type ControlMessage } from '../../../src/protocol/messages.js';
import { decodeMessage } from '../../../src/protocol/parser.js';
import {
  assertSameMessages,
  assertValidMessage,
  rawControl,
  sampleControls,
  sampleFrame,
  sampleFrames,
} from '../../helpers/proto-samples.js';

function throwsCode(fn: () => unknown, code: ErrorCode, label: string): void {
  assert.throws(fn, (err: unknown) => isFramewireError(err, code), `${label}: expected ${code}`);
}

describe('control messages', () => {
  for (const msg of sampleControls) {
    it(`round-trips ${msg.type} ${JSON.stringify(msg.body).slice(0, 40)}`, () => {
      const wire = Buffer.from(encodeControl(msg));
      const h = readFixedHeader(wire);
      assert.equal(h.magic, 0x4657);
      assert.equal(h.version, 1);
      assert.equal(h.type, MessageType[msg.type]);
      assert.equal(h.flags, 0);
      assert.equal(h.headerLength, 12);
      assert.equal(h.payloadLength, wire.length - 12);
      assert.deepEqual(JSON.parse(wire.subarray(12).toString('utf8')), msg.body, 'payload is the JSON body');
      const back = decodeMessage(wire);
      assert.deepEqual(back, msg);
      assertValidMessage(back);
    });
  }

  it('covers every control type', () => {
    const types = new Set(sampleControls.map((m) => m.type));
    for (const name of Object.keys(MessageType)) if (name !== 'frame') assert.ok(types.has(name as ControlMessage['type']), name);
  });

  it('ignores unknown fields and keeps only known ones', () => {
    const msg = decodeMessage(rawControl('hello', '{"role":"view","stream":"cam","future":{"x":1},"params":{"width":320,"zoom":2}}'));
    assert.deepEqual(msg, { type: 'hello', body: { role: 'view', stream: 'cam', params: { width: 320 } } });
  });

  it('rounds width, height and quality; keeps fractional fps', () => {
    const msg = decodeMessage(
      rawControl('hello', '{"role":"view","stream":"cam","params":{"width":320.4,"height":239.6,"fps":7.5,"quality":49.5}}'),
    );
    assert.deepEqual(msg.type === 'hello' && msg.body.params, { width: 320, height: 240, fps: 7.5, quality: 50 });
  });

  it('accepts any size a frame can carry in params and granted (regression: an 8x8 stream made every welcome invalid)', () => {
    for (const [w, h] of [
      [1, 1],
      [8, 8],
      [20000, 65535],
    ] as const) {
      const welcome = decodeMessage(
        rawControl(
          'welcome',
          `{"session":"s","role":"view","stream":"cam","granted":{"width":${w},"height":${h}},"serverTimeUs":1,"maxFrameBytes":2,"live":true}`,
        ),
      );
      assert.deepEqual(welcome.type === 'welcome' && welcome.body.granted, { width: w, height: h });
      const hello = decodeMessage(rawControl('hello', `{"role":"publish","stream":"cam","params":{"width":${w},"height":${h}}}`));
      assert.deepEqual(hello.type === 'hello' && hello.body.params, { width: w, height: h });
    }
  });

  it("keeps an unknown error code as it came (a newer peer's code stays readable)", () => {
    const msg = decodeMessage(rawControl('error', '{"code":"FW_FROM_THE_FUTURE","message":"?"}'));
    assert.deepEqual(msg, { type: 'error', body: { code: 'FW_FROM_THE_FUTURE', message: '?' } });
  });

  it('ignores stats values it does not understand and keeps at most 64 entries', () => {
    const msg = decodeMessage(rawControl('stats', `{"a":{"b":1},"n":null,"l":[1],"s":"${'x'.repeat(257)}","ok":3,"t":true,"w":"hi"}`));
    assert.deepEqual(msg, { type: 'stats', body: { ok: 3, t: true, w: 'hi' } });
    const many = decodeMessage(rawControl('stats', JSON.stringify(Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])))));
    assert.equal(many.type === 'stats' && Object.keys(many.body).length, 64);
    assert.equal(many.type === 'stats' && many.body.k64, undefined, 'the 65th key is the one left out');
  });

  it('reads welcome.live as false unless it is exactly true', () => {
    const msg = decodeMessage(
      rawControl('welcome', '{"session":"s","role":"view","stream":"cam","serverTimeUs":1,"maxFrameBytes":2,"live":"yes"}'),
    );
    assert.deepEqual(msg.type === 'welcome' && msg.body, {
      session: 's',
      role: 'view',
      stream: 'cam',
      granted: {},
      serverTimeUs: 1,
      maxFrameBytes: 2,
      live: false,
    });
  });

  it('accepts a control body with a header longer than 12 bytes (skips the extra header bytes)', () => {
    const json = Buffer.from('{"reason":"x"}');
    const wire = Buffer.concat([Buffer.from([0x46, 0x57, 1, 7, 0, 0, 0, 20, 0, 0, 0, json.length]), Buffer.alloc(8, 0xee), json]);
    assert.deepEqual(decodeMessage(wire), { type: 'bye', body: { reason: 'x' } });
  });

  describe('rejects bad bodies with FW_BAD_MESSAGE', () => {
    const long = (n: number): string => 'a'.repeat(n);
    const cases: [string, ControlMessage['type'], string][] = [
      ['invalid JSON', 'hello', '{"role":"view",'],
      ['empty payload', 'hello', ''],
      ['control characters', 'bye', '\u0000\u0001'],
      ['a JSON array', 'hello', '["view","cam"]'],
      ['JSON null', 'ping', 'null'],
      ['a JSON string', 'bye', '"bye"'],
      ['missing role', 'hello', '{"stream":"cam"}'],
      ['unknown role', 'hello', '{"role":"chat","stream":"cam"}'],
      ['missing stream', 'hello', '{"role":"view"}'],
      ['stream as a number', 'hello', '{"role":"view","stream":7}'],
      ['empty stream', 'hello', '{"role":"view","stream":""}'],
      ['stream starting with a dot', 'hello', '{"role":"view","stream":".hidden"}'],
      ['stream with a space', 'hello', '{"role":"view","stream":"my cam"}'],
      ['stream with a slash', 'hello', '{"role":"view","stream":"a/b"}'],
      ['stream with non-ASCII', 'hello', '{"role":"view","stream":"kamera-ü"}'],
      ['stream of 129 characters', 'hello', `{"role":"view","stream":"${long(129)}"}`],
      ['token of 1025 characters', 'hello', `{"role":"view","stream":"cam","token":"${long(1025)}"}`],
      ['token as a number', 'hello', '{"role":"view","stream":"cam","token":1234}'],
      ['client of 129 characters', 'hello', `{"role":"view","stream":"cam","client":"${long(129)}"}`],
      ['params as an array', 'hello', '{"role":"view","stream":"cam","params":[1]}'],
      ['width 0', 'hello', '{"role":"view","stream":"cam","params":{"width":0}}'],
      ['width 0.4 (rounds to 0)', 'hello', '{"role":"view","stream":"cam","params":{"width":0.4}}'],
      ['height above 65535', 'hello', '{"role":"view","stream":"cam","params":{"height":65536}}'],
      [
        'granted width 0',
        'welcome',
        '{"session":"s","role":"view","stream":"cam","granted":{"width":0},"serverTimeUs":1,"maxFrameBytes":2}',
      ],
      ['width as a string', 'hello', '{"role":"view","stream":"cam","params":{"width":"640"}}'],
      ['fps of 0', 'hello', '{"role":"view","stream":"cam","params":{"fps":0}}'],
      ['quality of 101', 'hello', '{"role":"view","stream":"cam","params":{"quality":101}}'],
      ['welcome without session', 'welcome', '{"role":"view","stream":"cam","serverTimeUs":1,"maxFrameBytes":2}'],
      ['welcome with negative time', 'welcome', '{"session":"s","role":"view","stream":"cam","serverTimeUs":-1,"maxFrameBytes":2}'],
      ['error without message', 'error', '{"code":"FW_BAD_MAGIC"}'],
      ['error message of 1025 characters', 'error', `{"code":"FW_BAD_MAGIC","message":"${long(1025)}"}`],
      ['ping without t0', 'ping', '{"id":1}'],
      ['ping with negative id', 'ping', '{"id":-1,"t0":0}'],
      ['ping with t0 as a string', 'ping', '{"id":1,"t0":"0"}'],
      ['ping with t0 beyond 2^53', 'ping', '{"id":1,"t0":1e300}'],
      ['pong without t2', 'pong', '{"id":1,"t0":0,"t1":0}'],
      ['bye without reason', 'bye', '{}'],
      ['ack without seq', 'ack', '{}'],
      ['ack with a negative seq', 'ack', '{"seq":-1}'],
      ['ack with a seq beyond 32 bits', 'ack', '{"seq":4294967296}'],
      ['hello with acks not a boolean', 'hello', '{"role":"view","stream":"cam","acks":"yes"}'],
    ];
    for (const [label, type, json] of cases) {
      it(label, () => throwsCode(() => decodeMessage(rawControl(type, json)), ErrorCodes.BAD_MESSAGE, label));
    }
  });

  it('validateControl rejects a non-object body', () => {
    throwsCode(() => validateControl('bye', 'x'), ErrorCodes.BAD_MESSAGE, 'string body');
  });
});

describe('frame messages', () => {
  for (const frame of sampleFrames) {
    it(`round-trips seq ${frame.seq} ${frame.codec} ${frame.width}x${frame.height} (${frame.data.length} bytes)`, () => {
      const wire = Buffer.from(encodeFrame(frame));
      assert.equal(wire.length, FRAME_HEADER_BYTES + frame.data.length);
      const header = encodeFrameHeader(frame);
      assert.ok(wire.subarray(0, FRAME_HEADER_BYTES).equals(header));
      const h = readFixedHeader(wire);
      assert.equal(h.type, 0x10);
      assert.equal(h.flags, frame.key ? 1 : 0);
      assert.equal(h.headerLength, 32);
      assert.equal(h.payloadLength, frame.data.length);
      assert.equal(wire.readUInt32BE(12), frame.seq);
      assert.equal(wire.readUInt32BE(16) * 2 ** 32 + wire.readUInt32BE(20), frame.captureUs);
      assert.equal(wire.readUInt16BE(24), frame.width);
      assert.equal(wire.readUInt16BE(26), frame.height);
      assert.equal(wire[28], frame.codec === 'jpeg' ? 1 : 2);
      assert.equal(wire.readUInt8(29) + wire.readUInt16BE(30), 0, 'reserved bytes are zero');
      const back = decodeMessage(wire);
      assertSameMessages([back], [{ type: 'frame', frame }], 'round trip');
      assertValidMessage(back);
    });
  }

  it('decodes the payload as a view into the input, not a copy', () => {
    const wire = encodeFrame(sampleFrame(3, 64));
    const msg = decodeMessage(wire);
    assert.ok(msg.type === 'frame' && msg.frame.data.buffer === wire.buffer && msg.frame.data.byteOffset === wire.byteOffset + 32);
  });

  it('skips header bytes beyond offset 32 that it does not know', () => {
    const frame = sampleFrame(9, 10);
    const std = encodeFrame(frame);
    const ext = Buffer.concat([std.subarray(0, 32), Buffer.alloc(16, 0xab), frame.data]);
    ext.writeUInt16BE(48, 6);
    assertSameMessages([decodeMessage(ext)], [{ type: 'frame', frame }], 'extended header');
  });

  it('ignores flag bits it does not know', () => {
    const wire = encodeFrame(sampleFrame(9, 10, { key: false }));
    wire[4] = 0xfe;
    const msg = decodeMessage(wire);
    assert.ok(msg.type === 'frame' && msg.frame.key === false);
  });
});
