/**
 * The relay's memory budget: one account for everything a peer can make
 * the relay hold — half-received messages (TCP, WebSocket), UDP reassembly
 * buffers, MJPEG upload parts — plus the transient pixel buffers of
 * rendition decodes. A peer above its share, or the biggest holder when the
 * total is spent, is closed (FW_OVERLOADED); nobody else is touched.
 * Pure bookkeeping: the owner closes what {@link MemoryBudget.hold} names.
 */

/** Default total budget: 256 MiB. */
export const DEFAULT_MEMORY_BUDGET = 256 * 1024 * 1024;

/** Figures of a {@link MemoryBudget}, for `/api/health`. */
export interface BudgetInfo {
  /** The total budget, bytes. */
  totalBytes: number;
  /** Most one peer may hold, bytes. */
  perPeerBytes: number;
  /** Held now, bytes (peers plus decodes in progress). */
  usedBytes: number;
  /** The most ever held at once, bytes. */
  peakBytes: number;
  /** Peers holding something now. */
  holders: number;
  /** Peers closed because they passed their share or the total was spent. */
  overloads: number;
  /** Rendition decodes refused because the budget had no room for their pixels. */
  decodesRefused: number;
}

/**
 * See the module comment. `H` is whatever identifies a peer (the relay uses
 * its sessions).
 */
export class MemoryBudget<H> {
  private readonly held = new Map<H, number>();
  private peers = 0;
  private reserved = 0;
  private peak = 0;
  private overloads = 0;
  private decodesRefused = 0;

  /**
   * @param totalBytes the whole budget
   * @param perPeerBytes most one peer may hold (at most `totalBytes`)
   */
  constructor(
    readonly totalBytes: number,
    readonly perPeerBytes: number,
  ) {}

  /** Bytes held now. */
  get usedBytes(): number {
    return this.peers + this.reserved;
  }

  /**
   * Records that `holder` now holds `bytes`. Returns the peer to close, if
   * any: `holder` itself when it passed its share, else the biggest holder
   * when the total is spent (possibly `holder`). The returned peer's bytes
   * are already released.
   */
  hold(holder: H, bytes: number): H | undefined {
    const before = this.held.get(holder) ?? 0;
    if (bytes <= 0) {
      if (before > 0) {
        this.held.delete(holder);
        this.peers -= before;
      }
      return undefined;
    }
    this.held.set(holder, bytes);
    this.peers += bytes - before;
    this.peak = Math.max(this.peak, this.usedBytes);
    if (bytes > this.perPeerBytes) return this.evict(holder);
    if (this.usedBytes <= this.totalBytes) return undefined;
    let biggest = holder;
    let most = bytes;
    for (const [h, n] of this.held) {
      if (n > most) [biggest, most] = [h, n];
    }
    return this.evict(biggest);
  }

  /** Forgets a peer (it closed). */
  release(holder: H): void {
    this.hold(holder, 0);
  }

  /**
   * Reserves room for a transient buffer (a decode's pixels). Returns false,
   * reserving nothing, when it does not fit; otherwise call the returned
   * function once the buffer is gone.
   */
  reserve(bytes: number): (() => void) | false {
    if (this.usedBytes + bytes > this.totalBytes) {
      this.decodesRefused++;
      return false;
    }
    this.reserved += bytes;
    this.peak = Math.max(this.peak, this.usedBytes);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.reserved -= bytes;
    };
  }

  /** Figures for monitoring. */
  info(): BudgetInfo {
    return {
      totalBytes: this.totalBytes,
      perPeerBytes: this.perPeerBytes,
      usedBytes: this.usedBytes,
      peakBytes: this.peak,
      holders: this.held.size,
      overloads: this.overloads,
      decodesRefused: this.decodesRefused,
    };
  }

  private evict(holder: H): H {
    this.overloads++;
    this.release(holder);
    return holder;
  }
}
