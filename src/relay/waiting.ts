import { FramewireError } from '../errors.js';

/**
 * The bounded list of viewers waiting for a stream that has no publisher
 * (a viewer may come first and keep its place): at most `maxTotal` in all
 * and `maxPerAddress` from one IP address, so made-up stream names cannot
 * fill the relay's stream table. Pure bookkeeping; `K` identifies a viewer.
 */
export class WaitingList<K> {
  private readonly byViewer = new Map<K, { address: string; stream: string }>();
  private readonly byAddress = new Map<string, number>();

  constructor(
    readonly maxTotal: number,
    readonly maxPerAddress: number,
  ) {}

  /** Viewers waiting now. */
  get size(): number {
    return this.byViewer.size;
  }

  /** Adds a viewer of `stream` from `address`; throws FW_TOO_MANY_CLIENTS when a bound is reached. */
  admit(viewer: K, address: string, stream: string): void {
    const mine = this.byAddress.get(address) ?? 0;
    if (this.byViewer.size >= this.maxTotal) {
      throw FramewireError.tooManyClients(`${this.maxTotal} viewers are already waiting for streams that have no publisher`);
    }
    if (mine >= this.maxPerAddress) {
      throw FramewireError.tooManyClients(`${mine} viewers from ${address} are already waiting for streams that have no publisher`);
    }
    this.byViewer.set(viewer, { address, stream });
    this.byAddress.set(address, mine + 1);
  }

  /** Removes a viewer (it left, or its stream went live). */
  leave(viewer: K): void {
    const w = this.byViewer.get(viewer);
    if (!w) return;
    this.byViewer.delete(viewer);
    const n = (this.byAddress.get(w.address) ?? 1) - 1;
    if (n > 0) this.byAddress.set(w.address, n);
    else this.byAddress.delete(w.address);
  }

  /** A publisher arrived for `stream`: its viewers are no longer waiting. */
  streamLive(stream: string): void {
    for (const [viewer, w] of [...this.byViewer]) if (w.stream === stream) this.leave(viewer);
  }
}
