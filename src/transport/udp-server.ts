import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { ErrorCodes, FramewireError } from '../errors.js';
import { nowUs } from '../frame/clock.js';
import { CookieJar } from './udp-cookie.js';
import { COMMON_HEADER_BYTES, Kind, UDP_MAGIC, readDatagram, type Datagram } from '../protocol/udp/datagram.js';
import {
  DEFAULT_MAX_GRANTED_FRAGMENT_SIZE,
  MIN_FRAGMENT_SIZE,
  checkFecGroup,
  checkFragmentSize,
  grantFecGroup,
  grantFragmentSize,
  type FragmentGrant,
} from '../protocol/udp/fragmenter.js';
import {
  answersUnknownSession,
  encodeCookie,
  encodeOpened,
  encodeUnknownSession,
  readInit,
  readOpen,
  UNKNOWN_SESSION_BYTES,
} from '../protocol/udp/handshake.js';
import { TokenBucket } from '../protocol/udp/token-bucket.js';
import { addr, DEFAULT_SOCKET_BUFFER, sendParts } from './udp-socket.js';
import { UdpChannel, type UdpChannelOptions, type UdpStats } from './udp.js';

export { connectUdp, type ConnectUdpOptions } from './udp-client.js';
export { DEFAULT_SOCKET_BUFFER } from './udp-socket.js';

/** Options of a {@link UdpServer}. */
export interface UdpServerOptions extends UdpChannelOptions {
  /** Most sessions at once. Default 10000. */
  maxSessions?: number;
  /** Socket receive and send buffer size, bytes. Default 4 MiB. */
  socketBufferBytes?: number;
  /**
   * Largest fragment size granted to a client that asks for more (requests
   * are clamped into [512, this]). Default 8948 (a 9000-byte jumbo frame),
   * or the relay's own `fragmentSize` if larger.
   */
  maxFragmentSize?: number;
  /** "Unknown session" replies per second, over all peers (a token bucket; burst a quarter of it). 0 = never reply. Default 256. */
  unknownSessionRepliesPerS?: number;
}

/** Server-wide counters. */
export interface UdpServerStats {
  sessions: number;
  /** Datagrams ignored: not framewire, unknown session, wrong address, bad cookie. */
  ignored: number;
  cookiesSent: number;
  /** Opens whose fragment size or FEC group was outside the granted range (clamped). */
  clamped: number;
  /** "Unknown session" replies sent. */
  unknownSessionReplies: number;
  /** "Unknown session" replies not sent (over the rate limit). */
  unknownSessionRefused: number;
  /** Exceptions caught in the datagram handler (a bug: the session concerned was closed, nothing else). */
  handlerErrors: number;
  recvBufferBytes: number;
  sendBufferBytes: number;
  /** Sums over open and closed sessions. */
  totals: UdpStats;
}

interface Session {
  channel: UdpChannel;
  address: string;
  nonce: string;
  fragmentSize: number;
  fecGroup: number;
}

function addStats(into: Partial<Record<string, number>>, s: UdpStats): void {
  for (const [k, v] of Object.entries(s)) into[k] = (into[k] ?? 0) + v;
}

/**
 * The relay's UDP endpoint: one socket, many sessions. A viewer or
 * publisher speaks first (init → cookie → open → opened); only an open
 * carrying a fresh cookie for its source address creates a session, so
 * nothing bulky goes to an address that has not proved it receives there.
 * Each session becomes a {@link UdpChannel} handed to `onChannel`.
 * Datagrams of a session that does not exist here (or from another
 * address) get a rate-limited 8-byte "unknown session" reply, so a client
 * of a restarted relay reconnects at once. Nothing a peer sends can throw
 * out of the socket handler: a bug closes only the session concerned.
 */
