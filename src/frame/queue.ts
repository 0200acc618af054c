import { ErrorCodes, FramewireError } from '../errors.js';

/**
 * A bounded async queue that drops its oldest item when full (live video:
 * the newest frame wins). One consumer. `close()` ends iteration after the
 * queued items; `fail(err)` ends it with an error at once.
 */
export class DropOldestQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private closed = false;
  private error: unknown;
  /** Items dropped because the queue was full. */
  dropped = 0;

  constructor(
    private readonly capacity: number,
    private readonly onDrop?: (item: T) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new FramewireError(ErrorCodes.BAD_OPTION, `queue capacity must be a positive integer, got ${capacity}`);
    }
  }

  /** Items waiting. */
  get size(): number {
    return this.items.length;
  }

  /** Adds an item (ignored after close). */
  push(item: T): void {
    if (this.closed) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: item, done: false });
      return;
    }
    if (this.items.length >= this.capacity) {
      const old = this.items.shift() as T;
      this.dropped++;
      this.onDrop?.(old);
    }
    this.items.push(item);
  }

  /** Ends iteration once the queued items are consumed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.waiter && this.items.length === 0) {
      const w = this.waiter;
      this.waiter = undefined;
      if (this.error !== undefined) w.reject(this.error);
      else w.resolve({ value: undefined, done: true });
    }
  }

  /** Ends iteration with `err`, discarding queued items. */
  fail(err: unknown): void {
    if (this.closed) return;
    this.error = err;
    this.items.length = 0;
    this.close();
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.closed) {
      return this.error !== undefined ? Promise.reject(this.error) : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: async () => {
        this.close();
        this.items.length = 0;
        return { value: undefined, done: true };
      },
    };
  }
}
