/**
 * A relay in a child process (TCP + UDP on 127.0.0.1, port 0), so a test
 * can kill it with SIGKILL — a crash that says goodbye to nobody — and start
 * another on the same ports. Prints `{"tcp":P,"udp":Q}` once listening.
 */
import { createRelay } from '../../src/relay/relay.js';

const relay = createRelay();
const tcp = await relay.listenTcp(0, '127.0.0.1');
const udp = await relay.listenUdp(0, '127.0.0.1');
process.stdout.write(`${JSON.stringify({ tcp: tcp.port, udp: udp.port })}\n`);
setInterval(() => undefined, 60_000);
