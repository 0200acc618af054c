import * as core from '../../src/protocol/index.js';
import { nowUs, type EncodedFrame, type HelloBody } from '../../src/protocol/index.js';
import { RelaySession, pageToken, relayWsUrl } from './session.js';

/**
 * The viewer page: native protocol over WebSocket, JPEG decoded off the main
 * thread (createImageBitmap) and drawn on a canvas. Latest-frame-wins on the
 * page too: while one frame decodes, only the newest waits; older ones are
 * dropped and counted, so a slow tab skips frames and never queues them.
 */

interface Sample {
  at: number;
  bytes: number;
  latencyUs: number;
}

const params = new URLSearchParams(location.search);
const stream = params.get('stream') ?? 'demo';
const fpsCap = Number(params.get('fps') ?? '');
const $ = <E extends HTMLElement>(id: string): E => document.getElementById(id) as E;
const canvas = $<HTMLCanvasElement>('video');
const ctx = canvas.getContext('2d', { alpha: false, desynchronized: true }) as CanvasRenderingContext2D;
const stage = $<HTMLDivElement>('stage');
const banner = $<HTMLDivElement>('banner');
const bannerText = $<HTMLDivElement>('banner-text');
const stat = (k: string): HTMLElement => $(`stat-${k}`);

document.title = `${stream} · framewire`;
$('stream-name').textContent = stream;

let pending: { frame: EncodedFrame; arrival: number } | undefined;
let decoding = false;
let dropped = 0;
let relaySkipped = 0;
let displayed = 0;
let live = false;
let connected = false;
let lastShownAt = 0;
let state = 'connecting to the relay…';
let errors = 0;
const samples: Sample[] = [];
const MAX_SAMPLES = 1024;

const hello: HelloBody = { role: 'view', stream, acks: true, client: `framewire-web ${navigator.userAgent.slice(0, 80)}` };
const token = pageToken();
if (token) hello.token = token;
if (fpsCap > 0) hello.params = { fps: fpsCap };

const session = new RelaySession(
  { url: relayWsUrl(), hello },
  {
    onState(s, detail) {
      connected = s === 'open';
      state = s === 'failed' ? `stopped: ${detail}` : detail;
      if (!connected) live = false;
      render();
    },
    onWelcome(body) {
      live = body.live === true;
    },
    onStats(body) {
      if (typeof body.live === 'boolean') live = body.live;
      const skipped = body.framesSkipped;
      const decimated = body.framesDecimated;
      if (typeof skipped === 'number') relaySkipped = skipped + (typeof decimated === 'number' ? decimated : 0);
      render();
    },
    onFrame(frame, arrival) {
      live = true;
      if (decoding) {
        if (pending) dropped++;
        pending = { frame, arrival };
        return;
      }
      void show(frame, arrival);
    },
  },
);

async function show(frame: EncodedFrame, arrival: number): Promise<void> {
  decoding = true;
  try {
    const bitmap = await createImageBitmap(new Blob([frame.data as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' }));
    if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
    }
    ctx.drawImage(bitmap, 0, 0);
    bitmap.close();
    const now = nowUs();
    displayed++;
    lastShownAt = now;
    // Capture time is on the relay's clock; the offset maps "now" onto it.
    samples.push({ at: now, bytes: frame.data.length + 32, latencyUs: now + session.offsetUs - frame.captureUs });
    if (samples.length > MAX_SAMPLES) samples.shift();
    void arrival;
  } catch {
    errors++;
  } finally {
    decoding = false;
  }
  const next = pending;
  pending = undefined;
  if (next) void show(next.frame, next.arrival);
}

/** Figures over the last second, as the overlay shows them (also read by tests and the benchmark). */
export function viewerStats(): Record<string, number | boolean | string | null> {
  const now = nowUs();
  const win = samples.filter((s) => s.at > now - 1_000_000);
  const lat = win.map((s) => s.latencyUs / 1000).sort((a, b) => a - b);
  const pct = (p: number): number | null => (lat.length ? (lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)] as number) : null);
  return {
    stream,
    connected,
    live: live && now - lastShownAt < 2_000_000,
    fps: win.length,
    kbps: Math.round(win.reduce((a, s) => a + s.bytes, 0) * 8 / 1000),
    latencyP50Ms: pct(0.5),
    latencyP95Ms: pct(0.95),
    rttMs: session.rttUs / 1000,
    offsetMs: session.offsetUs / 1000,
    displayed,
    dropped,
    relaySkipped,
    decodeErrors: errors,
    width: canvas.width,
    height: canvas.height,
  };
}
// `core` is the bundled protocol core itself (src/protocol), for tests that feed it bytes in the page.
(window as unknown as { framewire: unknown }).framewire = { stats: viewerStats, latencySamples: () => samples.map((s) => [s.at, s.latencyUs / 1000]), core };

function render(): void {
  const s = viewerStats();
  const ms = (v: unknown): string => (typeof v === 'number' ? v.toFixed(1) : '–');
  stat('fps').textContent = String(s.fps);
  stat('kbps').textContent = String(s.kbps);
  stat('latency').textContent = ms(s.latencyP50Ms);
  stat('latency95').textContent = ms(s.latencyP95Ms);
  stat('drops').textContent = `${dropped} / ${relaySkipped}`;
  stat('size').textContent = s.width && displayed ? `${s.width}×${s.height}` : '–';
  stat('rtt').textContent = ms(s.rttMs);
  const showing = s.live === true && connected;
  stage.classList.toggle('live', showing);
  banner.hidden = showing;
  bannerText.textContent = !connected ? state : displayed === 0 ? 'waiting for the first frame…' : 'the publisher is away; the picture returns when it comes back';
  $('status-dot').className = `dot ${showing ? 'on' : connected ? 'wait' : 'off'}`;
}

function toggleFullscreen(): void {
  if (document.fullscreenElement) void document.exitFullscreen();
  else void stage.requestFullscreen().catch(() => undefined);
}

$('fullscreen').addEventListener('click', toggleFullscreen);
stage.addEventListener('dblclick', toggleFullscreen);
document.addEventListener('keydown', (e) => {
  if (e.key === 'f') toggleFullscreen();
  if (e.key === 's') $('overlay').hidden = !$('overlay').hidden;
});
window.addEventListener('pagehide', () => session.close());
setInterval(render, 250);
session.start();
render();
