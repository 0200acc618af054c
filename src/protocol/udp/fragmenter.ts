import { ErrorCodes, FramewireError } from '../../errors.js';
import { FRAGMENT_HEADER_BYTES, writeFragmentHeader } from './datagram.js';

/** Default fragment payload size: 1200 bytes fits the smallest common path MTU (1280, IPv6) with room for headers. */
export const DEFAULT_FRAGMENT_SIZE = 1200;
/**
 * Smallest fragment payload a session uses (sends, grants, accepts): 512
 * bytes. With the 24-byte fragment header and 28 bytes of IPv4 + UDP headers
 * a datagram is 564 bytes, within the 576 bytes every IPv4 host must accept
 * (RFC 791) — and a peer cannot make the other side handle more than about
 * 2 datagrams per KiB of video (at 64-byte fragments it was 16).
 */
export const MIN_FRAGMENT_SIZE = 512;
/** Largest fragment payload: a u16 on the wire, and below the 65,507-byte IPv4 datagram ceiling. */
export const MAX_FRAGMENT_SIZE = 65_000;
/**
 * Largest fragment size a relay grants a client by default: 8948 bytes, a
 * jumbo (9000-byte MTU) frame less the IPv4, UDP and fragment headers. A
 * relay whose own `fragmentSize` is larger grants up to that instead.
 */
export const DEFAULT_MAX_GRANTED_FRAGMENT_SIZE = 8948;
/** Smallest payload the pure fragmenter itself cuts (unit tests use small fragments); sessions use {@link MIN_FRAGMENT_SIZE}. */
export const MIN_WIRE_FRAGMENT_SIZE = 64;
/** Smallest FEC group a relay grants (a parity datagram per 4 data fragments at most: ≤ 25 % overhead); 0 stays off. */
export const MIN_GRANTED_FEC_GROUP = 4;
/** Most fragments in one message (the index is a u16). */
export const MAX_FRAGMENTS = 0xffff;

/** One datagram as scatter-gather parts: a 24-byte header, then views into the message (no copy). */
export type DatagramParts = Uint8Array[];

/** A fragmented message: data datagrams in index order and parity datagrams in group order. */
export interface Fragments {
  seq: number;
  count: number;
  data: DatagramParts[];
  parity: DatagramParts[];
  /** Datagrams in send order: each group's data followed by its parity. */
  order: DatagramParts[];
  bytes: number;
}

/** Options for {@link fragmentMessage}. */
export interface FragmentOptions {
  session: number;
  /** Fragment payload size in bytes. Default {@link DEFAULT_FRAGMENT_SIZE}. */
  fragmentSize?: number;
  /** XOR parity: one parity datagram per this many data fragments (1–255). 0 = off (default). */
  fecGroup?: number;
}

/** Checks a session's fragment size option ([`min`, {@link MAX_FRAGMENT_SIZE}]); throws FW_BAD_OPTION. */
export function checkFragmentSize(size: number | undefined, min = MIN_FRAGMENT_SIZE): number {
  const s = size ?? DEFAULT_FRAGMENT_SIZE;
  if (!Number.isInteger(s) || s < min || s > MAX_FRAGMENT_SIZE) {
    throw new FramewireError(ErrorCodes.BAD_OPTION, `fragment size must be an integer in [${min}, ${MAX_FRAGMENT_SIZE}], got ${size}`);
  }
  return s;
}

/** Checks an FEC group option; throws FW_BAD_OPTION. */
export function checkFecGroup(k: number | undefined): number {
  const g = k ?? 0;
  if (!Number.isInteger(g) || g < 0 || g > 255)
    throw new FramewireError(ErrorCodes.BAD_OPTION, `FEC group must be an integer in [0, 255], got ${k}`);
  return g;
}

/** The range of fragment sizes a relay grants, and what 0 ("server default") means. */
export interface FragmentGrant {
  min: number;
  max: number;
  dflt: number;
}

/**
 * The fragment size a relay sends with to a client that asked for `wanted`
 * (a u16 from the wire, 0 = the relay's default): clamped into
 * [`min`, `max`]. Never throws: a peer's number is not a programmer's mistake.
 */
