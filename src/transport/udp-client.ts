import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { ErrorCodes, FramewireError } from '../errors.js';
import { NONCE_BYTES, readDatagram } from '../protocol/udp/datagram.js';
import { checkFecGroup, checkFragmentSize } from '../protocol/udp/fragmenter.js';
import { encodeInit, encodeOpen, readCookie, readOpened } from '../protocol/udp/handshake.js';
import { addr, DEFAULT_SOCKET_BUFFER, sendParts } from './udp-socket.js';
import { UdpChannel, type UdpChannelOptions } from './udp.js';

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
 * relay sends back, clamped to what the relay allows (its `opened` reply
 * says what it granted: `channel.peerFragmentSize`). Rejects with
 * FW_BAD_OPTION for options out of range, before any datagram is sent.
 *
 * The socket is connected to the relay, so the kernel drops datagrams from
 * any other address. After the handshake, the channel ends at once (close
 * reason starting "unknown session") when the relay answers that it does
 * not know the session — a relay restarted on the same port — so the
 * caller's reconnect starts a new handshake without waiting for the
 * session timeout.
 */
export function connectUdp(options: ConnectUdpOptions): Promise<UdpChannel> {
  try {
    if (options.fragmentSize !== undefined) checkFragmentSize(options.fragmentSize);
    checkFecGroup(options.fecGroup);
  } catch (err) {
    return Promise.reject(err);
  }
  const fragmentSize = options.fragmentSize ?? 0;
  const fecGroup = options.fecGroup ?? 0;
  return new Promise((resolve, reject) => {
    const type = net.isIPv6(options.host) ? 'udp6' : 'udp4';
    const buf = options.socketBufferBytes ?? DEFAULT_SOCKET_BUFFER;
    const socket = dgram.createSocket({ type, recvBufferSize: buf, sendBufferSize: buf });
    const nonce = randomBytes(NONCE_BYTES);
    const target = addr(options.host, options.port);
    let cookie: Uint8Array | undefined;
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
    const timer = setTimeout(
      () => fail(new FramewireError(ErrorCodes.TIMEOUT, `no answer from udp://${target} within ${options.timeoutMs ?? 10_000} ms`)),
      options.timeoutMs ?? 10_000,
    );
    const cleanup = (): void => {
      clearTimeout(timer);
      clearInterval(retry);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const say = (): void => {
      if (settled) return;
      sendParts(socket, [cookie ? encodeOpen({ nonce, cookie, fragmentSize, fecGroup }) : encodeInit(nonce)]);
    };
    const retry = setInterval(say, options.retryMs ?? 250);
    socket.on('error', (err) => {
      if (!settled) fail(new FramewireError(ErrorCodes.CONNECTION_CLOSED, `cannot reach udp://${target}: ${err.message}`, { cause: err }));
    });
    const onMessage = (msg: Buffer): void => {
      const dg = readDatagram(msg);
      if (!dg) return;
      if (channel) {
        if (dg.session === channel.session) channel.receive(dg, msg);
        return;
      }
      if (settled) return;
      const c = readCookie(dg, nonce);
      if (c) {
        cookie = c;
        say();
        return;
      }
      const opened = cookie ? readOpened(dg, nonce) : undefined;
      if (!opened) return;
      const ch = new UdpChannel(
        target,
        opened.session,
        {
          send: (p) => sendParts(socket, p),
          closed: () => {
            try {
              socket.close();
            } catch {
              /* already closed */
            }
          },
        },
        options,
      );
      ch.peerFragmentSize = opened.granted?.fragmentSize;
      settled = true;
      cleanup();
      channel = ch;
      // After the handshake an ICMP error (the relay went away) ends the session; the owner reconnects.
      socket.on('error', () => ch.destroy());
      resolve(ch);
    };
    socket.on('message', (msg) => {
      try {
        onMessage(msg);
      } catch (err) {
        // A bug must not escape into the socket's event: it ends this connection only.
        if (channel) channel.fail(err);
        else fail(FramewireError.from(err, `the udp://${target} handshake`));
      }
    });
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.connect(options.port, options.host, () => say());
  });
}
