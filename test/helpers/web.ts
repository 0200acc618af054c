import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRelay, publish, testPattern, type Publication, type Relay, type RelayOptions } from '../../src/index.js';

/** A relay listening on TCP and HTTP (port 0), for tests. */
export interface TestRelay {
  relay: Relay;
  tcpPort: number;
  httpPort: number;
  base: string;
  close(): Promise<void>;
}

/** Starts a relay with both listeners on 127.0.0.1, port 0. */
export async function startTestRelay(options: RelayOptions = {}): Promise<TestRelay> {
  const relay = createRelay(options);
  const tcp = await relay.listenTcp(0, '127.0.0.1');
  const http = await relay.listenHttp(0, '127.0.0.1');
  return {
    relay,
    tcpPort: tcp.port,
    httpPort: http.port,
    base: `http://127.0.0.1:${http.port}`,
    close: () => relay.close('test over'),
  };
}

/** Publishes a test pattern to `stream` on the relay over TCP. */
export function publishPattern(
  r: TestRelay,
  stream: string,
  o: { width?: number; height?: number; fps?: number; quality?: number; token?: string } = {},
): Promise<Publication> {
  const { token, ...pattern } = o;
  return publish(`tcp://127.0.0.1:${r.tcpPort}/${stream}`, testPattern({ width: 320, height: 240, fps: 30, ...pattern }), token ? { token } : {});
}

/** True if `cmd` runs (e.g. `ffmpeg -version`). */
export function hasCommand(cmd: string, args: string[] = ['-version']): boolean {
  try {
    return spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 }).status === 0;
  } catch {
    return false;
  }
}

/** Path of Debian's Chromium if installed. */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = (): boolean => existsSync(CHROMIUM);
export const hasFfmpeg = (): boolean => hasCommand('ffmpeg');
export const PYTHON = '/usr/bin/python3';
export const hasCv2 = (): boolean => hasCommand(PYTHON, ['-c', 'import cv2']);

/** Chromium flags for tests and benchmarks: headless, no network chatter. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Runs a child process to its end; resolves with its exit code, stdout and stderr. Killed after `timeoutMs`. */
export function run(cmd: string, args: string[], timeoutMs = 60_000): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: String(err) });
    });
  });
  return { child, done };
}

/** Skip reason, printed, when a tool is missing. */
export function skipUnless(available: boolean, tool: string): string | false {
  if (available) return false;
  const why = `${tool} is not installed; skipping`;
  process.stdout.write(`# ${why}\n`);
  return why;
}
