/** The worked hex examples in docs/protocol.md are checked against the real encoder and decoder. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeControl, encodeFrameHeader } from '../../../src/protocol/messages.js';
import { decodeMessage } from '../../../src/protocol/parser.js';
import { docExamples } from '../../helpers/doc-hex.js';

const { doc, example } = docExamples('protocol.md');

describe('docs/protocol.md examples', () => {
  it('the hello dump is what encodeControl writes, and decodes back', () => {
    const body = { role: 'view' as const, stream: 'cam', token: 's3cret', params: { fps: 15 } };
    const bytes = example('hello');
    assert.equal(bytes.toString('hex'), Buffer.from(encodeControl({ type: 'hello', body })).toString('hex'));
    assert.equal(bytes.length, 79);
    assert.deepEqual(decodeMessage(bytes), { type: 'hello', body });
  });

  it('the frame header dump is what encodeFrameHeader writes, and decodes back with its payload', () => {
    const frame = {
      seq: 1234,
      captureUs: 1_700_000_000_123_456,
      width: 640,
      height: 480,
      codec: 'jpeg' as const,
      key: true,
      data: Buffer.alloc(5000, 1),
    };
    const bytes = example('frame');
    assert.equal(bytes.toString('hex'), Buffer.from(encodeFrameHeader(frame)).toString('hex'));
    const msg = decodeMessage(Buffer.concat([bytes, frame.data]));
    assert.ok(msg.type === 'frame');
    const { data, ...fields } = msg.frame;
    const { data: want, ...wantFields } = frame;
    assert.deepEqual(fields, wantFields);
    assert.ok(Buffer.from(data).equals(want));
  });

  it('lists every error code of src/errors.ts', async () => {
    const { ErrorCodes } = await import('../../../src/errors.js');
    for (const code of Object.values(ErrorCodes)) assert.ok(doc.includes(`\`${code}\``), code);
  });
});
