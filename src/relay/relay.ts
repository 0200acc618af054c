import { createHash, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { ErrorCodes, FramewireError } from '../errors.js';
import { nowUs, type Clock } from '../frame/clock.js';
import type { EncodedFrame } from '../frame/frame.js';
import type { ControlMessage, HelloBody, Message } from '../protocol/messages.js';
import { DEFAULT_LIMITS, type ParserLimits } from '../protocol/parser.js';
import type { MessageChannel } from '../transport/channel.js';
import { TcpChannel, createTcpServer } from '../transport/tcp.js';
import type { TlsServerOptions } from '../transport/tls.js';
import type { Profile } from '../codec/transcode.js';
import { createHttpServer, type HttpServerOptions } from './http.js';
import { DEFAULT_MAX_RENDITIONS, DEFAULT_RENDITION_QUALITY } from './rendition.js';
import { UdpServer, type UdpServerOptions, type UdpServerStats } from '../transport/udp-server.js';
import { ServerSession, type SessionHost } from './session.js';
import { RelayStream, ViewerSlot, toRelayFrame, type StreamInfo } from './stream.js';

/** Options for {@link createRelay}. Every limit has a safe default. */
export interface RelayOptions extends ParserLimits {
  /** When set, publishers and viewers must present this token. */
  token?: string;
  /** A peer must finish its hello within this time. Default 5000 ms. */
  handshakeTimeoutMs?: number;
  /** A peer that sends nothing (not even a pong) for this long is closed. Default 20000 ms. */
  idleTimeoutMs?: number;
  /** Most connections at once, all transports. Default 10000. */
  maxClients?: number;
  /** Most streams at once. Default 1024. */
  maxStreams?: number;
  /**
   * Most distinct rendition profiles (size / quality a viewer asked for) per
   * stream, default 4; 0 turns renditions off. Each costs a resize and a JPEG encode per frame; a
   * viewer asking for one more gets the stream as published, and its welcome
   * says so.
   */
  maxRenditions?: number;
  /** Clock (µs); injectable for tests. */
  clock?: Clock;
}

/** Events a relay emits, for logs and monitoring. */
export interface RelayEvents {
  connect: [{ remote: string; transport: string }];
  session: [{ remote: string; transport: string; session: string; role: string; stream: string }];
  disconnect: [{ remote: string; transport: string; session: string; role: string | null; stream: string | null; reason: string }];
  peerError: [{ remote: string; transport: string; code: string; message: string }];
}

/** One viewer's figures, from {@link Relay.viewers}. */
export interface ViewerInfo {
  session: string;
  remote: string;
  transport: string;
  sent: number;
  skipped: number;
  decimated: number;
  pending: boolean;
  /** Frames sent and not yet acked (viewers that ack). */
  unacked: number;
  /** Frames sent over a lossy transport (UDP) that no ack came for in time: taken as lost. */
  expired: number;
  queuedBytes: number;
  /** Transport-specific counters (UDP loss and repair), when the transport has any. */
  transportStats?: Record<string, number>;
}

/** Options for {@link Relay.listenTcp}. */
export interface TcpListenOptions {
  /**
   * Serve the native protocol inside TLS (`tls://` URLs) with this
   * certificate and key instead of plain TCP. A client that does not
   * complete the handshake within the relay's handshake timeout is closed.
   */
  tls?: TlsServerOptions | undefined;
}

/** Where a listener ended up. */
export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * The relay: named streams, one publisher and many viewers each, with
 * latest-frame-wins fan-out per viewer. Transport-agnostic: transports hand
 * it {@link MessageChannel}s through {@link Relay.accept}.
 */
export class Relay extends EventEmitter<RelayEvents> implements SessionHost {
  readonly clock: Clock;
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly limits: Required<ParserLimits>;
  private readonly maxClients: number;
  private readonly maxStreams: number;
  private readonly maxRenditions: number;
  private readonly tokenDigest: Buffer | undefined;
  private readonly streamsByName = new Map<string, RelayStream>();
  private readonly sessions = new Set<ServerSession>();
  private readonly servers: net.Server[] = [];
  private readonly udpServers: UdpServer[] = [];
  private closed = false;

  constructor(options: RelayOptions = {}) {
    super();
    this.clock = options.clock ?? nowUs;
    this.handshakeTimeoutMs = positive(options.handshakeTimeoutMs, 5000, 'handshakeTimeoutMs');
    this.idleTimeoutMs = positive(options.idleTimeoutMs, 20_000, 'idleTimeoutMs');
    this.maxClients = positive(options.maxClients, 10_000, 'maxClients');
    this.maxStreams = positive(options.maxStreams, 1024, 'maxStreams');
    this.maxRenditions = options.maxRenditions ?? DEFAULT_MAX_RENDITIONS;
    if (!Number.isInteger(this.maxRenditions) || this.maxRenditions < 0) {
      throw new FramewireError(ErrorCodes.BAD_OPTION, `maxRenditions must be a whole number ≥ 0, got ${options.maxRenditions}`);
    }
    this.limits = {
      maxFrameBytes: positive(options.maxFrameBytes, DEFAULT_LIMITS.maxFrameBytes, 'maxFrameBytes'),
      maxControlBytes: positive(options.maxControlBytes, DEFAULT_LIMITS.maxControlBytes, 'maxControlBytes'),
      maxHeaderBytes: positive(options.maxHeaderBytes, DEFAULT_LIMITS.maxHeaderBytes, 'maxHeaderBytes'),
    };
    this.tokenDigest = options.token ? digest(options.token) : undefined;
  }

  /**
   * Starts a TCP listener for the native protocol; with `options.tls`, the
   * same protocol inside TLS (`tls://`). Port 0 picks a free port.
   */
  listenTcp(port = 0, host = '127.0.0.1', options: TcpListenOptions = {}): Promise<ListenAddress> {
    const server = createTcpServer((socket) => this.accept(new TcpChannel(socket, this.limits)), {
      tls: options.tls,
      handshakeTimeoutMs: this.handshakeTimeoutMs,
      onTlsError: (e) => this.safeEmit('peerError', e),
    });
    server.on('error', () => undefined);
    this.servers.push(server);
    return listen(server, port, host);
  }

  /**
   * Starts the HTTP port: web UI, JSON API, WebSocket (`/ws`), MJPEG out and
   * in, snapshots (see {@link createHttpServer}); with `options.tls`, all of
   * it as HTTPS and WSS. Port 0 picks a free port. Closed with the relay.
   */
  listenHttp(port = 0, host = '127.0.0.1', options: HttpServerOptions = {}): Promise<ListenAddress> {
    const server = createHttpServer(this, options);
    server.on('error', () => undefined);
    this.servers.push(server);
    return listen(server, port, host);
  }

  /**
   * Starts a UDP listener for the native protocol (fragmented frames, NACK
   * and optional FEC repair). Port 0 picks a free port. `options` tune the
   * relay's sending side (fragment size, pacing) and the repair of what it
   * receives; each client may ask for its own fragment size and FEC.
   */
  async listenUdp(port = 0, host = '127.0.0.1', options: UdpServerOptions = {}): Promise<ListenAddress> {
    const server = new UdpServer((channel) => this.accept(channel), { ...this.limits, ...options }, host.includes(':') ? 'udp6' : 'udp4');
    this.udpServers.push(server);
    return server.listen(port, host);
  }

  /** Loss and repair counters of the UDP listeners (summed over their sessions), one entry per listener. */
  udpStats(): UdpServerStats[] {
    return this.udpServers.map((u) => u.stats());
  }

  /** Takes a new connection from any transport. */
  accept(channel: MessageChannel): void {
    if (this.closed) {
      channel.destroy();
      return;
    }
    this.safeEmit('connect', { remote: channel.remote, transport: channel.transport });
    const session = new ServerSession(channel, this);
    if (this.sessions.size >= this.maxClients) {
      session.fail(new FramewireError(ErrorCodes.TOO_MANY_CLIENTS, `the relay is at its limit of ${this.maxClients} clients`));
      return;
    }
    this.sessions.add(session);
  }

  /** Figures for every stream. */
  streams(): StreamInfo[] {
    const now = this.clock();
    return [...this.streamsByName.values()].map((s) => s.info(now));
  }

  /**
   * Per-viewer figures of one stream, or undefined if no such stream:
   * frames sent, skipped (latest-frame-wins), decimated (fps cap), whether a
   * frame is pending, and the bytes queued in user space for the viewer.
   */
  viewers(stream: string): ViewerInfo[] | undefined {
    const s = this.streamsByName.get(stream);
    if (!s) return undefined;
    return [...s.viewers.entries()].map(([id, v]) => ({
      session: id,
      remote: v.channel.remote,
      sent: v.sent,
      skipped: v.skipped,
      decimated: v.decimated,
      pending: v.pending !== undefined,
      unacked: v.unacked,
      expired: v.expired,
      queuedBytes: v.channel.queuedBytes,
      transport: v.channel.transport,
      ...(v.channel.transportStats() ? { transportStats: v.channel.transportStats() } : {}),
    }));
  }

  /** The newest frame of a stream (live or the last one before its publisher left), or undefined. */
  latestFrame(stream: string): EncodedFrame | undefined {
    return this.streamsByName.get(stream)?.latest?.frame;
  }

  /**
   * Checks a token against the relay's (for transports that serve requests
   * outside a session, e.g. an HTTP snapshot). Throws FW_UNAUTHORIZED.
   */
  authorize(token: string | undefined): void {
    if (!this.tokenDigest) return;
    const given = token === undefined ? undefined : digest(token);
    if (!given || !timingSafeEqual(given, this.tokenDigest)) {
      throw new FramewireError(ErrorCodes.UNAUTHORIZED, token === undefined ? 'this relay needs a token' : 'wrong token');
    }
  }

  /** Number of open connections. */
  get clientCount(): number {
    return this.sessions.size;
  }

  /** Says bye to every peer and stops listening. Idempotent. */
  async close(reason = 'relay shutting down'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.sessions]) s.bye(reason);
    await Promise.all([
      ...this.servers.map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))),
      ...this.udpServers.map(async (u) => {
        // Let the byes go out before the socket closes.
        await new Promise((r) => setTimeout(r, 50));
        await u.close();
      }),
    ]);
  }

  /** @internal SessionHost */
  attach(session: ServerSession, hello: HelloBody): ControlMessage {
    if (this.tokenDigest) {
      const given = hello.token === undefined ? undefined : digest(hello.token);
      if (!given || !timingSafeEqual(given, this.tokenDigest)) {
        throw new FramewireError(ErrorCodes.UNAUTHORIZED, hello.token === undefined ? 'this relay needs a token' : 'wrong token');
      }
    }
    let stream = this.streamsByName.get(hello.stream);
    if (!stream) {
      if (this.streamsByName.size >= this.maxStreams) {
        throw new FramewireError(ErrorCodes.TOO_MANY_CLIENTS, `the relay is at its limit of ${this.maxStreams} streams`);
      }
      stream = new RelayStream(hello.stream, this.maxRenditions);
      this.streamsByName.set(hello.stream, stream);
    }
    const granted: ControlMessage & { type: 'welcome' } = {
      type: 'welcome',
      body: {
        session: session.id,
        role: hello.role,
        stream: stream.name,
        granted: {},
        serverTimeUs: this.clock(),
        maxFrameBytes: this.limits.maxFrameBytes,
        live: stream.live,
      },
    };
    if (hello.role === 'publish') {
      if (stream.publisher) {
        this.dropIfEmpty(stream);
        throw new FramewireError(ErrorCodes.STREAM_BUSY, `stream "${stream.name}" already has a publisher (${stream.publisher.remote})`);
      }
      stream.publisher = { session: session.id, remote: session.remote, since: this.clock() };
      stream.meter.resetSequence();
      granted.body.live = true;
      granted.body.granted = { ...hello.params };
      stream.announce();
    } else {
      const { fps, width, height, quality } = hello.params ?? {};
      const profile: Profile | undefined =
        width !== undefined || height !== undefined || quality !== undefined ? { width, height, quality } : undefined;
      const rendered = stream.addViewer(
        new ViewerSlot(session.channel, session.id, {
          fpsCap: fps,
          acks: hello.acks,
          rttUs: () => session.clockSync.minRttUs,
          // UDP repairs loss within a budget of about two frame intervals, holding later frames back meanwhile.
          repairFrames: session.channel.lossy ? 3 : 0,
          lossy: session.channel.lossy,
          clock: this.clock,
        }),
        profile,
      );
      const g = granted.body.granted;
      if (fps !== undefined) g.fps = fps;
      const f = stream.latest?.frame;
      if (profile && rendered) {
        if (width !== undefined) g.width = width;
        if (height !== undefined) g.height = height;
        g.quality = quality ?? DEFAULT_RENDITION_QUALITY;
      } else if (f && stream.live) {
        g.width = f.width;
        g.height = f.height;
      }
    }
    this.safeEmit('session', {
      remote: session.remote,
      transport: session.channel.transport,
      session: session.id,
      role: hello.role,
      stream: stream.name,
    });
    return granted;
  }

  /** @internal SessionHost */
  onFrame(session: ServerSession, msg: Extract<Message, { type: 'frame' }>, arrivalUs: number): void {
    const stream = this.streamsByName.get(session.hello?.stream ?? '');
    if (!stream || stream.publisher?.session !== session.id) return;
    // Restamp once, on the relay's clock, so every viewer needs only its own offset to the relay.
    const f = msg.frame;
    const captureUs = Math.max(0, Math.round(f.captureUs - session.clockSync.offsetUs));
    stream.fanOut(toRelayFrame({ ...f, captureUs }), arrivalUs);
  }

  /** @internal SessionHost */
  onAck(session: ServerSession, seq: number): void {
    const hello = session.hello;
    if (hello?.role !== 'view') return;
    this.streamsByName.get(hello.stream)?.viewers.get(session.id)?.onAck(seq);
  }

  /** @internal SessionHost */
  detach(session: ServerSession, reason: string, error?: FramewireError): void {
    this.sessions.delete(session);
    const hello = session.hello;
    if (error) {
      this.safeEmit('peerError', { remote: session.remote, transport: session.channel.transport, code: error.code, message: error.message });
    }
    this.safeEmit('disconnect', {
      remote: session.remote,
      transport: session.channel.transport,
      session: session.id,
      role: hello?.role ?? null,
      stream: hello?.stream ?? null,
      reason,
    });
    if (!hello) return;
    const stream = this.streamsByName.get(hello.stream);
    if (!stream) return;
    if (stream.publisher?.session === session.id) {
      stream.publisher = undefined;
      stream.announce();
    } else {
      stream.removeViewer(session.id);
    }
    this.dropIfEmpty(stream);
  }

  private dropIfEmpty(stream: RelayStream): void {
    if (!stream.live && stream.viewers.size === 0) this.streamsByName.delete(stream.name);
  }

  private safeEmit<K extends keyof RelayEvents>(event: K, ...args: RelayEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: RelayEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      process.emitWarning(`framewire: a relay ${String(event)} listener threw: ${String(err)}`);
    }
  }
}

/** Creates a relay. Call `listenTcp()` (and later other transports) to accept peers. */
export function createRelay(options: RelayOptions = {}): Relay {
  return new Relay(options);
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function positive(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v <= 0) throw new FramewireError(ErrorCodes.BAD_OPTION, `${name} must be a positive number, got ${v}`);
  return v;
}

/** Listens and resolves with the bound address (the real port when 0 was asked). */
export function listen(server: net.Server, port: number, host: string): Promise<ListenAddress> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const a = server.address() as net.AddressInfo;
      resolve({ host: a.address, port: a.port });
    });
  });
}
