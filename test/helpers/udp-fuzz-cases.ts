/**
 * Hostile UDP datagrams for fuzz tests: a valid-looking datagram of every
 * kind, each field of it at its boundary values (0, 1, max − 1, max, random),
 * every truncation, random mutations and random bytes. Used by the unit
 * fuzz (decoders, reassembler, channel without sockets) and the
 * integration fuzz (a real relay's UDP port).
 */
import { encodeControl, encodeFrameHeader } from '../../src/protocol/messages.js';
import { Kind, encodeNacks, makeDatagram, type KindId } from '../../src/protocol/udp/datagram.js';
import { fragmentMessage } from '../../src/protocol/udp/fragmenter.js';
import { encodeCookie, encodeInit, encodeOpen, encodeOpened } from '../../src/protocol/udp/handshake.js';
import type { Prng } from './proto-prng.js';

/** A Buffer over the same memory (no copy), for the byte edits the templates need. */
const view = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
/** A field of a datagram: offset and width in bytes. */
export interface Field {
  name: string;
  at: number;
  width: 1 | 2 | 4;
}

/** One kind's valid-looking datagram and its fields. */
export interface Template {
  name: string;
  datagram: Buffer;
  fields: Field[];
}

const COMMON: Field[] = [
  { name: 'magic', at: 0, width: 2 },
  { name: 'version', at: 2, width: 1 },
  { name: 'kind', at: 3, width: 1 },
  { name: 'session', at: 4, width: 4 },
];
const f = (name: string, at: number, width: 1 | 2 | 4): Field => ({ name, at, width });

/** A small frame message (32-byte frame header + payload) as a viewer or publisher would carry it. */
export function sampleFrameMessage(bytes = 1500): Buffer[] {
  const data = Buffer.alloc(bytes, 0xab);
  data[0] = 0xff;
  data[1] = 0xd8;
  return [Buffer.from(encodeFrameHeader({ seq: 1, captureUs: 1_000_000, width: 64, height: 48, codec: 'jpeg', key: true, data })), data];
}

/** Templates of every kind for `session` (the open carries `cookie` if given, else zeros). */
export function templates(session: number, cookie: Uint8Array = new Uint8Array(20)): Template[] {
  const nonce = Buffer.from('0123456789abcdef', 'hex');
  const frags = fragmentMessage(sampleFrameMessage(), 7, { session, fragmentSize: 512, fecGroup: 2 });
  const flat = (parts: Uint8Array[] | undefined): Buffer => Buffer.concat(parts ?? []);
  const fragmentFields = [
    f('msgSeq', 8, 4),
    f('length', 12, 4),
    f('index', 16, 2),
    f('count', 18, 2),
    f('size', 20, 2),
    f('fec', 22, 1),
    f('flags', 23, 1),
    f('frameMagic', 24, 2),
    f('frameType', 27, 1),
    f('frameHeaderLength', 30, 2),
    f('framePayloadLength', 32, 4),
    f('frameWidth', 48, 2),
    f('frameCodec', 52, 1),
  ];
  const control = (msg: Parameters<typeof encodeControl>[0], reliable: boolean): Buffer => {
    const head = view(makeDatagram(Kind.control, session, 8));
    head.writeUInt32BE(3, 8);
    head.writeUInt8(reliable ? 1 : 0, 12);
    return Buffer.concat([head, encodeControl(msg)]);
  };
  const controlFields = [
    f('controlSeq', 8, 4),
    f('controlFlags', 12, 1),
    f('reserved', 13, 1),
    f('msgMagic', 16, 2),
    f('msgVersion', 18, 1),
    f('msgType', 19, 1),
    f('msgFlags', 20, 1),
    f('msgHeaderLength', 22, 2),
    f('msgPayloadLength', 24, 4),
    f('json', 28, 1),
  ];
  const ack = view(makeDatagram(Kind.ack, session, 4));
  ack.writeUInt32BE(3, 8);
  const withSession = (u: Uint8Array): Buffer => {
    const b = view(u);
    b.writeUInt32BE(session >>> 0, 4);
    return b;
  };
  const bare = (kind: KindId, name: string): Template => ({ name, datagram: view(makeDatagram(kind, session)), fields: COMMON });
  return [
    {
      name: 'init',
      datagram: withSession(encodeInit(nonce)),
      fields: [...COMMON, f('nonce', 8, 4), f('padding', 16, 4), f('last', 63, 1)],
    },
    {
      name: 'cookie',
      datagram: withSession(encodeCookie(nonce, Buffer.alloc(20, 7))),
      fields: [...COMMON, f('nonce', 8, 4), f('cookieTime', 16, 4), f('mac', 20, 4)],
    },
    {
      name: 'open',
      datagram: withSession(encodeOpen({ nonce, cookie, fragmentSize: 1200, fecGroup: 0 })),
      fields: [
        ...COMMON,
        f('nonce', 8, 4),
        f('cookieTime', 16, 4),
        f('mac', 20, 4),
        f('fragmentSize', 36, 2),
        f('fecGroup', 38, 1),
        f('reserved', 39, 1),
      ],
    },
    {
      name: 'opened',
      datagram: view(encodeOpened(session, nonce, 1200, 0)),
      fields: [...COMMON, f('nonce', 8, 4), f('fragmentSize', 16, 2), f('fecGroup', 18, 1), f('reserved', 19, 1)],
    },
    { name: 'control ping', datagram: control({ type: 'ping', body: { id: 1, t0: 5 } }, false), fields: [...COMMON, ...controlFields] },
    {
      name: 'control hello',
      datagram: control({ type: 'hello', body: { role: 'view', stream: 'fuzz' } }, true),
      fields: [...COMMON, ...controlFields],
    },
    {
      name: 'control stats',
      datagram: control({ type: 'stats', body: { framesSkipped: 1 } }, true),
      fields: [...COMMON, ...controlFields],
    },
    { name: 'ack', datagram: ack, fields: [...COMMON, f('controlSeq', 8, 4)] },
    { name: 'fragment first', datagram: flat(frags.data[0]), fields: [...COMMON, ...fragmentFields] },
    { name: 'fragment last', datagram: flat(frags.data.at(-1)), fields: [...COMMON, ...fragmentFields.slice(0, 7)] },
    { name: 'parity', datagram: flat(frags.parity[0]), fields: [...COMMON, ...fragmentFields.slice(0, 7)] },
    {
      name: 'nack',
      datagram: view(
        encodeNacks(
          session,
          [
            { seq: 7, indexes: [0, 1, 2] },
            { seq: 6, indexes: [] },
          ],
          1200,
        )[0] as Uint8Array,
      ),
      fields: [...COMMON, f('seq', 8, 4), f('n', 12, 2), f('index0', 14, 2), f('index2', 18, 2), f('seq2', 20, 4), f('n2', 24, 2)],
    },
    bare(Kind.keepalive, 'keepalive'),
    bare(Kind.close, 'close'),
    bare(Kind.unknownSession, 'unknown session'),
  ];
}

