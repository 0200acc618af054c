import { EventEmitter } from 'node:events';

/** Events every {@link TypedEmitter} has besides its own. */
export interface BuiltInEvents {
  /**
   * A listener of `event` threw `error`. The emitter's own state is not
   * affected and the event's other listeners still ran. With no
   * `listenererror` listener the error becomes a process warning
   * (`process.emitWarning`), never an exception.
   */
  listenererror: [event: string, error: unknown];
}

/** An event map: event name → the tuple of arguments its listeners get. */
export type EventMap<E> = Record<keyof E, unknown[]>;

type AnyListener = (...args: unknown[]) => unknown;

/**
 * A Node `EventEmitter` typed by an event map (`on`, `once`, `off` check the
 * event name and the listener's arguments), whose {@link safeEmit} never
 * lets a throwing listener into the emitter's own code — mediasoup's
 * `EnhancedEventEmitter`, with one difference: each listener is called in
 * its own `try`, so one that throws does not keep the next from hearing the
 * event.
 *
 * Relays, publications and subscriptions emit through `safeEmit` only, so a
 * bug in a listener cannot break a connection loop or a relay's
 * bookkeeping, and an `error` event with no listener is not thrown (each
 * error is also reported through the object's own promise or iterator).
 *
 * @typeParam E - the event map, e.g. `{ live: [live: boolean] }`.
 */
export class TypedEmitter<E extends EventMap<E>> extends EventEmitter<E & BuiltInEvents> {
  constructor() {
    super();
    // Many listeners on one event are normal here (one per dashboard, per
    // log); Node's leak warning at 10 would be noise.
    this.setMaxListeners(0);
  }

  /**
   * Calls every listener of `event` with `args`, each in its own `try`: a
   * listener that throws is reported as `listenererror` (or a process
   * warning) and the others still run. Never throws, whatever the event
   * (`error` included). Returns whether `event` had listeners.
   */
  protected safeEmit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    // rawListeners keeps `once` wrappers, which remove themselves when called;
    // the array is a copy, so listeners added or removed meanwhile do not disturb it.
    const listeners = this.rawListenersOf(event);
    for (const listener of listeners) {
      try {
        listener.apply(this, args);
      } catch (error) {
        this.reportListenerError(event, error);
      }
    }
    return listeners.length > 0;
  }

  private reportListenerError(event: string, error: unknown): void {
    const listeners = this.rawListenersOf('listenererror');
    if (listeners.length === 0) {
      const what = error instanceof Error ? (error.stack ?? error.message) : String(error);
      process.emitWarning(`framewire: a "${event}" listener threw: ${what}`, 'FramewireListenerWarning');
      return;
    }
    for (const listener of listeners) {
      try {
        listener.call(this, event, error);
      } catch {
        // A throwing listenererror listener has nowhere left to report to.
      }
    }
  }

  private rawListenersOf(event: string): AnyListener[] {
    return (EventEmitter.prototype.rawListeners as (this: EventEmitter, e: string) => AnyListener[]).call(
      this as unknown as EventEmitter,
      event,
    );
  }
}
