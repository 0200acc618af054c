import { ErrorCodes, FramewireError } from '../errors.js';
import { TypedEmitter } from '../events.js';
import { nowUs, type Clock } from '../frame/clock.js';
import type { EncodedFrame } from '../frame/frame.js';
import type { ControlMessage, HelloBody, Message } from '../protocol/messages.js';
import { DEFAULT_LIMITS, type ParserLimits } from '../protocol/parser.js';
import type { MessageChannel } from '../transport/channel.js';
import { renditionSize, satisfiedBySource, type Profile } from '../codec/transcode.js';
import { RelayAuth, type AccessNeed, type TokenScope } from './auth.js';
import type { HttpServerOptions } from './http.js';
import type { HttpRelay, RelayHealth } from './http-relay.js';
import { Listeners, type ListenAddress, type TcpListenOptions } from './listeners.js';
import { DEFAULT_MAX_RENDITIONS, DEFAULT_RENDITION_QUALITY } from './rendition.js';
import { DEFAULT_MEMORY_BUDGET, MemoryBudget } from './budget.js';
import { WaitingList } from './waiting.js';
import { checkJpegFrame, DEFAULT_PICTURE_LIMITS, type PictureLimits } from '../codec/jpeg.js';
import type { UdpServerOptions, UdpServerStats } from '../transport/udp-server.js';
import { ServerSession, type SessionHost } from './session.js';
import { asBuffer } from '../transport/wire.js';
import { toRelayFrame } from './relay-frame.js';
import { RelayStream, ViewerSlot, type StreamInfo } from './stream.js';

export type { RelayHealth } from './http-relay.js';
export type { ListenAddress, TcpListenOptions } from './listeners.js';

/** Options for {@link createRelay}. Every limit has a safe default. */
export interface RelayOptions extends ParserLimits {
  /** When set, publishers and viewers must present this token (one shared secret: every stream, every role). */
  token?: string;
  /**
   * When set, the relay accepts tokens signed with this secret (see
   * {@link createToken}), each scoped to a stream (or a prefix) and a role.
   * At least 32 bytes. With `token` also set, either kind is accepted.
   */
  secret?: string;
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
  /**
   * Memory budget for everything peers can make the relay hold (half-received
   * messages, UDP reassembly, upload parts, rendition decodes), bytes.
   * Default 256 MiB. When it is spent, the peer holding the most is closed
   * with FW_OVERLOADED.
   */
  memoryBudgetBytes?: number;
  /** Most of the budget one peer may hold, bytes. Default 2 × maxFrameBytes + 1 MiB (at most the budget). */
  peerBudgetBytes?: number;
  /** Check publishers' frames (JPEG SOI, SOF size = header size, picture limits) without decoding. Default true. */
  validateFrames?: boolean;
  /** A publisher is closed with FW_BAD_FRAME at this many invalid frames. Default 3. */
  maxBadFrames?: number;
  /** Largest picture width or height a frame may declare, pixels. Default 8192. */
  maxPictureDimension?: number;
  /** Most pixels a frame may declare, and a rendition may decode. Default 8192 × 8192. */
  maxPixels?: number;
  /** Most viewers waiting for streams that have no publisher, in all. Default 1000. */
  maxWaitingViewers?: number;
  /** Most viewers waiting for streams that have no publisher, from one IP address. Default 32. */
  maxWaitingPerAddress?: number;
  /**
   * A viewer that announced acks and acks nothing while its window is full
   * for this long is closed with FW_TIMEOUT (over TCP and WebSocket; UDP
   * takes such frames as lost). Default 10000 ms.
   */
  ackTimeoutMs?: number;
  /** Clock (µs); injectable for tests. */
  clock?: Clock;
}

/**
 * Events a relay emits, for logs and monitoring (`relay.on('live', …)`).
 * Listeners run inside the relay's own calls: one that throws is reported
 * as `listenererror` and never disturbs the relay (see {@link TypedEmitter}).
 */
export interface RelayEvents {
  /** A connection arrived on any transport (before its hello). */
  connect: [{ remote: string; transport: string }];
  /** A peer's hello was accepted: it is now the stream's publisher, or one of its viewers. */
  session: [{ remote: string; transport: string; session: string; role: string; stream: string }];
  /** A connection ended, with or without a session (`role` and `stream` are null before the hello). */
  disconnect: [{ remote: string; transport: string; session: string; role: string | null; stream: string | null; reason: string }];
  /** A peer broke the protocol, failed the TLS handshake or was refused (bad token, busy stream, …): it alone was closed. */
  peerError: [{ remote: string; transport: string; code: string; message: string }];
  /** A stream went live (its publisher came) or stopped being live (its publisher left). */
  live: [{ stream: string; live: boolean }];
}