function boundaries(width: 1 | 2 | 4, rng: Prng): number[] {
  const max = width === 1 ? 0xff : width === 2 ? 0xffff : 0xffff_ffff;
  return [0, 1, max - 1, max, rng.int(0, max)];
}

function put(b: Buffer, field: Field, v: number): void {
  if (field.at + field.width > b.length) return;
  if (field.width === 1) b.writeUInt8(v, field.at);
  else if (field.width === 2) b.writeUInt16BE(v, field.at);
  else b.writeUInt32BE(v >>> 0, field.at);
}

/** Every field of `t` at each boundary value (one field changed per datagram). */
export function* fieldVariants(t: Template, rng: Prng): Generator<Buffer> {
  for (const field of t.fields) {
    for (const v of boundaries(field.width, rng)) {
      const b = Buffer.from(t.datagram);
      put(b, field, v);
      yield b;
    }
  }
}

/** `b` cut at every length from 0 to its own (views). */
export function* truncations(b: Buffer): Generator<Buffer> {
  for (let n = 0; n <= b.length; n++) yield b.subarray(0, n);
}

/** `b` with 1–4 random byte edits, maybe cut short or extended. */
export function mutate(rng: Prng, b: Buffer): Buffer {
  let out = Buffer.from(b);
  for (let n = rng.int(1, 4); n > 0 && out.length > 0; n--) {
    const at = rng.chance(0.6) ? rng.int(0, Math.min(out.length - 1, 40)) : rng.int(0, out.length - 1);
    out[at] = rng.pick([0, 1, 0x7f, 0x80, 0xfe, 0xff, rng.int(0, 255)]);
  }
  if (rng.chance(0.2)) out = out.subarray(0, rng.int(0, out.length));
  if (rng.chance(0.1)) out = Buffer.concat([out, rng.bytes(rng.int(1, 64))]);
  return out;
}

/** Random bytes, with a framewire UDP header (right magic and version, any kind) most of the time. */
export function randomDatagram(rng: Prng, session: number): Buffer {
  const b = rng.bytes(rng.int(0, 700));
  if (b.length >= 8 && rng.chance(0.8)) {
    b.writeUInt16BE(0x4655, 0);
    b.writeUInt8(1, 2);
    b.writeUInt8(rng.chance(0.8) ? rng.pick(Object.values(Kind)) : rng.int(0, 255), 3);
    if (rng.chance(0.7)) b.writeUInt32BE(session >>> 0, 4);
  }
  return b;
}

/** Every hostile datagram derived from `templates`: field variants, truncations, `mutations` mutations and `randoms` random ones. */
export function* hostileDatagrams(
  ts: Template[],
  rng: Prng,
  session: number,
  mutations = 20,
  randoms = 200,
): Generator<{ name: string; datagram: Buffer }> {
  for (const t of ts) {
    for (const d of fieldVariants(t, rng)) yield { name: `${t.name}: field`, datagram: d };
    for (const d of truncations(t.datagram)) yield { name: `${t.name}: truncated to ${d.length}`, datagram: d };
    for (let i = 0; i < mutations; i++) yield { name: `${t.name}: mutated`, datagram: mutate(rng, t.datagram) };
  }
  for (let i = 0; i < randoms; i++) yield { name: 'random', datagram: randomDatagram(rng, session) };
}
