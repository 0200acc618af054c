/**
 * A relay in a child process (TCP + UDP on 127.0.0.1, port 0), so a test
 * can kill it with SIGKILL — a crash that says goodbye to nobody — and start
 * another on the same ports, and a benchmark can read the relay's own CPU
 * time. Prints `{"tcp":P,"udp":Q}` once listening; answers each "cpu" line
 * on stdin with `{"cpuUs":N}` (user + system since the start).
 */
import { createInterface } from 'node:readline';
import { createRelay } from '../../src/relay/relay.js';

const relay = createRelay();
const tcp = await relay.listenTcp(0, '127.0.0.1');
const udp = await relay.listenUdp(0, '127.0.0.1');
process.stdout.write(`${JSON.stringify({ tcp: tcp.port, udp: udp.port })}\n`);
createInterface({ input: process.stdin }).on('line', (l) => {
  if (l.trim() !== 'cpu') return;
  const c = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ cpuUs: c.user + c.system })}\n`);
});
setInterval(() => undefined, 60_000);
