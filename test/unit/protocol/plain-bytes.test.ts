import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, isFramewireError } from '../../../src/errors.js';
import type { Message } from '../../../src/protocol/messages.js';
import { StreamParser, decodeMessage } from '../../../src/protocol/parser.js';
import { assertSameMessages, encode, sampleControls, sampleFrame } from '../../helpers/proto-samples.js';

/** A copy that is a plain Uint8Array, as a browser has: no Buffer methods to lean on. */
const plain = (b: Uint8Array): Uint8Array => {
  const u = new Uint8Array(b.length);
  u.set(b);
  return u;
};

describe('the core on plain Uint8Array (what a browser feeds it)', () => {
  const messages: Message[] = [
    ...sampleControls,
    { type: 'frame', frame: sampleFrame(7, 3000) },
    { type: 'frame', frame: sampleFrame(8, 1) },
  ];
  const wire = plain(Buffer.concat(messages.map(encode)));

  it('parses the same messages at every split point into two plain chunks', () => {
    assert.ok(!Buffer.isBuffer(wire));
    for (let cut = 0; cut <= wire.length; cut++) {
      const p = new StreamParser();
      const got = [...p.push(wire.subarray(0, cut)), ...p.push(wire.subarray(cut))];
      assertSameMessages(got, messages, `split at ${cut}`);
    }
  });

  it('decodes one whole plain message; a frame payload is a view, not a copy', () => {
    const one = plain(encode({ type: 'frame', frame: sampleFrame(9, 100) }));
    const msg = decodeMessage(one);
    assert.ok(msg.type === 'frame');
    assert.equal(msg.frame.data.buffer, one.buffer, 'the payload shares the message bytes');
    assert.equal(msg.frame.data.byteOffset, 32);
  });

  it('bad plain input is a coded error, never a TypeError', () => {
    for (let n = 0; n < 40; n++) {
      const junk = new Uint8Array(n).map((_, i) => (i * 37 + n) & 0xff);
      try {
        decodeMessage(junk);
        assert.fail(`junk of ${n} bytes decoded`);
      } catch (err) {
        assert.ok(isFramewireError(err), `junk of ${n} bytes: ${String(err)}`);
      }
    }
    const invalidUtf8 = plain(encode(sampleControls[0] as Message));
    invalidUtf8[14] = 0xff;
    assert.ok(
      isFramewireError(
        (() => {
          try {
            decodeMessage(invalidUtf8);
          } catch (e) {
            return e;
          }
        })(),
        ErrorCodes.BAD_MESSAGE,
      ),
    );
  });
});
