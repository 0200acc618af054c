/**
 * What auth costs a session start: TCP connect → hello → welcome → close,
 * against a relay without auth, with the shared token, and with a scoped
 * token (HS256 JWT verified by jose), `concurrency` handshakes in flight.
 * Also the bare token check, without sockets.
 *
 *   node dist/bench/tokens.js [handshakes] [concurrency]     prints a markdown table
 */
import net from 'node:net';
import { createRelay, createToken, type RelayOptions } from '../src/index.js';
import { encodeControl, StreamParser, type HelloBody } from '../src/protocol/index.js';
import { RelayAuth } from '../src/relay/auth.js';

const total = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 16);
const SECRET = 'bench-secret-0123456789abcdefghijklmn';

/** One handshake on a fresh connection; resolves at the welcome. */
function handshake(port: number, hello: HelloBody): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(encodeControl({ type: 'hello', body: hello })));
    const parser = new StreamParser();
    s.on('data', (chunk: Buffer) => {
      for (const m of parser.push(chunk)) {
        if (m.type === 'welcome') {
          s.destroy();
          resolve();
        } else if (m.type === 'error') {
          s.destroy();
          reject(new Error(`${m.body.code}: ${m.body.message}`));
        }
      }
    });
    s.on('error', reject);
  });
}

async function handshakesPerSecond(options: RelayOptions, token: string | undefined): Promise<number> {
  const relay = createRelay({ ...options, maxClients: 100_000 });
  const { port } = await relay.listenTcp(0, '127.0.0.1');
  const hello: HelloBody = { role: 'view', stream: 'cam', ...(token ? { token } : {}) };
  for (let i = 0; i < 50; i++) await handshake(port, hello); // warm-up
  let started = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < total) {
        started++;
        await handshake(port, hello);
      }
    }),
  );
  const rate = (total / (performance.now() - t0)) * 1000;
  await relay.close();
  return rate;
}

async function checksPerSecond(auth: RelayAuth, token: string): Promise<number> {
  const n = total * 5;
  for (let i = 0; i < 200; i++) await auth.check(token, { stream: 'cam', role: 'view' });
  const t0 = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (done < n) {
        done++;
        await auth.check(token, { stream: 'cam', role: 'view' });
      }
    }),
  );
  return (n / (performance.now() - t0)) * 1000;
}

const scoped = await createToken({ secret: SECRET, stream: 'cam', role: 'view' });
const rows: [string, number, number][] = [
  ['no auth', await handshakesPerSecond({}, undefined), NaN],
  [
    'shared --token',
    await handshakesPerSecond({ token: 'shared' }, 'shared'),
    await checksPerSecond(new RelayAuth({ token: 'shared' }), 'shared'),
  ],
  [
    'scoped token (--secret)',
    await handshakesPerSecond({ secret: SECRET }, scoped),
    await checksPerSecond(new RelayAuth({ secret: SECRET }), scoped),
  ],
];
const fmt = (v: number): string => (Number.isNaN(v) ? '–' : Math.round(v).toLocaleString('en-US'));
process.stdout.write(
  `| auth | TCP handshakes/s (${concurrency} in flight, ${total}) | token checks/s alone | µs per check |\n|---|---|---|---|\n`,
);
for (const [name, hs, checks] of rows) {
  process.stdout.write(`| ${name} | ${fmt(hs)} | ${fmt(checks)} | ${Number.isNaN(checks) ? '–' : (1e6 / checks).toFixed(1)} |\n`);
}
