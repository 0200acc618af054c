import {
  FramewireError,
  MessageType,
  StatsMeter,
  StreamParser,
  decodeMessage,
  encodeControl,
  encodeFrameHeader,
  nowUs,
  writeFixedHeader,
  type EncodedFrame,
  type HelloBody,
} from '../../src/protocol/index.js';

/** The page's own protocol pieces (the bundled core, not a copy), for tests that feed it bytes in the page. */
const core = { FramewireError, MessageType, StreamParser, decodeMessage, encodeControl, encodeFrameHeader, writeFixedHeader };
import { RelaySession, pageToken, relayWsUrl } from './session.js';

/**
 * The viewer page: native protocol over WebSocket, JPEG decoded off the main
 * thread (createImageBitmap) and drawn on a canvas. Latest-frame-wins on the
 * page too: while one frame decodes, only the newest waits; older ones are
 * dropped and counted, so a slow tab skips frames and never queues them.
 */

/** A displayed frame's time and end-to-end latency, kept for the benchmark (`latencySamples()`). */
interface Sample {
  at: number;
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
let skippedBase = 0;
let skippedConn = 0;
/** Frames the relay could not decode or the publisher never sent (per connection, and before it): missing, not lost (§8). */
let unsentBase = 0;
let unsentConn = 0;
const notLost = (): number => relaySkipped + unsentBase + unsentConn + dropped;
let displayed = 0;
let live = false;
let connected = false;
let lastShownAt = 0;
let state = 'connecting to the relay…';
let errors = 0;
const samples: Sample[] = [];
const MAX_SAMPLES = 1024;
/** The core's meter, fed at display time: fps, kbps and latency are what the page shows. */
const meter = new StatsMeter();

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
      // The relay counts skips per connection: keep what the last one skipped, and start the sequence afresh.
      skippedBase += skippedConn;
      skippedConn = 0;
      unsentBase += unsentConn;
      unsentConn = 0;
      meter.resetSequence();
    },
    onStats(body) {
      if (typeof body.live === 'boolean') {
        // A publisher that comes back starts its own sequence: not a loss.
        if (body.live !== live) meter.resetSequence();
        live = body.live;
      }
      const skipped = body.framesSkipped;
      const decimated = body.framesDecimated;
      if (typeof skipped === 'number') {
        skippedConn = skipped + (typeof decimated === 'number' ? decimated : 0);
        relaySkipped = skippedBase + skippedConn;
        const count = (v: unknown): number => (typeof v === 'number' ? v : 0);
        unsentConn = count(body.framesNotDecodable) + count(body.framesDroppedByPublisher);
      }
      meter.setSkipped(notLost());
      render();
    },
    onFrame(frame, arrival) {
      live = true;
      if (decoding) {
        if (pending) {
          dropped++;
          meter.setSkipped(notLost());
        }
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
    const latencyUs = now + session.offsetUs - frame.captureUs;
    meter.record(frame, now, latencyUs);
    samples.push({ at: now, latencyUs });
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
  const m = meter.snapshot(now);
  return {
    stream,
    connected,
    live: live && now - lastShownAt < 2_000_000,
    fps: m.fps,
    kbps: m.kbps,
    latencyP50Ms: m.latencyP50Ms,
    latencyP95Ms: m.latencyP95Ms,
    rttMs: session.rttUs / 1000,
    offsetMs: session.offsetUs / 1000,
    displayed,
    dropped,
    relaySkipped,
    // Sequence gaps that nobody chose: neither the relay (latest-frame-wins, fps cap) nor this page (busy decoding).
    lost: m.framesLost,
    decodeErrors: errors,
    width: canvas.width,
    height: canvas.height,
  };
}
(window as unknown as { framewire: unknown }).framewire = {
  stats: viewerStats,
  latencySamples: () => samples.map((s) => [s.at, s.latencyUs / 1000]),
  core,
};

function render(): void {
  const s = viewerStats();
  const ms = (v: unknown): string => (typeof v === 'number' ? v.toFixed(1) : '–');
  stat('fps').textContent = String(s.fps);
  stat('kbps').textContent = String(s.kbps);
  stat('latency').textContent = ms(s.latencyP50Ms);
  stat('latency95').textContent = ms(s.latencyP95Ms);
  stat('drops').textContent = `${dropped} / ${relaySkipped}`;
  stat('lost').textContent = String(s.lost);
  stat('size').textContent = s.width && displayed ? `${s.width}×${s.height}` : '–';
  stat('rtt').textContent = ms(s.rttMs);
  const showing = s.live === true && connected;
  stage.classList.toggle('live', showing);
  banner.hidden = showing;
  bannerText.textContent = !connected
    ? state
    : displayed === 0
      ? 'waiting for the first frame…'
      : 'the publisher is away; the picture returns when it comes back';
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
