import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { ErrorCodes, FramewireError } from '../errors.js';
import { nowUs } from '../frame/clock.js';
import { CookieJar } from '../protocol/udp/cookie.js';
import {
  COOKIE_BYTES,
  INIT_MIN_BYTES,
  Kind,
  NONCE_BYTES,
  makeDatagram,
  readDatagram,
} from '../protocol/udp/datagram.js';
import { UdpChannel, type UdpChannelOptions, type UdpStats } from './udp.js';
import type { Parts } from './udp-pacer.js';

/** Socket buffer size asked for by default (the kernel may cap it at net.core.[rw]mem_max). */
export const DEFAULT_SOCKET_BUFFER = 4 * 1024 * 1024;
const OPEN_BODY = NONCE_BYTES + COOKIE_BYTES + 4;

/** Options of a {@link UdpServer}. */
export interface UdpServerOptions extends UdpChannelOptions {
  /** Most sessions at once. Default 10000. */
  maxSessions?: number;
  /** Socket receive and send buffer size, bytes. Default 4 MiB. */
  socketBufferBytes?: number;
}

/** Server-wide counters. */
export interface UdpServerStats {
  sessions: number;
  /** Datagrams ignored: not framewire, unknown session, wrong address, bad cookie. */
  ignored: number;
  cookiesSent: number;
  recvBufferBytes: number;
  sendBufferBytes: number;
  /** Sums over open and closed sessions. */
  totals: UdpStats;
}