export function grantFragmentSize(wanted: number, g: FragmentGrant): number {
  if (!Number.isInteger(wanted) || wanted <= 0) return g.dflt;
  return Math.min(g.max, Math.max(g.min, wanted));
}

/** The FEC group a relay sends with to a client that asked for `wanted` (u8, 0 = off): 0, or clamped into [{@link MIN_GRANTED_FEC_GROUP}, 255]. */
export function grantFecGroup(wanted: number): number {
  if (!Number.isInteger(wanted) || wanted <= 0) return 0;
  return Math.min(255, Math.max(MIN_GRANTED_FEC_GROUP, wanted));
}

/**
 * The fragment size for a message of `length` bytes: `size`, or larger when
 * `size` would need more than {@link MAX_FRAGMENTS} fragments (a receiver
 * takes the size from each header). Undefined if even the largest size
 * cannot carry it.
 */
export function fragmentSizeFor(length: number, size: number): number | undefined {
  const s = Math.max(size, Math.ceil(length / MAX_FRAGMENTS));
  return s <= MAX_FRAGMENT_SIZE ? s : undefined;
}

/** Views of bytes [start, end) of a message made of `parts` (no copy). */
export function sliceParts(parts: readonly Uint8Array[], start: number, end: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let base = 0;
  for (const p of parts) {
    const pEnd = base + p.length;
    if (pEnd > start && base < end) out.push(p.subarray(Math.max(0, start - base), Math.min(p.length, end - base)));
    base = pEnd;
    if (base >= end) break;
  }
  return out;
}

/** XORs `src` parts into `dst` from offset 0. */
export function xorInto(dst: Uint8Array, src: readonly Uint8Array[]): void {
  let off = 0;
  for (const s of src) {
    for (let i = 0; i < s.length; i++) dst[off + i] = (dst[off + i] as number) ^ (s[i] as number);
    off += s.length;
  }
}

/**
 * Cuts one message (e.g. a frame header and its JPEG) into datagrams of at
 * most `fragmentSize` payload bytes, plus optional XOR parity. Pure: no I/O.
 */
export function fragmentMessage(parts: readonly Uint8Array[], seq: number, options: FragmentOptions): Fragments {
  const size = checkFragmentSize(options.fragmentSize, MIN_WIRE_FRAGMENT_SIZE);
  const k = checkFecGroup(options.fecGroup);
  let length = 0;
  for (const p of parts) length += p.length;
  if (length === 0) throw new FramewireError(ErrorCodes.BAD_OPTION, 'cannot fragment an empty message');
  const count = Math.ceil(length / size);
  if (count > MAX_FRAGMENTS) {
    throw new FramewireError(
      ErrorCodes.FRAME_TOO_LARGE,
      `message of ${length} bytes needs ${count} fragments of ${size}; the most is ${MAX_FRAGMENTS}`,
    );
  }
  const data: DatagramParts[] = [];
  const parity: DatagramParts[] = [];
  const order: DatagramParts[] = [];
  let bytes = 0;
  const header = (index: number, isParity: boolean): Uint8Array => {
    const h = new Uint8Array(FRAGMENT_HEADER_BYTES);
    writeFragmentHeader(h, { session: options.session, parity: isParity, seq, length, index, count, size, fecGroup: k });
    return h;
  };
  let groupBuf: Uint8Array | undefined;
  for (let i = 0; i < count; i++) {
    const payload = sliceParts(parts, i * size, Math.min(length, (i + 1) * size));
    const dg = [header(i, false), ...payload];
    data.push(dg);
    order.push(dg);
    bytes += FRAGMENT_HEADER_BYTES + Math.min(size, length - i * size);
    if (k > 0) {
      groupBuf ??= new Uint8Array(size);
      xorInto(groupBuf, payload);
      if ((i + 1) % k === 0 || i === count - 1) {
        const p = [header(Math.floor(i / k), true), groupBuf];
        parity.push(p);
        order.push(p);
        bytes += FRAGMENT_HEADER_BYTES + size;
        groupBuf = undefined;
      }
    }
  }
  return { seq, count, data, parity, order, bytes };
}
