/** The hex examples in docs/protocol-udp.md are checked against the real encoders and decoders. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kind, readDatagram } from '../../../src/protocol/udp/datagram.js';
import { encodeOpened, encodeUnknownSession, readOpened } from '../../../src/protocol/udp/handshake.js';
import { docExamples } from '../../helpers/doc-hex.js';

const { example } = docExamples('protocol-udp.md');

test('the opened example is what encodeOpened writes, and reads back', () => {
  const nonce = Buffer.from('0001020304050607', 'hex');
  const bytes = example('opened');
  assert.equal(bytes.toString('hex'), Buffer.from(encodeOpened(0x1234_5678, nonce, 1200, 10)).toString('hex'));
  const dg = readDatagram(bytes);
  assert.ok(dg);
  assert.deepEqual(readOpened(dg, nonce), { session: 0x1234_5678, granted: { fragmentSize: 1200, fecGroup: 10 } });
  // A server that sends only the nonce (an older build): no grant known, still an opened.
  assert.deepEqual(readOpened({ ...dg, body: dg.body.subarray(0, 8) }, nonce), { session: 0x1234_5678, granted: undefined });
});

test('the unknown-session example is what encodeUnknownSession writes', () => {
  const bytes = example('unknown-session');
  assert.equal(bytes.toString('hex'), Buffer.from(encodeUnknownSession(0x1234_5678)).toString('hex'));
  assert.equal(readDatagram(bytes)?.kind, Kind.unknownSession);
});
