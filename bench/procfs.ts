/**
 * Another process's figures read from Linux's /proc: CPU ticks, RSS, open
 * file descriptors, and the process tree (to prove that nothing a bench
 * started outlives it). Every reader returns undefined once the process is
 * gone instead of throwing.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat times (USER_HZ; 100 on every mainstream Linux). */
export const TICKS_PER_S = 100;

/** The fields of /proc/PID/stat the bench uses. */
export interface ProcStat {
  pid: number;
  /** The executable's name (truncated to 15 characters by the kernel). */
  comm: string;
  /** R, S, D, Z (zombie: exited, not reaped), T, … */
  state: string;
  ppid: number;
  /** utime + stime, clock ticks. */
  cpuTicks: number;
  /** Start time after boot, clock ticks: with the pid, names one process even if the pid is reused. */
  startTicks: number;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** /proc/PID/stat, parsed (the comm field may hold spaces and parentheses: split after the last ")"). */
export function procStat(pid: number): ProcStat | undefined {
  const s = read(`/proc/${pid}/stat`);
  if (s === undefined) return undefined;
  const close = s.lastIndexOf(')');
  const f = s.slice(close + 2).split(' ');
  return {
    pid,
    comm: s.slice(s.indexOf('(') + 1, close),
    state: f[0] ?? '?',
    ppid: Number(f[1]),
    cpuTicks: Number(f[11]) + Number(f[12]),
    startTicks: Number(f[19]),
  };
}

/** Resident set size (VmRSS), bytes. */
export function rssBytes(pid: number): number | undefined {
  const m = /VmRSS:\s+(\d+)\s*kB/.exec(read(`/proc/${pid}/status`) ?? '');
  return m ? Number(m[1]) * 1024 : undefined;
}

/** Open file descriptors (entries of /proc/PID/fd). */
export function fdCount(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** What /proc/PID/fd points at, counted by kind ("socket", "pipe", "anon_inode:[eventfd]", "/dev/null", …). */
export function fdKinds(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let names: string[];
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const n of names) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${n}`);
    } catch {
      continue;
    }
    const kind = target.replace(/:\[\d+\]$/, '');
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

/** Every process now alive, by pid. */
export function allProcesses(): Map<number, ProcStat> {
  const out = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(Number(name));
    if (st) out.set(st.pid, st);
  }
  return out;
}

/** The processes whose parent chain leads to `root` (not `root` itself). */
export function descendants(root: number, procs: Map<number, ProcStat> = allProcesses()): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const p of procs.values()) {
    const list = children.get(p.ppid) ?? [];
    list.push(p);
    children.set(p.ppid, list);
  }
  const out: ProcStat[] = [];
  const walk = (pid: number): void => {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      walk(c.pid);
    }
  };
  walk(root);
  return out;
}

/** The process's command line, spaces between arguments, or "" once it is gone. */
export function cmdline(pid: number): string {
  return (read(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean).join(' ');
}