/** One viewer's figures, from {@link Relay.viewers}. */
export interface ViewerInfo {
  session: string;
  remote: string;
  transport: string;
  sent: number;
  skipped: number;
  decimated: number;
  /** Source frames not sent to this viewer because the relay could not decode them (invalid, or a rendition failed). */
  notDecodable: number;
  /** Frames the publisher never sent while this viewer watched (gaps in its sequence). */
  droppedByPublisher: number;
  pending: boolean;
  /** Frames sent and not yet acked (viewers that ack). */
  unacked: number;
  /** Frames sent over a lossy transport (UDP) that no ack came for in time: taken as lost. */
  expired: number;
  queuedBytes: number;
  /** Transport-specific counters (UDP loss and repair), when the transport has any. */
  transportStats?: Record<string, number>;
}

/**
 * The relay: named streams, one publisher and many viewers each, with
 * latest-frame-wins fan-out per viewer. Transport-agnostic: transports hand
 * it {@link MessageChannel}s through {@link Relay.accept}; the `listen*`
 * methods start such listeners (see `listeners.ts`), which it owns and
 * closes with itself.
 */
export class Relay extends TypedEmitter<RelayEvents> implements SessionHost, HttpRelay {
  readonly clock: Clock;
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly limits: Required<ParserLimits>;
  private readonly maxClients: number;
  private readonly maxStreams: number;
  private readonly maxRenditions: number;
  private readonly auth: RelayAuth;
  /** @internal the memory budget every channel's held bytes are charged to */
  readonly budget: MemoryBudget<ServerSession>;
  private readonly validateFrames: boolean;
  private readonly maxBadFrames: number;
  private readonly pictureLimits: Required<PictureLimits>;
  private readonly ackTimeoutUs: number;
  private readonly streamsByName = new Map<string, RelayStream>();
  private liveStreams = 0;
  /** Viewers that came for a stream with no publisher, and the address each came from. */
  private readonly waiting: WaitingList<ServerSession>;
  private readonly counts = { badFrames: 0, badPublishers: 0, ackTimeouts: 0 };
  private readonly badFramesBySession = new WeakMap<ServerSession, number>();
  private readonly sessions = new Set<ServerSession>();
  private readonly servers: Listeners;
  private closed = false;
  private closedDecodesRefused = 0;

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
    this.auth = new RelayAuth({ token: options.token, secret: options.secret, now: () => this.clock() / 1000 });
    const total = positive(options.memoryBudgetBytes, DEFAULT_MEMORY_BUDGET, 'memoryBudgetBytes');
    const perPeer = positive(options.peerBudgetBytes, Math.min(total, 2 * this.limits.maxFrameBytes + 1024 * 1024), 'peerBudgetBytes');
    this.budget = new MemoryBudget(total, Math.min(total, perPeer));
    this.validateFrames = options.validateFrames ?? true;
    this.maxBadFrames = positive(options.maxBadFrames, 3, 'maxBadFrames');
    this.pictureLimits = {
      maxDimension: positive(options.maxPictureDimension, DEFAULT_PICTURE_LIMITS.maxDimension, 'maxPictureDimension'),
      maxPixels: positive(options.maxPixels, DEFAULT_PICTURE_LIMITS.maxPixels, 'maxPixels'),
    };
    this.waiting = new WaitingList(
      positive(options.maxWaitingViewers, 1000, 'maxWaitingViewers'),
      positive(options.maxWaitingPerAddress, 32, 'maxWaitingPerAddress'),
    );
    this.ackTimeoutUs = positive(options.ackTimeoutMs, 10_000, 'ackTimeoutMs') * 1000;
    this.servers = new Listeners(this, { maxClients: this.maxClients, onTlsError: (e) => this.safeEmit('peerError', e) });
  }

  /**
   * Starts a TCP listener for the native protocol; with `options.tls`, the
   * same protocol inside TLS (`tls://`). Port 0 picks a free port.
   */
  listenTcp(port = 0, host = '127.0.0.1', options: TcpListenOptions = {}): Promise<ListenAddress> {
    return this.servers.tcp(port, host, options);
  }

  /**
   * Starts the HTTP port: web UI, JSON API, WebSocket (`/ws`), MJPEG out and
   * in, snapshots (see `createHttpServer` in http.ts); with `options.tls`, all of
   * it as HTTPS and WSS. Port 0 picks a free port. Closed with the relay.
   */
  listenHttp(port = 0, host = '127.0.0.1', options: HttpServerOptions = {}): Promise<ListenAddress> {
    return this.servers.http(port, host, options);
  }

  /**
   * Starts a UDP listener for the native protocol (fragmented frames, NACK
   * and optional FEC repair). Port 0 picks a free port. `options` tune the
   * relay's sending side (fragment size, pacing) and the repair of what it
   * receives; each client may ask for its own fragment size and FEC.
   */
  listenUdp(port = 0, host = '127.0.0.1', options: UdpServerOptions = {}): Promise<ListenAddress> {
    return this.servers.udp(port, host, options);
  }

  /** Loss and repair counters of the UDP listeners (summed over their sessions), one entry per listener. */
  udpStats(): UdpServerStats[] {
    return this.servers.udpStats();
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
      notDecodable: v.notDecodable,
      droppedByPublisher: v.droppedByPublisher,
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
   * Checks a token (for requests served outside a session, e.g. an HTTP
   * snapshot or the stream list) and resolves with what it allows: the
   * shared token, or no auth on this relay, allows everything. With `need`,
   * the token must also allow that role on that stream. Rejects with
   * FW_UNAUTHORIZED and the reason.
   */
  async checkToken(token: string | undefined, need?: AccessNeed): Promise<TokenScope> {
    return this.auth.check(token, need);
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
    await this.servers.close();
  }

  /** @internal SessionHost */
  authenticate(hello: HelloBody): undefined | Promise<unknown> {
    const scope = this.auth.check(hello.token, { stream: hello.stream, role: hello.role });
    return scope instanceof Promise ? scope : undefined;
  }

  /** @internal SessionHost */
  attach(session: ServerSession, hello: HelloBody): ControlMessage {
    const existing = this.streamsByName.get(hello.stream);
    if (hello.role === 'publish' && !existing?.live && this.liveStreams >= this.maxStreams) {
      throw new FramewireError(ErrorCodes.TOO_MANY_CLIENTS, `the relay is at its limit of ${this.maxStreams} streams`);
    }
    if (hello.role === 'view' && !existing?.live) this.waiting.admit(session, hostOf(session.remote), hello.stream);
    let stream = existing;
    if (!stream) {
      stream = new RelayStream(hello.stream, {
        maxRenditions: this.maxRenditions,
        pictureLimits: this.pictureLimits,
        reserve: (bytes) => this.budget.reserve(bytes),
      });
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
        throw new FramewireError(ErrorCodes.STREAM_BUSY, `stream "${stream.name}" already has a publisher`);
      }
      stream.publisher = { session: session.id, remote: session.remote, since: this.clock() };
      this.liveStreams++;
      // Its viewers are no longer waiting for a stream that does not exist.
      this.waiting.streamLive(stream.name);
      stream.restartSequence();
      granted.body.live = true;
      granted.body.granted = { ...hello.params };
      stream.announce();
      this.safeEmit('live', { stream: stream.name, live: true });
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
      if (profile && rendered && f && stream.live && satisfiedBySource(profile, f.width, f.height)) {
        // Nothing to render: the source as it is already fits what was asked.
        g.width = f.width;
        g.height = f.height;
      } else if (profile && rendered) {
        // The size the rendition sends (both sides, aspect kept) once the source size is known; until then what was asked.
        const size = f && stream.live ? renditionSize(profile, f.width, f.height) : { width, height };
        if (size.width !== undefined) g.width = size.width;
        if (size.height !== undefined) g.height = size.height;
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
    const f = msg.frame;
    if (f.codec !== 'jpeg') {
      // Codec id 2 (h264) is reserved for a later release: refused, never forwarded to viewers that cannot decode it.
      session.fail(
        FramewireError.badHeader(`frame ${f.seq}: codec ${f.codec} is reserved for a later release; this relay serves jpeg only`),
      );
      return;
    }
    // Frames the publisher's transport lost (UDP) are lost on the wire; other gaps in its seqs it never sent.
    const wireLost = session.channel.lossy ? (session.channel.transportStats()?.framesLost ?? 0) : 0;
    const problem = this.validateFrames ? checkJpegFrame(f.data, f.width, f.height, this.pictureLimits) : undefined;
    if (problem !== undefined) {
      this.counts.badFrames++;
      stream.refuse(f.seq, wireLost);
      const n = (this.badFramesBySession.get(session) ?? 0) + 1;
      this.badFramesBySession.set(session, n);
      if (n >= this.maxBadFrames) {
        this.counts.badPublishers++;
        session.fail(new FramewireError(ErrorCodes.BAD_FRAME, `frame ${f.seq}: ${problem} (${n} invalid frames; none was forwarded)`));
      }
      return;
    }
    // Restamp once, on the relay's clock, so every viewer needs only its own offset to the relay.
    const captureUs = Math.max(0, Math.round(f.captureUs - session.clockSync.offsetUs));
    // The bytes as a Buffer view once per frame (no copy): sockets then take them as they are for every viewer.
    stream.fanOut(toRelayFrame({ ...f, captureUs, data: asBuffer(f.data) }), arrivalUs, wireLost);
  }

  /** @internal SessionHost */
  onAck(session: ServerSession, seq: number): void {
    const hello = session.hello;
    if (hello?.role !== 'view') return;
    this.streamsByName.get(hello.stream)?.viewers.get(session.id)?.onAck(seq);
  }

  /** @internal SessionHost */
  onHeld(session: ServerSession, bytes: number): void {
    const victim = this.budget.hold(session, bytes);
    if (!victim) return;
    const { totalBytes, perPeerBytes } = this.budget;
    victim.fail(
      new FramewireError(
        ErrorCodes.OVERLOADED,
        victim === session && bytes > perPeerBytes
          ? `this connection holds ${bytes} bytes of unfinished input, more than its share of ${perPeerBytes}`
          : `the relay's memory budget of ${totalBytes} bytes is spent and this connection holds the most of it`,
      ),
    );
  }

  /** @internal SessionHost */
  onTick(session: ServerSession, nowUs: number): void {
    const hello = session.hello;
    if (hello?.role !== 'view') return;
    const slot = this.streamsByName.get(hello.stream)?.viewers.get(session.id);
    if (!slot?.ackStalled(nowUs, this.ackTimeoutUs)) return;
    this.counts.ackTimeouts++;
    session.fail(
      new FramewireError(
        ErrorCodes.TIMEOUT,
        `no ack for ${slot.unacked} frames in ${this.ackTimeoutUs / 1000} ms: a viewer that says acks: true must ack every frame it gets`,
      ),
    );
  }

  /**
   * Figures on the relay's own health: clients, streams, waiting viewers, the
   * memory budget, refused frames and decodes (served at `/api/health`).
   */
  health(): RelayHealth {
    let decodesRefused = 0;
    for (const s of this.streamsByName.values()) decodesRefused += s.renditions.refused;
    return {
      clients: this.sessions.size,
      streams: this.streamsByName.size,
      liveStreams: this.liveStreams,
      waitingViewers: this.waiting.size,
      memory: this.budget.info(),
      badFrames: this.counts.badFrames,
      badPublishers: this.counts.badPublishers,
      decodesRefused: decodesRefused + this.closedDecodesRefused,
      ackTimeouts: this.counts.ackTimeouts,
      rssBytes: process.memoryUsage.rss(),
    };
  }

  /** @internal SessionHost */
  detach(session: ServerSession, reason: string, error?: FramewireError): void {
    this.sessions.delete(session);
    this.budget.release(session);
    this.waiting.leave(session);
    const hello = session.hello;
    if (error) {
      this.safeEmit('peerError', {
        remote: session.remote,
        transport: session.channel.transport,
        code: error.code,
        message: error.message,
      });
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
      this.liveStreams--;
      stream.announce();
      this.safeEmit('live', { stream: stream.name, live: false });
    } else {
      stream.removeViewer(session.id);
    }
    this.dropIfEmpty(stream);
  }

  private dropIfEmpty(stream: RelayStream): void {
    if (stream.live || stream.viewers.size > 0) return;
    this.closedDecodesRefused += stream.renditions.refused;
    this.streamsByName.delete(stream.name);
  }
}

/** Creates a relay. Call `listenTcp()` (and later other transports) to accept peers. */
export function createRelay(options: RelayOptions = {}): Relay {
  return new Relay(options);
}

/** The address part of "ip:port" / "[ipv6]:port". */
function hostOf(remote: string): string {
  const colon = remote.lastIndexOf(':');
  return colon > 0 ? remote.slice(0, colon) : remote;
}

function positive(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v <= 0) throw new FramewireError(ErrorCodes.BAD_OPTION, `${name} must be a positive number, got ${v}`);
  return v;
}
