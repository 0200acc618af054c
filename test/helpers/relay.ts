import net from 'node:net';
import { createRelay, type Relay, type RelayOptions } from '../../src/index.js';
import { nowUs } from '../../src/frame/clock.js';
import type { EncodedFrame } from '../../src/frame/frame.js';
import { encodeControl, encodeFrameHeader, type ControlMessage, type Message } from '../../src/protocol/messages.js';
import { StreamParser } from '../../src/protocol/parser.js';

/** A relay on 127.0.0.1, port 0. */
export async function startRelay(options: RelayOptions = {}): Promise<{ relay: Relay; port: number; url: (stream: string) => string }> {
  const relay = createRelay(options);
  const { port } = await relay.listenTcp(0, '127.0.0.1');
  return { relay, port, url: (stream) => `tcp://127.0.0.1:${port}/${stream}` };
}

/**
 * A protocol client on a raw socket, for tests that need control over every
 * byte: send messages, await the next message of a type, pause reading.
 */
export class RawClient {
  readonly socket: net.Socket;
  readonly messages: Message[] = [];
  readonly parser = new StreamParser();
  parseError: unknown;
  closed: Promise<void>;
  private waiters: (() => void)[] = [];
  /** Answer pings automatically (default true). */
  autoPong = true;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const m of this.parser.push(chunk)) {
          if (m.type === 'ping' && this.autoPong) {
            this.send({ type: 'pong', body: { id: m.body.id, t0: m.body.t0, t1: nowUs(), t2: nowUs() } });
          }
          this.messages.push(m);
        }
      } catch (err) {
        this.parseError = err;
      }
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  send(msg: ControlMessage): void {
    this.socket.write(encodeControl(msg));
  }

  sendFrame(frame: EncodedFrame): boolean {
    this.socket.cork();
    this.socket.write(encodeFrameHeader(frame));
    const ok = this.socket.write(frame.data);
    this.socket.uncork();
    return ok;
  }

  /** Resolves with the first message (from the start) matching, waiting up to `ms`. */
  async waitFor<T extends Message['type']>(type: T, ms = 5000, from = 0): Promise<Extract<Message, { type: T }>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.messages.slice(from).find((x) => x.type === type);
      if (m) return m as Extract<Message, { type: T }>;
      if (this.socket.destroyed || Date.now() > deadline)
        throw new Error(`no ${type} message (got ${this.messages.map((x) => x.type).join(',')})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  frames(): EncodedFrame[] {
    return this.messages.flatMap((m) => (m.type === 'frame' ? [m.frame] : []));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Counts the frames an async iterable (a subscription) yields, in the background, until it ends or throws. */
export function countFrames(frames: AsyncIterable<unknown>): { count: () => number; done: Promise<void> } {
  let n = 0;
  const done = (async () => {
    try {
      for await (const _ of frames) n++;
    } catch {
      /* ended */
    }
  })();
  return { count: () => n, done };
}

/** Polls `cond` (sync or async) every 10 ms until true or `ms` passes (then throws with `what`). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The smallest bytes the relay's frame check takes for a `width`×`height`
 * JPEG: SOI, then a baseline SOF0 segment with that size (nothing that
 * decodes: enough for tests of forwarding, not of renditions).
 */
export function jpegHeader(width: number, height: number): Buffer {
  const h = Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0, 0, 0, 0, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  h.writeUInt16BE(height, 7);
  h.writeUInt16BE(width, 9);
  return h;
}

/** A synthetic 64x48 frame with `size` bytes of payload: a JPEG header, then bytes tagged with its seq (the last 4 bytes). */
export function fakeFrame(seq: number, size = 1000): EncodedFrame {
  const data = Buffer.alloc(Math.max(size, 32), seq & 0xff);
  jpegHeader(64, 48).copy(data, 0);
  data.writeUInt32BE(seq, data.length - 4);
  return { seq, captureUs: nowUs(), width: 64, height: 48, codec: 'jpeg', key: true, data };
}

/** The seq a {@link fakeFrame} payload is tagged with. */
export function fakeFrameSeq(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(data.length - 4);
}