export class UdpServer {
  readonly socket: dgram.Socket;
  private readonly sessions = new Map<number, Session>();
  private readonly byAddress = new Map<string, number>();
  private readonly jar = new CookieJar();
  private readonly maxSessions: number;
  private readonly grant: FragmentGrant;
  private readonly fecDefault: number;
  private readonly unknownReplies: TokenBucket | undefined;
  private readonly closedTotals: Partial<Record<string, number>> = {};
  private readonly counters = { ignored: 0, cookiesSent: 0, clamped: 0, unknownSessionReplies: 0, handlerErrors: 0 };
  private isClosed = false;

  /** Throws FW_BAD_OPTION for options out of range (a programmer's mistake). */
  constructor(
    private readonly onChannel: (channel: UdpChannel) => void,
    private readonly options: UdpServerOptions = {},
    type: 'udp4' | 'udp6' = 'udp4',
  ) {
    this.maxSessions = options.maxSessions ?? 10_000;
    const dflt = checkFragmentSize(options.fragmentSize);
    const max = checkFragmentSize(options.maxFragmentSize ?? Math.max(dflt, DEFAULT_MAX_GRANTED_FRAGMENT_SIZE));
    if (max < dflt) throw new FramewireError(ErrorCodes.BAD_OPTION, `maxFragmentSize (${max}) is below fragmentSize (${dflt})`);
    this.grant = { min: MIN_FRAGMENT_SIZE, max, dflt };
    this.fecDefault = checkFecGroup(options.fecGroup);
    const rate = options.unknownSessionRepliesPerS ?? 256;
    if (!(rate >= 0) || !Number.isFinite(rate))
      throw new FramewireError(ErrorCodes.BAD_OPTION, `unknownSessionRepliesPerS must be a number ≥ 0, got ${rate}`);
    this.unknownReplies = rate > 0 ? new TokenBucket(rate, Math.max(1, rate / 4)) : undefined;
    const buf = options.socketBufferBytes ?? DEFAULT_SOCKET_BUFFER;
    this.socket = dgram.createSocket({ type, recvBufferSize: buf, sendBufferSize: buf });
    this.socket.on('message', (msg, rinfo) => {
      try {
        this.onDatagram(msg, rinfo);
      } catch (err) {
        this.onHandlerError(msg, rinfo, err);
      }
    });
    this.socket.on('error', () => undefined);
  }

