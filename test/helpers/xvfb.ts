import { spawn, spawnSync } from 'node:child_process';
import { which } from './procs.js';

/** Why screen tests must skip, or false. */
export const noXvfb: string | false =
  which('Xvfb') && which('xsetroot') ? false : 'Xvfb or xsetroot is not installed (apt install xvfb x11-xserver-utils)';

/** A private X display; `display` is like ":42". */
export interface Xvfb {
  display: string;
  /** Paints the root window a solid colour, e.g. "#ff0000". */
  fill(colour: string): void;
  stop(): Promise<void>;
}

/** Starts Xvfb on a free display number (it picks one and tells us through -displayfd). */
export function startXvfb(width = 320, height = 240): Promise<Xvfb> {
  const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp', '-noreset'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    let out = '';
    const fd3 = child.stdio[3] as NodeJS.ReadableStream;
    fd3.on('data', (c: Buffer) => {
      out += c.toString();
      if (!out.includes('\n')) return;
      const display = `:${out.trim()}`;
      resolve({
        display,
        fill(colour) {
          const r = spawnSync('xsetroot', ['-display', display, '-solid', colour]);
          if (r.status !== 0) throw new Error(`xsetroot failed: ${r.stderr.toString()}`);
        },
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.once('close', (code) => reject(new Error(`Xvfb exited (${code}): ${err}`)));
  });
}
