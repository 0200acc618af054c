import { spawn, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

/** Path of the framewire executable in this checkout. */
export const BIN = fileURLToPath(new URL('../../../bin/framewire.js', import.meta.url));

/** A spawned CLI process with its output collected. */
export interface CliProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** Runs `framewire ...args`. */
export function cli(args: string[]): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Waits until `get()` matches `re` (or times out), returns the match. */
export async function waitForOutput(get: () => string, re: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = get().match(re);
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} in:\n${get()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A `cli()` for one test file: every process it starts is SIGKILLed after
 * the file's tests (call at the top level of the file).
 */
export function cliRunner(): (args: string[]) => CliProcess {
  const procs: CliProcess[] = [];
  after(() => {
    for (const p of procs) p.child.kill('SIGKILL');
  });
  return (args) => {
    const p = cli(args);
    procs.push(p);
    return p;
  };
}
