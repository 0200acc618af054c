/**
 * A UDP peer on a raw socket, for tests that need control over every byte
 * sent to a relay: the handshake by hand (with any fragment size in the
 * open), control datagrams, garbage. It acks the relay's reliable control
 * messages and answers pings, and keeps what arrives.
 */
import dgram from 'node:dgram';
import { encodeControl, type ControlMessage, type Message } from '../../src/protocol/messages.js';
import { decodeMessage } from '../../src/protocol/parser.js';
import { Kind, makeDatagram, readDatagram, readFragmentHeader, type FragmentHeader } from '../../src/protocol/udp/datagram.js';
import { encodeInit, encodeOpen, readCookie, readOpened } from '../../src/protocol/udp/handshake.js';
import { randomBytes } from 'node:crypto';

/** What an opened said. */
export interface RawSession {
  session: number;
  fragmentSize: number | undefined;
  fecGroup: number | undefined;
}

export class RawUdp {
  readonly received: Buffer[] = [];
  readonly controls: Message[] = [];
  readonly fragments: FragmentHeader[] = [];
  session = 0;
  /** The cookie of the last handshake (valid for this socket's address for 30 s). */
  cookie: Uint8Array | undefined;
  /** True once the relay closed the current session or said it does not know it. */
  sessionEnded = false;
  private controlSeq = 0;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly socket: dgram.Socket,
    readonly port: number,
  ) {
    socket.on('message', (m) => this.onMessage(m));
    socket.on('error', () => undefined);
  }

  /** A socket on 127.0.0.1 (port 0) talking to the relay's UDP `port`. */
  static async create(port: number): Promise<RawUdp> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    return new RawUdp(socket, port);
  }

  /** Sends one datagram; resolves once it left. */
  send(buf: Uint8Array): Promise<void> {
    return new Promise((r) => this.socket.send(buf, this.port, '127.0.0.1', () => r()));
  }

  /** Resolves with the first datagram received (from `from` on) matching `pred`, or undefined after `ms`. */
  async next(pred: (b: Buffer) => boolean, ms = 3000, from = 0): Promise<Buffer | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.received.slice(from).find(pred);
      if (hit || Date.now() > deadline) return hit;
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 20);
      });
    }
  }

  /** init → cookie → open (asking for `fragmentSize` and `fecGroup`, written as is) → opened. */
  async handshake(fragmentSize = 0, fecGroup = 0): Promise<RawSession> {
    const nonce = randomBytes(8);
    const from = this.received.length;
    await this.send(encodeInit(nonce));
    const cookieOf = (b: Buffer): Uint8Array | undefined => {
      const dg = readDatagram(b);
      return dg && readCookie(dg, nonce);
    };
    const c = await this.next((b) => cookieOf(b) !== undefined, 3000, from);
    const cookie = c && cookieOf(c);
    if (!cookie) throw new Error('no cookie from the relay');
    const from2 = this.received.length;
    await this.send(encodeOpen({ nonce, cookie, fragmentSize, fecGroup }));
    const openedOf = (b: Buffer): ReturnType<typeof readOpened> => {
      const dg = readDatagram(b);
      return dg && readOpened(dg, nonce);
    };
    const o = await this.next((b) => openedOf(b) !== undefined, 3000, from2);
    const opened = o && openedOf(o);
    if (!opened) throw new Error('no opened from the relay');
    this.session = opened.session;
    this.cookie = cookie;
    this.sessionEnded = false;
    return { session: opened.session, fragmentSize: opened.granted?.fragmentSize, fecGroup: opened.granted?.fecGroup };
  }

  /** Sends a control message (reliable unless ping/pong) on the session. */
  sendControl(msg: ControlMessage): Promise<void> {
    const message = encodeControl(msg);
    const head = Buffer.from(makeDatagram(Kind.control, this.session, 8));
    head.writeUInt32BE(this.controlSeq++, 8);
    head.writeUInt8(msg.type === 'ping' || msg.type === 'pong' ? 0 : 1, 12);
    return this.send(Buffer.concat([head, message]));
  }

  /** Resolves with the first control message of `type` (from the relay), or undefined after `ms`. */
  async control(type: Message['type'], ms = 3000): Promise<Message | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.controls.find((m) => m.type === type);
      if (hit || Date.now() > deadline) return hit;
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 20);
      });
    }
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      /* closed */
    }
  }

  private onMessage(m: Buffer): void {
    this.received.push(m);
    const dg = readDatagram(m);
    if (dg && dg.session === this.session && this.session !== 0) {
      if (dg.kind === Kind.close || dg.kind === Kind.unknownSession) this.sessionEnded = true;
      if (dg.kind === Kind.control && dg.body.length >= 8) {
        const body = Buffer.from(dg.body);
        if ((body.readUInt8(4) & 1) === 1) {
          const ack = Buffer.from(makeDatagram(Kind.ack, this.session, 4));
          ack.writeUInt32BE(body.readUInt32BE(0), 8);
          void this.send(ack);
        }
        try {
          const msg = decodeMessage(dg.body.subarray(8));
          this.controls.push(msg);
          if (msg.type === 'ping') void this.sendControl({ type: 'pong', body: { id: msg.body.id, t0: msg.body.t0, t1: 0, t2: 0 } });
        } catch {
          /* kept raw only */
        }
      } else if (dg.kind === Kind.fragment) {
        const h = readFragmentHeader(m);
        if (h) this.fragments.push(h);
      }
    }
    for (const w of this.waiters.splice(0)) w();
  }
}
