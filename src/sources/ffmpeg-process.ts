import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { ErrorCodes, FramewireError } from '../errors.js';

/**
 * ffmpeg hygiene: finding the binary, turning its stderr into one readable
 * line, and making sure no child outlives this process.
 */

/** How to install ffmpeg, per OS. */
export function installHint(platform: string = process.platform): string {
  switch (platform) {
    case 'linux':
      return 'install it (Debian/Ubuntu: sudo apt install ffmpeg; Fedora: sudo dnf install ffmpeg; Arch: sudo pacman -S ffmpeg) or set FFMPEG_PATH';
    case 'darwin':
      return 'install it (brew install ffmpeg) or set FFMPEG_PATH';
    case 'win32':
      return 'install it (winget install ffmpeg, or choco install ffmpeg, or unzip a build from https://ffmpeg.org/download.html and add its bin folder to PATH) or set FFMPEG_PATH';
    default:
      return 'install it from your package manager or https://ffmpeg.org/download.html, or set FFMPEG_PATH';
  }
}

function isExecutable(file: string, platform: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    if (platform !== 'win32') accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds ffmpeg: `FFMPEG_PATH` first (must be an executable file), then each
 * directory on `PATH`. Throws FW_FFMPEG_NOT_FOUND with install instructions.
 */
export function findFfmpeg(env: Record<string, string | undefined> = process.env, platform: string = process.platform): string {
  return findTool('ffmpeg', env, platform);
}

/**
 * Finds one of ffmpeg's programs (`ffmpeg`, `ffplay`, `ffprobe`): its own
 * variable (`FFPLAY_PATH`…) first, then the directory of `FFMPEG_PATH`, then
 * `PATH`. Throws FW_FFMPEG_NOT_FOUND with install instructions.
 */
export function findTool(
  name: 'ffmpeg' | 'ffplay' | 'ffprobe',
  env: Record<string, string | undefined> = process.env,
  platform: string = process.platform,
): string {
  const variable = `${name.toUpperCase()}_PATH`;
  const explicit = env[variable];
  if (explicit) {
    if (isExecutable(explicit, platform)) return explicit;
    throw new FramewireError(
      ErrorCodes.FFMPEG_NOT_FOUND,
      `${variable} is set to "${explicit}", which is not an executable file; fix it or unset it to search PATH`,
    );
  }
  const sep = platform === 'win32' ? ';' : ':';
  const p = platform === 'win32' ? path.win32 : path.posix;
  const names = platform === 'win32' ? [`${name}.exe`, `${name}.cmd`, `${name}.bat`, name] : [name];
  const dirs = (env.PATH ?? env.Path ?? '').split(sep);
  if (name !== 'ffmpeg' && env.FFMPEG_PATH) dirs.unshift(p.dirname(env.FFMPEG_PATH));
  for (const dir of dirs) {
    if (!dir) continue;
    for (const n of names) {
      const file = p.join(dir, n);
      if (isExecutable(file, platform)) return file;
    }
  }
  const what = name === 'ffmpeg' ? 'this source needs it' : `it comes with ffmpeg`;
  throw new FramewireError(ErrorCodes.FFMPEG_NOT_FOUND, `${name} was not found on PATH; ${what}: ${installHint(platform)}`);
}

const NOISE = [
  /^Conversion failed!?$/i,
  /^Exiting normally/i,
  /^Error (writing trailer|closing file)/i,
  /^av_interleaved_write_frame\(\)/i,
];

/**
 * Turns ffmpeg's stderr (at `-loglevel error`) into one readable line: the
 * first and last meaningful lines, `[x11grab @ 0x55…]` shortened to
 * `[x11grab]`, with a hint for the usual device problems.
 */
export function ffmpegErrorLine(stderr: string, exit?: { code: number | null; signal: string | null }): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.replace(/ @ 0x[0-9a-f]+\]/gi, ']').trim())
    .filter((l) => l.length > 0 && !NOISE.some((re) => re.test(l)));
  const unique = [...new Set(lines)];
  const first = unique[0];
  const last = unique[unique.length - 1];
  let line =
    first === undefined
      ? ''
      : first === last || last === undefined || first.includes(last.replace(/^.*?: /, ''))
        ? first
        : `${first} (${last})`;
  if (line.length > 400) line = `${line.slice(0, 397)}...`;
  const how = exit ? (exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`) : '';
  let hint = '';
  if (/permission denied/i.test(line))
    hint =
      '; check the device permissions (Linux: is your user in the "video" group? macOS: allow camera/screen recording for your terminal)';
  else if (/device or resource busy/i.test(line)) hint = '; another program is using the device';
  else if (/cannot open display/i.test(line)) hint = '; is the X display running and DISPLAY right?';
  if (!line) return `ffmpeg failed (${how || 'no message'})`;
  return `ffmpeg: ${line}${hint}${how ? ` [${how}]` : ''}`;
}

/**
 * Children that must die with this process. While any is alive, handlers on
 * `exit`, SIGINT, SIGTERM and SIGHUP kill them; a signal handler re-raises
 * the signal when it is the only listener, so the default behaviour (exit)
 * is kept.
 */
const children = new Set<ChildProcess>();
/** Children stopped with SIGTERM instead (a recorder that must write its file's trailer). */
const graceful = new WeakSet<ChildProcess>();
const SIGNALS: NodeJS.Signals[] = process.platform === 'win32' ? ['SIGINT', 'SIGTERM'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
let hooked = false;

function killAll(): void {
  for (const c of children) {
    try {
      c.kill(graceful.has(c) ? 'SIGTERM' : 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  killAll();
  if (process.listenerCount(signal) === 1) {
    unhook();
    process.kill(process.pid, signal);
  }
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function unhook(): void {
  if (!hooked) return;
  hooked = false;
  process.off('exit', killAll);
  for (const s of SIGNALS) process.off(s, onSignal);
}

/**
 * Registers a child to be killed if this process exits or is signalled;
 * forgotten when it exits. `signal` SIGTERM lets an ffmpeg that writes a
 * file finish it (ffmpeg ends its output cleanly on SIGTERM).
 */
export function trackChild(child: ChildProcess, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (signal === 'SIGTERM') graceful.add(child);
  children.add(child);
  hook();
  const forget = (): void => {
    children.delete(child);
    if (children.size === 0) unhook();
  };
  child.once('exit', forget);
  child.once('error', forget);
}

/** Number of tracked live children (for tests). */
export function trackedChildren(): number {
  return children.size;
}
