/**
 * A loss lab for UDP experiments: two network namespaces joined by a veth
 * pair, random loss by nftables (`numgen random mod 100 < N drop`, both
 * directions, on the viewer's side) — or, where namespaces cannot be made,
 * the same processes on loopback with an in-process lossy socket wrapper
 * dropping the same fraction. `method` says which one ran.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PEER = fileURLToPath(new URL('./udp-peer.js', import.meta.url));

/** Why namespaces cannot be used here, or undefined if they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (network namespaces need CAP_NET_ADMIN)';
  for (const tool of ['ip', 'nft']) {
    const found = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].some((d) => existsSync(`${d}/${tool}`));
    if (!found) return `"${tool}" is not installed (apt-get install -y ${tool === 'ip' ? 'iproute2' : 'nftables'})`;
  }
  return undefined;
}

/** A running peer process with its JSON lines. */
export class Peer {
  readonly lines: Record<string, unknown>[] = [];
  private waiters: (() => void)[] = [];
  stderr = '';

  constructor(readonly child: ChildProcess) {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          /* not ours */
        }
        for (const w of this.waiters.splice(0)) w();
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    child.on('exit', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Resolves with the first line whose `event` is `event`. */
  async event(event: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find((l) => l.event === event);
      if (hit) return hit;
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`peer gave no "${event}" (exit ${this.child.exitCode}): ${this.stderr}`);
      }
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** Where experiments run: namespaces A (relay, sender) and B (viewer). */
export interface LossLab {
  readonly method: 'netns+nftables' | 'in-process wrapper';
  /** Address of side A as seen from side B. */
  readonly hostA: string;
  /** Address of side B as seen from side A. */
  readonly hostB: string;
  setLoss(pct: number): Promise<void>;
  spawnA(mode: string, args: Record<string, string | number | boolean>): Peer;
  spawnB(mode: string, args: Record<string, string | number | boolean>): Peer;
  close(): void;
}

/** A namespace lab that also runs any command on either side and limits the rate from A to B. */
export interface NetnsLab extends LossLab {
  /** Runs `node ARGV…` inside side A or B (its JSON lines on stdout are collected). */
  node(side: 'A' | 'B', args: readonly string[]): Peer;
  /** Limits what A sends to B to `mbit` Mbit/s with `tc tbf` (0: no limit). */
  setRate(mbit: number): void;
}

/** Why a rate-limited namespace lab cannot be made here (netns, nft and tc), or undefined. */
export function rateLabUnavailable(): string | undefined {
  const why = netnsUnavailable();
  if (why) return why;
  const found = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].some((d) => existsSync(`${d}/tc`));
  return found ? undefined : '"tc" is not installed (apt-get install -y iproute2)';
}

const argv = (mode: string, args: Record<string, string | number | boolean>): string[] => [
  PEER,
  mode,
  ...Object.entries(args).map(([k, v]) => `--${k}=${String(v)}`),
];

/** Creates the namespace lab. Cleans up on close() and on process exit or signal. */
export function createNetnsLab(): NetnsLab {
  const tag = `${process.pid % 100000}`;
  const nsA = `fwA${tag}`;
  const nsB = `fwB${tag}`;
  const octet = 1 + (process.pid % 250);
  const peers: Peer[] = [];
  const ip = (...a: string[]): void => void execFileSync('ip', a, { stdio: 'pipe' });
  let closed = false;
  const cleanup = (): void => {
    if (closed) return;
    closed = true;
    for (const p of peers) p.kill();
    for (const ns of [nsA, nsB]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'pipe' });
      } catch {
        /* already gone */
      }
    }
    process.off('exit', cleanup);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  const onSignal = (): void => {
    cleanup();
    process.exit(130);
  };
  process.on('exit', cleanup);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    ip('netns', 'add', nsA);
    ip('netns', 'add', nsB);
    ip('link', 'add', `vA${tag}`, 'type', 'veth', 'peer', 'name', `vB${tag}`);
    ip('link', 'set', `vA${tag}`, 'netns', nsA);
    ip('link', 'set', `vB${tag}`, 'netns', nsB);
    ip('-n', nsA, 'addr', 'add', `10.77.${octet}.1/24`, 'dev', `vA${tag}`);
    ip('-n', nsB, 'addr', 'add', `10.77.${octet}.2/24`, 'dev', `vB${tag}`);
    for (const [ns, dev] of [
      [nsA, `vA${tag}`],
      [nsB, `vB${tag}`],
    ] as const) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
  } catch (err) {
    cleanup();
    throw err;
  }
  const spawnIn = (ns: string, mode: string, args: Record<string, string | number | boolean>): Peer => {
    const p = new Peer(spawn('ip', ['netns', 'exec', ns, process.execPath, ...argv(mode, args)], { stdio: ['pipe', 'pipe', 'pipe'] }));
    peers.push(p);
    return p;
  };
  return {
    method: 'netns+nftables',
    hostA: `10.77.${octet}.1`,
    hostB: `10.77.${octet}.2`,
    async setLoss(pct: number) {
      const rules =
        `flush ruleset\n` +
        (pct > 0
          ? `table inet fwloss {\n` +
            ` chain in { type filter hook input priority 0; meta l4proto udp ${pct >= 100 ? '' : `numgen random mod 100 < ${pct} `}drop; }\n` +
            ` chain out { type filter hook output priority 0; meta l4proto udp ${pct >= 100 ? '' : `numgen random mod 100 < ${pct} `}drop; }\n}\n`
          : '');
      execFileSync('ip', ['netns', 'exec', nsB, 'nft', '-f', '-'], { input: rules, stdio: ['pipe', 'pipe', 'pipe'] });
    },
    spawnA: (mode, args) => spawnIn(nsA, mode, args),
    spawnB: (mode, args) => spawnIn(nsB, mode, args),
    node(side, args) {
      const p = new Peer(
        spawn('ip', ['netns', 'exec', side === 'A' ? nsA : nsB, process.execPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }),
      );
      peers.push(p);
      return p;
    },
    setRate(mbit) {
      const tc = (...a: string[]): void => void execFileSync('tc', ['-n', nsA, 'qdisc', ...a], { stdio: 'pipe' });
      try {
        tc('del', 'dev', `vA${tag}`, 'root');
      } catch {
        /* no qdisc yet */
      }
      if (mbit > 0) tc('add', 'dev', `vA${tag}`, 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', '32kbit', 'latency', '50ms');
    },
    close: cleanup,
  };
}

/** The fallback lab: loopback, with side B's sockets dropping `pct` % of datagrams each way in-process. */
export function createInProcessLab(): LossLab {
  const peers: Peer[] = [];
  let loss = 0;
  const spawnLocal = (mode: string, args: Record<string, string | number | boolean>, lossy: boolean): Peer => {
    const extra: Record<string, number> = lossy && loss > 0 ? { 'inproc-loss': loss } : {};
    const p = new Peer(spawn(process.execPath, argv(mode, { ...args, ...extra }), { stdio: ['pipe', 'pipe', 'pipe'] }));
    peers.push(p);
    return p;
  };
  return {
    method: 'in-process wrapper',
    hostA: '127.0.0.1',
    hostB: '127.0.0.1',
    async setLoss(pct: number) {
      loss = pct;
    },
    spawnA: (mode, args) => spawnLocal(mode, args, false),
    spawnB: (mode, args) => spawnLocal(mode, args, true),
    close: () => {
      for (const p of peers) p.kill();
    },
  };
}
