import { Duplex, type DuplexOptions } from 'node:stream';

/**
 * One end of an in-memory duplex pair (as ws's `test/duplex-pair.js`): what
 * is written to it is read from its peer, and the other way round. It has
 * the address fields of a socket, so a channel can name its peer.
 *
 * Like a socket, and unlike a pass-through, it has backpressure end to end:
 * a write completes only once the peer has room to read it (the peer's
 * readable buffer is below its high-water mark), so an end whose peer does
 * not read (`peer.pause()`) fills its writable buffer and reports
 * `writableNeedDrain`, then 'drain' once the peer reads again. Chunks cross
 * on a later tick, as from a socket, never re-entrantly inside `write()`.
 * Destroying one end ends the other's readable side (the peer sees 'end').
 */
export class DuplexEnd extends Duplex {
  /** The other end. */
  peer!: DuplexEnd;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Every chunk this end received, in order (the very objects written to the peer). */
  readonly received: Buffer[] = [];
  /** The peer's write waiting for room in this end's readable buffer. */
  private blockedWrite: (() => void) | undefined;

  constructor(remotePort: number, options: DuplexOptions) {
    super(options);
    this.remoteAddress = '127.0.0.1';
    this.remotePort = remotePort;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    process.nextTick(() => {
      const peer = this.peer;
      // A closed peer drops what comes (as a reset socket would).
      if (peer.destroyed || peer.readableEnded) return done();
      peer.received.push(chunk);
      if (peer.push(chunk)) done();
      else peer.blockedWrite = done;
    });
  }

  override _read(): void {
    const done = this.blockedWrite;
    this.blockedWrite = undefined;
    done?.();
  }

  override _final(done: (err?: Error | null) => void): void {
    process.nextTick(() => {
      if (!this.peer.destroyed) this.peer.push(null);
      done();
    });
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    // Let go of the peer's blocked write, and end the peer's reading.
    const blocked = this.blockedWrite;
    this.blockedWrite = undefined;
    blocked?.();
    const peer = this.peer;
    process.nextTick(() => {
      if (!peer.destroyed && !peer.readableEnded) peer.push(null);
    });
    done(err);
  }
}

/** Options for {@link duplexPair}. */
export interface DuplexPairOptions {
  /** Both ends' readable and writable high-water mark, bytes. Default 16 KiB (Node's). */
  highWaterMark?: number;
}

/**
 * Two in-memory Duplex streams wired to each other: a stand-in for a
 * connected TCP socket pair, so channel and session tests need no port.
 */
export function duplexPair(options: DuplexPairOptions = {}): [DuplexEnd, DuplexEnd] {
  const o: DuplexOptions = {
    allowHalfOpen: false,
    ...(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {}),
  };
  const a = new DuplexEnd(50_001, o);
  const b = new DuplexEnd(50_002, o);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
