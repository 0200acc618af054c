/**
 * A tiny request/response protocol over Node's IPC channel, so the bench can
 * drive its child processes (relay, publisher, viewers) and ask them for
 * figures. Parent side: {@link spawnChild}. Child side: {@link serveParent}.
 *
 *   parent ──{ id, cmd, args }──► child
 *   parent ◄──{ id, ok, result | error }── child
 *   parent ◄──{ event, data }── child          (unsolicited, e.g. "ready")
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Request {
  id: number;
  cmd: string;
  args: unknown;
}

interface Response {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

interface EventMsg {
  event: string;
  data: unknown;
}

/** A child process the bench owns. `close()` is idempotent and always reaps the child. */
export interface Child {
  readonly pid: number;
  readonly name: string;
  /** Calls a handler in the child; rejects on error, exit, or timeout. */
  call<T>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** Resolves with the data of the first `event` the child sends. */
  once<T>(event: string, timeoutMs?: number): Promise<T>;
  /** Asks the child to exit, then kills it if it has not within 3 s. */
  close(): Promise<void>;
}

const live = new Set<ChildProcess>();

/** Kills every child still running (for a bench that is being torn down by a signal or an error). */
export function killAllChildren(): void {
  for (const cp of live) cp.kill('SIGKILL');
  live.clear();
}

/** Forks `bench/<file>.js` (a sibling of this module in dist/bench) with `argv`. */
export function spawnChild(file: string, name: string, argv: string[] = [], execArgv: string[] = []): Child {
  const path = fileURLToPath(new URL(`./${file}.js`, import.meta.url));
  const cp = fork(path, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  live.add(cp);
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  const waiters = new Map<string, ((d: unknown) => void)[]>();
  const events = new Map<string, unknown>();
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    cp.once('exit', (code, signal) => {
      exited = true;
      live.delete(cp);
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`${name} exited (code ${code}, signal ${signal})`));
      }
      pending.clear();
      resolve();
    });
  });
  cp.on('message', (raw) => {
    const m = raw as Response | EventMsg;
    if ('event' in m) {
      events.set(m.event, m.data);
      for (const w of waiters.get(m.event) ?? []) w(m.data);
      waiters.delete(m.event);
      return;
    }
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(`${name}: ${m.error ?? 'error'}`));
  });
  cp.on('error', () => undefined);

  return {
    pid: cp.pid ?? -1,
    name,
    call<T>(cmd: string, args: unknown = {}, timeoutMs = 30_000): Promise<T> {
      if (exited) return Promise.reject(new Error(`${name} has exited`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}: ${cmd} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
        const req: Request = { id, cmd, args };
        cp.send(req);
      });
    },
    once<T>(event: string, timeoutMs = 30_000): Promise<T> {
      if (events.has(event)) return Promise.resolve(events.get(event) as T);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no "${event}" within ${timeoutMs} ms`)), timeoutMs);
        const list = waiters.get(event) ?? [];
        list.push((d) => {
          clearTimeout(timer);
          resolve(d as T);
        });
        waiters.set(event, list);
        void exitPromise.then(() => {
          clearTimeout(timer);
          reject(new Error(`${name} exited before "${event}"`));
        });
      });
    },
    async close(): Promise<void> {
      if (exited) return;
      if (cp.connected) cp.disconnect();
      const killer = setTimeout(() => cp.kill('SIGKILL'), 3000);
      await exitPromise;
      clearTimeout(killer);
    },
  };
}

type Handler = (args: never) => unknown;

/**
 * Child side: answers the parent's calls with `handlers`. The child exits
 * when the parent disconnects (or dies), so nothing outlives the bench.
 */
export function serveParent(handlers: Record<string, Handler>, onExit?: () => Promise<void> | void): void {
  if (!process.send) throw new Error('this module must be started by the bench (no IPC channel)');
  process.on('message', (raw) => {
    const req = raw as Request;
    const h = handlers[req.cmd];
    const reply = (r: Response): void => {
      if (process.connected) process.send?.(r);
    };
    if (!h) return reply({ id: req.id, ok: false, error: `unknown command ${req.cmd}` });
    Promise.resolve()
      .then(() => h(req.args as never))
      .then(
        (result) => reply({ id: req.id, ok: true, result }),
        (err: unknown) => reply({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
  });
  process.on('disconnect', () => {
    void Promise.resolve(onExit?.()).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}

/** Sends an unsolicited event to the parent. */
export function emitToParent(event: string, data: unknown): void {
  const m: EventMsg = { event, data };
  process.send?.(m);
}

/** CPU and memory of this process, for the parent to diff. */
export interface ProcUsage {
  /** user + system CPU, µs. */
  cpuUs: number;
  /** Wall clock, µs (monotonic). */
  wallUs: number;
  rss: number;
}

/** This process's usage right now. */
export function procUsage(): ProcUsage {
  const c = process.cpuUsage();
  return { cpuUs: c.user + c.system, wallUs: performance.now() * 1000, rss: process.memoryUsage.rss() };
}

/** CPU % of one core between two samples. */
export function cpuPercent(a: ProcUsage, b: ProcUsage): number {
  const wall = b.wallUs - a.wallUs;
  return wall > 0 ? ((b.cpuUs - a.cpuUs) / wall) * 100 : NaN;
}
