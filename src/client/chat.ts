import { ErrorCodes, FramewireError } from '../errors.js';
import type { FrameSource } from '../frame/frame.js';
import type { ConnectOptions } from './connection.js';
import { publish, type Publication, type PushPublication } from './publish.js';
import { subscribe, type SubscribeOptions, type Subscription } from './subscribe.js';

/** Options for {@link chat}. */
export interface ChatOptions extends ConnectOptions {
  /** This side's stream on the relay: what the other side views. */
  as: string;
  /** The other side's stream: what this side views. */
  with: string;
  /** Reconnect both directions with backoff when the relay goes away. Default true. */
  reconnect?: boolean;
  /** How this side receives: fps cap, size, quality, local queue. Default: as the other side sends. */
  receive?: Pick<SubscribeOptions, 'fps' | 'width' | 'height' | 'quality' | 'queueSize'>;
}

/**
 * Two-way video through a relay: this side's publication and its
 * subscription to the other side. Latest-frame-wins both ways.
 */
export interface Chat<P extends Publication = Publication> {
  /** What this side sends (a {@link PushPublication} when no source was given). */
  readonly outgoing: P;
  /** What the other side sends: iterate it for frames; `live` events say when it is there. */
  readonly incoming: Subscription;
  /** Ends both directions (closing the source, if one was given). Idempotent. */
  close(): void;
}

/**
 * Joins a two-way video chat through a relay: publishes this side as
 * stream `as` and views stream `with`. The other side calls it with the two
 * names swapped. Resolves once both directions are connected (the other
 * side need not be there yet: `incoming` waits for it). `relayUrl` is the
 * relay's address without a stream (`tcp://host:7070`, `ws://host:8080`,
 * `wss://host/prefix`).
 *
 * @example
 * ```ts
 * const call = await chat('tcp://relay:7070', { as: 'alice', with: 'bob' }, cameraSource());
 * call.incoming.on('live', (live) => console.log(live ? 'bob is here' : 'bob left'));
 * for await (const frame of call.incoming) show(frame);
 * ```
 * @throws FramewireError as {@link publish} and {@link subscribe} do (e.g. FW_STREAM_BUSY when `as` is taken).
 */
export function chat(relayUrl: string, options: ChatOptions): Promise<Chat<PushPublication>>;
export function chat(relayUrl: string, options: ChatOptions, source: FrameSource): Promise<Chat<Publication>>;
export async function chat(relayUrl: string, options: ChatOptions, source?: FrameSource): Promise<Chat> {
  const { as, with: other, receive, ...connect } = options;
  const url = (stream: string): string => streamUrl(relayUrl, stream);
  const outgoing = source ? await publish(url(as), source, connect) : await publish(url(as), connect);
  const incoming = subscribe(url(other), { ...connect, ...receive });
  try {
    await incoming.ready;
  } catch (err) {
    outgoing.close();
    throw err;
  }
  return {
    outgoing,
    incoming,
    close: () => {
      incoming.close();
      outgoing.close();
    },
  };
}

/** `relayUrl` with `stream` as its path's last segment (a query, e.g. `?token=`, is kept). */
function streamUrl(relayUrl: string, stream: string): string {
  let u: URL;
  try {
    u = new URL(relayUrl);
  } catch {
    throw new FramewireError(ErrorCodes.BAD_URL, `"${relayUrl}" is not a URL; expected the relay's address, e.g. tcp://HOST:PORT`);
  }
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/${encodeURIComponent(stream)}`;
  return u.toString();
}
