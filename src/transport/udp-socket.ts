import type dgram from 'node:dgram';
import type { Parts } from './udp-pacer.js';

/** Socket buffer size asked for by default (the kernel may cap it at net.core.[rw]mem_max). */
export const DEFAULT_SOCKET_BUFFER = 4 * 1024 * 1024;

/** "ip:port", with brackets around an IPv6 address. */
export function addr(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Sends one datagram made of `parts` (to the connected peer when `port` is undefined); errors are dropped, as UDP loss. */
export function sendParts(socket: dgram.Socket, parts: Parts, port?: number, host?: string): void {
  const cb = (): void => undefined;
  try {
    if (port === undefined) socket.send(parts as Buffer[], cb);
    else socket.send(parts as Buffer[], port, host, cb);
  } catch {
    /* socket closed */
  }
}