  /** Binds; resolves with the bound address (the real port when 0 was asked). */
  listen(port: number, host: string): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(port, host, () => {
        this.socket.off('error', reject);
        const a = this.socket.address();
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  /** Server-wide counters. */
  stats(): UdpServerStats {
    const totals: Partial<Record<string, number>> = { ...this.closedTotals };
    for (const s of this.sessions.values()) addStats(totals, s.channel.stats());
    let recv = 0;
    let send = 0;
    try {
      recv = this.socket.getRecvBufferSize();
      send = this.socket.getSendBufferSize();
    } catch {
      /* not bound */
    }
    return {
      sessions: this.sessions.size,
      ...this.counters,
      unknownSessionRefused: this.unknownReplies?.refused ?? 0,
      recvBufferBytes: recv,
      sendBufferBytes: send,
      totals: totals as unknown as UdpStats,
    };
  }

  /** Closes every session and the socket. Idempotent. */
  close(): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    this.isClosed = true;
    for (const s of [...this.sessions.values()]) s.channel.destroy();
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  private onDatagram(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.isClosed) return;
    const dg = readDatagram(buf);
    if (!dg) {
      this.counters.ignored++;
      return;
    }
    const address = addr(rinfo.address, rinfo.port);
    if (dg.kind === Kind.init) return this.onInit(dg, address, rinfo);
    if (dg.kind === Kind.open) return this.onOpen(dg, address, rinfo);
    const s = this.sessions.get(dg.session);
    if (!s || s.address !== address) {
      this.counters.ignored++;
      this.answerUnknown(dg, buf.length, rinfo);
      return;
    }
    s.channel.receive(dg, buf);
  }

  /**
   * "Unknown session" for a datagram only a live session sends: 8 bytes,
   * never more than what came in, within the server-wide rate limit (the
   * relay cannot be used to reflect traffic at a spoofed address).
   */
  private answerUnknown(dg: Datagram, length: number, rinfo: dgram.RemoteInfo): void {
    if (dg.session === 0 || !answersUnknownSession(dg.kind) || length < UNKNOWN_SESSION_BYTES) return;
    if (!this.unknownReplies?.take(nowUs())) return;
    this.counters.unknownSessionReplies++;
    sendParts(this.socket, [encodeUnknownSession(dg.session)], rinfo.port, rinfo.address);
  }

  private onInit(dg: Datagram, address: string, rinfo: dgram.RemoteInfo): void {
    const nonce = readInit(dg);
    if (!nonce) {
      this.counters.ignored++;
      return;
    }
    this.counters.cookiesSent++;
    sendParts(this.socket, [encodeCookie(nonce, this.jar.make(address, nonce, nowUs()))], rinfo.port, rinfo.address);
  }

  private onOpen(dg: Datagram, address: string, rinfo: dgram.RemoteInfo): void {
    const req = readOpen(dg);
    if (!req || !this.jar.check(req.cookie, address, req.nonce, nowUs())) {
      this.counters.ignored++;
      return;
    }
    const nonceHex = Buffer.from(req.nonce).toString('hex');
    const id = this.byAddress.get(address);
    const existing = id === undefined ? undefined : this.sessions.get(id);
    if (existing && existing.nonce === nonceHex) {
      // A repeated open (the opened was lost): the same session, the same answer.
      sendParts(this.socket, [encodeOpened(id as number, req.nonce, existing.fragmentSize, existing.fecGroup)], rinfo.port, rinfo.address);
      return;
    }
    // The same address starts over (a restarted client): the old session goes.
    existing?.channel.destroy();
    if (this.sessions.size >= this.maxSessions) {
      this.counters.ignored++;
      return;
    }
    const fragmentSize = grantFragmentSize(req.fragmentSize, this.grant);
    const fecGroup = req.fecGroup === 0 ? this.fecDefault : grantFecGroup(req.fecGroup);
    if ((req.fragmentSize !== 0 && req.fragmentSize !== fragmentSize) || (req.fecGroup !== 0 && req.fecGroup !== fecGroup))
      this.counters.clamped++;
    let sessionId: number;
    do sessionId = randomBytes(4).readUInt32BE(0);
    while (sessionId === 0 || this.sessions.has(sessionId));
    const channel = new UdpChannel(
      address,
      sessionId,
      {
        send: (p) => sendParts(this.socket, p, rinfo.port, rinfo.address),
        closed: (ch) => {
          addStats(this.closedTotals, ch.stats());
          this.sessions.delete(sessionId);
          if (this.byAddress.get(address) === sessionId) this.byAddress.delete(address);
        },
      },
      { ...this.options, fragmentSize, fecGroup },
    );
    this.sessions.set(sessionId, { channel, address, nonce: nonceHex, fragmentSize, fecGroup });
    this.byAddress.set(address, sessionId);
    sendParts(this.socket, [encodeOpened(sessionId, req.nonce, fragmentSize, fecGroup)], rinfo.port, rinfo.address);
    this.onChannel(channel);
  }

  /** An exception in the handler: counted; only the session the datagram belongs to (by id and address, else by address) is closed. */
  private onHandlerError(buf: Buffer, rinfo: dgram.RemoteInfo, err: unknown): void {
    this.counters.handlerErrors++;
    try {
      const address = addr(rinfo.address, rinfo.port);
      const byId =
        buf.length >= COMMON_HEADER_BYTES && buf.readUInt16BE(0) === UDP_MAGIC ? this.sessions.get(buf.readUInt32BE(4)) : undefined;
      const idOfAddress = this.byAddress.get(address);
      const s = byId?.address === address ? byId : idOfAddress === undefined ? undefined : this.sessions.get(idOfAddress);
      s?.channel.fail(err);
    } catch {
      /* nothing more can be done for this datagram */
    }
  }
}
