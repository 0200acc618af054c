/**
 * A test-pattern publisher in its own process (drawing + sharp JPEG encode
 * take real CPU; kept out of the relay's and the viewers' processes).
 * argv[2]: JSON { url, width, height, fps, tls? }. Sends "ready" once the relay
 * has welcomed it. Calls: stats (publication stats + process usage).
 */
import { publish, testPattern, type FrameSource, type TlsClientOptions } from '../src/index.js';
import { emitToParent, procUsage, serveParent } from './ipc.js';

interface Args {
  url: string;
  width: number;
  height: number;
  fps: number;
  tls?: TlsClientOptions;
}

const a = JSON.parse(process.argv[2] ?? '{}') as Args;
const pattern = testPattern({ width: a.width, height: a.height, fps: a.fps });
// Workaround (src bug): publish() puts source.info.fps into the hello's params,
// and the relay refuses fps 0 ("fps" must be in [0.1, 1000]), so an
// unthrottled source cannot be published as is. Leave fps out of the hello.
const source: FrameSource =
  a.fps > 0
    ? pattern
    : {
        info: { width: a.width, height: a.height, fps: undefined as unknown as number },
        close: () => pattern.close(),
        [Symbol.asyncIterator]: () => pattern[Symbol.asyncIterator](),
      };
const pub = await publish(a.url, source, { reconnect: false, ...(a.tls ? { tls: a.tls } : {}) });
serveParent(
  {
    stats: () => ({ ...pub.stats(), usage: procUsage() }),
  },
  async () => {
    pub.close();
    await pub.done.catch(() => undefined);
  },
);
emitToParent('ready', { welcome: pub.welcome });
