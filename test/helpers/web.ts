import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { WebSocket } from 'ws';
import { MultipartParser, boundaryFromContentType } from '../../src/codec/multipart.js';
import { decodeMessage, encodeControl, type ControlMessage, type HelloBody, type Message } from '../../src/protocol/index.js';
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
  return publish(
    `tcp://127.0.0.1:${r.tcpPort}/${stream}`,
    testPattern({ width: 320, height: 240, fps: 30, ...pattern }),
    token ? { token } : {},
  );
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
export function run(
  cmd: string,
  args: string[],
  timeoutMs = 60_000,
): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
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

/** A native-protocol WebSocket client for tests: every decoded message is kept (bounded). */
export interface WsTestClient {
  ws: WebSocket;
  messages: Message[];
  frames: number;
  closed: Promise<{ code: number; reason: string }>;
  send(msg: ControlMessage): void;
  waitFor(pred: (c: WsTestClient) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Opens `ws://…/ws`, optionally says hello, and records what arrives. */
export async function wsClient(base: string, hello?: HelloBody, path = '/ws'): Promise<WsTestClient> {
  const ws = new WebSocket(base.replace(/^http/, 'ws') + path);
  const c: WsTestClient = {
    ws,
    messages: [],
    frames: 0,
    closed: new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))),
    send: (msg) => ws.send(encodeControl(msg)),
    waitFor: (pred, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const started = Date.now();
        const check = (): void => {
          if (pred(c)) return resolve();
          if (Date.now() - started > timeoutMs)
            return reject(
              new Error(
                `condition not met within ${timeoutMs} ms; got ${c.messages
                  .map((m) => m.type)
                  .slice(-10)
                  .join(',')}`,
              ),
            );
          setTimeout(check, 20);
        };
        check();
      }),
    close: () => ws.terminate(),
  };
  ws.on('error', () => undefined);
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) return;
    const m = decodeMessage(Buffer.from(data));
    if (m.type === 'frame') c.frames++;
    else if (m.type === 'ping')
      c.send({ type: 'pong', body: { id: m.body.id, t0: m.body.t0, t1: Date.now() * 1000, t2: Date.now() * 1000 } });
    if (m.type !== 'frame' || c.messages.length < 64) c.messages.push(m);
    if (c.messages.length > 256) c.messages.splice(0, 128);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  if (hello) c.send({ type: 'hello', body: hello });
  return c;
}

/** Reads an MJPEG response with raw http and counts JPEG parts (bounded); resolves when `parts` arrived or the response ended. */
export function readMjpeg(
  url: string,
  parts: number,
  timeoutMs = 15_000,
): Promise<{ status: number; contentType: string; jpegs: Buffer[]; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      const boundary = boundaryFromContentType(res.headers['content-type']);
      const jpegs: Buffer[] = [];
      let text = '';
      const parser = boundary ? new MultipartParser(boundary) : undefined;
      const finish = (): void => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), jpegs, body: text });
      };
      res.on('data', (chunk: Buffer) => {
        if (!parser) {
          text += chunk.toString();
          return;
        }
        for (const p of parser.push(chunk)) if (jpegs.length < parts) jpegs.push(Buffer.from(p.body));
        if (jpegs.length >= parts) finish();
      });
      res.on('end', finish);
      res.on('error', finish);
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`fewer than ${parts} MJPEG parts within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** GET (or another method) with a small body; resolves with status, headers and body. */
export function request(
  url: string,
  options: http.RequestOptions = {},
  body?: Buffer | string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
