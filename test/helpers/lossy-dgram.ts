import dgram from 'node:dgram';

/**
 * The in-process stand-in for nftables' `numgen random mod 100 < N drop`:
 * every dgram socket in this process drops `pct` % of the datagrams it sends
 * and of those it receives, at random. Returns counters.
 */
export function installLossyDgram(pct: number): { dropped: number } {
  const counters = { dropped: 0 };
  const proto = dgram.Socket.prototype as unknown as {
    send: (...a: unknown[]) => void;
    emit: (event: string | symbol, ...a: unknown[]) => boolean;
  };
  const send = proto.send;
  const emit = proto.emit;
  const drop = (): boolean => Math.floor(Math.random() * 100) < pct;
  proto.send = function (this: unknown, ...a: unknown[]): void {
    if (drop()) {
      counters.dropped++;
      const cb = a.at(-1);
      if (typeof cb === 'function') process.nextTick(cb as () => void, null);
      return;
    }
    send.apply(this, a);
  };
  proto.emit = function (this: unknown, event: string | symbol, ...a: unknown[]): boolean {
    if (event === 'message' && drop()) {
      counters.dropped++;
      return true;
    }
    return emit.call(this, event, ...a);
  };
  return counters;
}
