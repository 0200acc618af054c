import type net from 'node:net';
import { TcpChannel, createTcpServer } from '../transport/tcp.js';
import type { TlsClientErrorInfo, TlsServerOptions } from '../transport/tls.js';
import { UdpServer, type UdpServerOptions, type UdpServerStats } from '../transport/udp-server.js';
import { createHttpServer, type HttpServerOptions } from './http.js';
import type { HttpRelay } from './http-relay.js';

/** Options for {@link Listeners.tcp} (and `Relay.listenTcp`). */
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

/** How {@link Listeners} bound their sockets. */
export interface ListenersOptions {
  /** Most connections the relay takes as sessions (its `maxClients`); each TCP and HTTP listener takes at most this + {@link HARD_LIMIT_SLACK}. */
  maxClients: number;
  /** A TLS client failed its handshake (for the relay's `peerError` event). */
  onTlsError?: ((e: TlsClientErrorInfo) => void) | undefined;
}

/** Connections a listener takes beyond `maxClients` (handshakes, API requests) before it drops new ones unanswered. */
export const HARD_LIMIT_SLACK = 256;

/**
 * The relay's sockets: TCP and TLS servers, UDP servers and HTTP(S)
 * servers. Each turns what it accepts into a `MessageChannel` and
 * hands it to the relay's `accept`; the relay itself knows no sockets.
 * Every TCP and HTTP listener is bounded (`maxClients` + slack), since TLS
 * handshakes and HTTP requests are not sessions yet.
 */
export class Listeners {
  private readonly servers: net.Server[] = [];
  private readonly udpServers: UdpServer[] = [];

  constructor(
    private readonly relay: HttpRelay,
    private readonly options: ListenersOptions,
  ) {}

  /** Starts a TCP listener for the native protocol; with `options.tls`, inside TLS. Port 0 picks a free port. */
  tcp(port: number, host: string, options: TcpListenOptions = {}): Promise<ListenAddress> {
    const relay = this.relay;
    const server = createTcpServer((socket) => relay.accept(new TcpChannel(socket, relay.limits)), {
      tls: options.tls,
      handshakeTimeoutMs: relay.handshakeTimeoutMs,
      onTlsError: (e) => this.options.onTlsError?.(e),
    });
    return this.bounded(server, port, host);
  }

  /** Starts the HTTP (or HTTPS) port (see {@link createHttpServer}). Port 0 picks a free port. */
  http(port: number, host: string, options: HttpServerOptions = {}): Promise<ListenAddress> {
    return this.bounded(createHttpServer(this.relay, options), port, host);
  }

  /** Starts a UDP listener for the native protocol; `options` tune its sending side and repair. */
  async udp(port: number, host: string, options: UdpServerOptions = {}): Promise<ListenAddress> {
    const relay = this.relay;
    const server = new UdpServer((channel) => relay.accept(channel), { ...relay.limits, ...options }, host.includes(':') ? 'udp6' : 'udp4');
    this.udpServers.push(server);
    return server.listen(port, host);
  }

  /** Loss and repair counters of the UDP listeners (summed over their sessions), one entry per listener. */
  udpStats(): UdpServerStats[] {
    return this.udpServers.map((u) => u.stats());
  }

  /** Stops every listener; UDP sockets close a moment later, so byes already sent go out first. */
  async close(): Promise<void> {
    await Promise.all([
      ...this.servers.map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))),
      ...this.udpServers.map(async (u) => {
        // Let the byes go out before the socket closes.
        await new Promise((r) => setTimeout(r, 50));
        await u.close();
      }),
    ]);
  }

  private bounded(server: net.Server, port: number, host: string): Promise<ListenAddress> {
    server.on('error', () => undefined);
    // A hard stop behind the graceful one (FW_TOO_MANY_CLIENTS in accept): sockets still in their TLS
    // handshake, API requests and sockets waiting for their headers are not sessions, and must not grow without bound.
    server.maxConnections = this.options.maxClients + HARD_LIMIT_SLACK;
    this.servers.push(server);
    return listen(server, port, host);
  }
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
