import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Absolute path of a program on PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const f = path.join(dir, name);
    if (dir && existsSync(f)) return f;
  }
  return undefined;
}

/** Why ffmpeg-based tests must skip, or false. Printed by node:test as the skip reason. */
export const noFfmpeg: string | false = process.env.FFMPEG_PATH || which('ffmpeg') ? false : 'ffmpeg is not installed (apt install ffmpeg)';

/** State letter from /proc/PID/stat ('R', 'S', 'Z', …), or undefined when the process is gone. */
export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    if (existsSync('/proc/self')) return undefined;
    try {
      process.kill(pid, 0);
      return 'R';
    } catch {
      return undefined;
    }
  }
}

/** True while `pid` runs (a zombie waiting for an absent reaper counts as dead). */
export function alive(pid: number): boolean {
  const s = procState(pid);
  return s !== undefined && s !== 'Z' && s !== 'X';
}

/** Waits until `pid` is dead; false on timeout. */
export async function waitDead(pid: number, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return !alive(pid);
}

/** Pids of live ffmpeg processes whose parent is `ppid` (Linux /proc; [] elsewhere). */
export function ffmpegChildren(ppid: number = process.pid): number[] {
  return childrenNamed('ffmpeg', ppid);
}

/** Pids of live processes called `name` whose parent is `ppid` (Linux /proc; [] elsewhere). */
export function childrenNamed(name: string, ppid: number): number[] {
  if (!existsSync('/proc/self')) return [];
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (comm === name && Number(parent) === ppid && state !== 'Z') out.push(Number(d));
    } catch {
      // raced with its exit
    }
  }
  return out;
}

/** A port that was free a moment ago (for servers that cannot listen on port 0 and tell us). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** A helper process the test owns; `stop()` kills it and waits for its exit. */
export interface Owned {
  child: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Spawns a program the test owns (ffmpeg servers, Xvfb, the CLI). */
export function own(cmd: string, args: string[], extra: { stdio?: ('pipe' | 'ignore')[] } = {}): Owned {
  const child = spawn(cmd, args, { stdio: extra.stdio ?? ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-8000)));
  child.stdout?.resume();
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  return {
    child,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs ffmpeg to completion (fixtures); rejects with its stderr on failure. */
export function runFfmpeg(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = own(process.env.FFMPEG_PATH || 'ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
    p.child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg ${code}: ${p.stderr()}`))));
  });
}

/** Asserts no ffmpeg started by this process is left; returns the leftover pids. */
export async function leftoverFfmpeg(): Promise<number[]> {
  const end = Date.now() + 3000;
  let left = ffmpegChildren();
  while (left.length > 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 25));
    left = ffmpegChildren();
  }
  return left;
}