function addr(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function sendParts(socket: dgram.Socket, parts: Parts, port?: number, host?: string): void {
  const cb = (): void => undefined;
  try {
    if (port === undefined) socket.send(parts as Buffer[], cb);
    else socket.send(parts as Buffer[], port, host, cb);
  } catch {
    /* socket closed */
  }
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
 * Datagrams from unknown sessions or other addresses are ignored.
 */
export class UdpServer {
  readonly socket: dgram.Socket;
  private readonly sessions = new Map<number, { channel: UdpChannel; address: string; nonce: string }>();
  private readonly byAddress = new Map<string, number>();
  private readonly jar = new CookieJar();
  private readonly maxSessions: number;
  private readonly closedTotals: Partial<Record<string, number>> = {};
  private ignored = 0;
  private cookiesSent = 0;
  private isClosed = false;

  constructor(
    private readonly onChannel: (channel: UdpChannel) => void,
    private readonly options: UdpServerOptions = {},
    type: 'udp4' | 'udp6' = 'udp4',
  ) {
    this.maxSessions = options.maxSessions ?? 10_000;
    const buf = options.socketBufferBytes ?? DEFAULT_SOCKET_BUFFER;
    this.socket = dgram.createSocket({ type, recvBufferSize: buf, sendBufferSize: buf });
    this.socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
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
    return { sessions: this.sessions.size, ignored: this.ignored, cookiesSent: this.cookiesSent, recvBufferBytes: recv, sendBufferBytes: send, totals: totals as unknown as UdpStats };
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
    const address = addr(rinfo.address, rinfo.port);
    if (!dg) {
      this.ignored++;
      return;
    }
    if (dg.kind === Kind.init) {
      if (buf.length < INIT_MIN_BYTES) {
        this.ignored++;
        return;
      }
      const nonce = dg.body.subarray(0, NONCE_BYTES);
      const reply = makeDatagram(Kind.cookie, 0, NONCE_BYTES + COOKIE_BYTES);
      nonce.copy(reply, 8);
      this.jar.make(address, nonce, nowUs()).copy(reply, 8 + NONCE_BYTES);
      this.cookiesSent++;
      sendParts(this.socket, [reply], rinfo.port, rinfo.address);
      return;
    }
    if (dg.kind === Kind.open) {
      this.onOpen(dg.body, address, rinfo);
      return;
    }
    const s = this.sessions.get(dg.session);
    if (!s || s.address !== address) {
      this.ignored++;
      return;
    }
    s.channel.receive(dg, buf);
  }

  private onOpen(body: Buffer, address: string, rinfo: dgram.RemoteInfo): void {
    if (body.length < OPEN_BODY) {
      this.ignored++;
      return;
    }
    const nonce = body.subarray(0, NONCE_BYTES);
    const cookie = body.subarray(NONCE_BYTES, NONCE_BYTES + COOKIE_BYTES);
    if (!this.jar.check(cookie, address, nonce, nowUs())) {
      this.ignored++;
      return;
    }
    const nonceHex = nonce.toString('hex');
    let id = this.byAddress.get(address);
    const existing = id === undefined ? undefined : this.sessions.get(id);
    if (existing && existing.nonce !== nonceHex) {
      // The same address starts over (a restarted client): the old session goes.
      existing.channel.destroy();
      id = undefined;
    }
    if (id === undefined || !this.sessions.has(id)) {
      if (this.sessions.size >= this.maxSessions) {
        this.ignored++;
        return;
      }
      do id = randomBytes(4).readUInt32BE(0);
      while (id === 0 || this.sessions.has(id));
      const wanted = body.readUInt16BE(NONCE_BYTES + COOKIE_BYTES);
      const fec = body.readUInt8(NONCE_BYTES + COOKIE_BYTES + 2);
      const sessionId = id;
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
        { ...this.options, fragmentSize: wanted || this.options.fragmentSize, fecGroup: fec },
      );
      this.sessions.set(sessionId, { channel, address, nonce: nonceHex });
      this.byAddress.set(address, sessionId);
      this.sendOpened(sessionId, nonce, rinfo);
      this.onChannel(channel);
      return;
    }
    this.sendOpened(id, nonce, rinfo);
  }

  private sendOpened(id: number, nonce: Buffer, rinfo: dgram.RemoteInfo): void {
    const reply = makeDatagram(Kind.opened, id, NONCE_BYTES);
    nonce.copy(reply, 8);
    sendParts(this.socket, [reply], rinfo.port, rinfo.address);
  }
}

/** Options of {@link connectUdp}. */
export interface ConnectUdpOptions extends UdpChannelOptions {
  host: string;
  port: number;
  /** Give up the handshake after this long, ms. Default 10000. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Socket receive and send buffer size, bytes. Default 4 MiB. */
  socketBufferBytes?: number;
  /** Handshake datagrams are repeated at this interval until answered, ms. Default 250. */
  retryMs?: number;
}

/**
 * Opens a UDP session to a relay: init until a cookie comes back, open with
 * the cookie until the relay names the session, then a {@link UdpChannel}.
 * The fragment size and FEC group asked for here also apply to what the
 * relay sends back.
 */
export function connectUdp(options: ConnectUdpOptions): Promise<UdpChannel> {
  const fragmentSize = options.fragmentSize ?? 0;
  const fec = options.fecGroup ?? 0;
  return new Promise((resolve, reject) => {
    const type = net.isIPv6(options.host) ? 'udp6' : 'udp4';
    const buf = options.socketBufferBytes ?? DEFAULT_SOCKET_BUFFER;
    const socket = dgram.createSocket({ type, recvBufferSize: buf, sendBufferSize: buf });
    const nonce = randomBytes(NONCE_BYTES);
    const target = addr(options.host, options.port);
    let cookie: Buffer | undefined;
    let channel: UdpChannel | undefined;
    let settled = false;
    const fail = (err: FramewireError): void => {
      if (settled) return;
      settled = true;
      cleanup();
      try {
        socket.close();
      } catch {
        /* already closed */
      }
      reject(err);
    };
    const onAbort = (): void => fail(new FramewireError(ErrorCodes.ABORTED, 'connect aborted'));
    const timer = setTimeout(() => fail(new FramewireError(ErrorCodes.TIMEOUT, `no answer from udp://${target} within ${options.timeoutMs ?? 10_000} ms`)), options.timeoutMs ?? 10_000);
    const cleanup = (): void => {
      clearTimeout(timer);
      clearInterval(retry);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const say = (): void => {
      if (settled) return;
      if (!cookie) {
        const init = makeDatagram(Kind.init, 0, INIT_MIN_BYTES - 8);
        nonce.copy(init, 8);
        sendParts(socket, [init]);
      } else {
        const open = makeDatagram(Kind.open, 0, OPEN_BODY);
        nonce.copy(open, 8);
        cookie.copy(open, 8 + NONCE_BYTES);
        open.writeUInt16BE(fragmentSize, 8 + NONCE_BYTES + COOKIE_BYTES);
        open.writeUInt8(fec, 8 + NONCE_BYTES + COOKIE_BYTES + 2);
        sendParts(socket, [open]);
      }
    };
    const retry = setInterval(say, options.retryMs ?? 250);
    socket.on('error', (err) => {
      if (!settled) fail(new FramewireError(ErrorCodes.CONNECTION_CLOSED, `cannot reach udp://${target}: ${err.message}`, { cause: err }));
    });
    socket.on('message', (msg) => {
      const dg = readDatagram(msg);
      if (!dg) return;
      if (channel) {
        if (dg.session === channel.session) channel.receive(dg, msg);
        return;
      }
      if (settled || dg.body.length < NONCE_BYTES || !dg.body.subarray(0, NONCE_BYTES).equals(nonce)) return;
      if (dg.kind === Kind.cookie && dg.body.length >= NONCE_BYTES + COOKIE_BYTES) {
        cookie = Buffer.from(dg.body.subarray(NONCE_BYTES, NONCE_BYTES + COOKIE_BYTES));
        say();
      } else if (dg.kind === Kind.opened && cookie) {
        settled = true;
        cleanup();
        const ch = new UdpChannel(target, dg.session, {
          send: (p) => sendParts(socket, p),
          closed: () => {
            try {
              socket.close();
            } catch {
              /* already closed */
            }
          },
        }, options);
        channel = ch;
        // After the handshake an ICMP error (the relay went away) ends the session; the owner reconnects.
        socket.on('error', () => ch.destroy());
        resolve(ch);
      }
    });
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.connect(options.port, options.host, () => say());
  });
}
