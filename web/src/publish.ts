import { nowUs, type HelloBody } from '../../src/protocol/index.js';
import { RelaySession, pageToken, relayWsUrl, withToken } from './session.js';

/**
 * The browser as a publisher: camera (getUserMedia) or a drawn test pattern
 * → canvas → JPEG blob → frame message over WebSocket. Latest-frame-wins on
 * the way out: while the socket has more than one frame buffered, new frames
 * are not sent (and counted), so latency never builds up.
 */

const params = new URLSearchParams(location.search);
const stream = params.get('stream') ?? 'browser';
const $ = <E extends HTMLElement>(id: string): E => document.getElementById(id) as E;
const canvas = $<HTMLCanvasElement>('preview');
const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
const video = document.createElement('video');
video.muted = true;
video.playsInline = true;

let session: RelaySession | undefined;
let timer: number | undefined;
let seq = 0;
let sent = 0;
let notSent = 0;
let bytes = 0;
let busy = false;
let mediaStream: MediaStream | undefined;
const sentAt: number[] = [];

$('stream-name').textContent = stream;
($('watch-link') as HTMLAnchorElement).href = withToken(`/view?stream=${encodeURIComponent(stream)}`);
document.title = `publish ${stream} · framewire`;

function setStatus(text: string, cls: string): void {
  const el = $('pub-status');
  el.textContent = text;
  el.className = `status ${cls}`;
}

function drawPattern(w: number, h: number, n: number): void {
  const t = performance.now() / 1000;
  const g = ctx.createLinearGradient(0, 0, w, h);
  g.addColorStop(0, `hsl(${(t * 40) % 360} 70% 35%)`);
  g.addColorStop(1, `hsl(${(t * 40 + 120) % 360} 70% 25%)`);
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, w, h);
  ctx.fillStyle = '#fff';
  ctx.beginPath();
  ctx.arc(w / 2 + Math.cos(t * 2) * w * 0.35, h / 2 + Math.sin(t * 3) * h * 0.3, h / 10, 0, Math.PI * 2);
  ctx.fill();
  ctx.font = `bold ${Math.round(h / 8)}px system-ui, sans-serif`;
  ctx.fillText(`#${n}`, w * 0.05, h * 0.2);
  ctx.font = `${Math.round(h / 16)}px ui-monospace, monospace`;
  ctx.fillText(new Date().toISOString().slice(11, 23), w * 0.05, h * 0.9);
}

async function tick(quality: number): Promise<void> {
  if (!session?.open || busy) return;
  // One frame in flight at most: a slow uplink skips frames, never queues them.
  if (session.bufferedAmount > 0) {
    notSent++;
    return;
  }
  busy = true;
  const captureUs = nowUs();
  if (mediaStream) ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
  else drawPattern(canvas.width, canvas.height, seq);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
  busy = false;
  if (!blob || !session.open) return;
  const data = new Uint8Array(await blob.arrayBuffer());
  session.sendFrame({ seq: seq++, captureUs, width: canvas.width, height: canvas.height, codec: 'jpeg', key: true, data });
  sent++;
  bytes += data.length;
  sentAt.push(performance.now());
  while (sentAt.length && (sentAt[0] as number) < performance.now() - 1000) sentAt.shift();
}

async function start(): Promise<void> {
  stop();
  const [w, h] = $<HTMLSelectElement>('size').value.split('x').map(Number) as [number, number];
  const fps = Number($<HTMLSelectElement>('fps').value);
  const quality = Number($<HTMLInputElement>('quality').value) / 100;
  const source = $<HTMLSelectElement>('source').value;
  canvas.width = w;
  canvas.height = h;
  if (source === 'camera') {
    try {
      mediaStream = await navigator.mediaDevices.getUserMedia({ video: { width: w, height: h, frameRate: fps }, audio: false });
      video.srcObject = mediaStream;
      await video.play();
    } catch (err) {
      setStatus(`camera unavailable (${String(err)}); choose "test pattern"`, 'bad');
      return;
    }
  }
  const hello: HelloBody = { role: 'publish', stream, params: { width: w, height: h, fps }, client: 'framewire-web-publisher' };
  const token = pageToken();
  if (token) hello.token = token;
  session = new RelaySession(
    { url: relayWsUrl(), hello },
    {
      onState: (s, detail) =>
        setStatus(s === 'open' ? `publishing "${stream}"` : detail, s === 'open' ? 'ok' : s === 'failed' ? 'bad' : 'wait'),
    },
  );
  session.start();
  timer = window.setInterval(() => void tick(quality), 1000 / fps);
  $<HTMLButtonElement>('start').disabled = true;
  $<HTMLButtonElement>('stop').disabled = false;
}

function stop(): void {
  clearInterval(timer);
  session?.close('publisher stopped');
  session = undefined;
  for (const t of mediaStream?.getTracks() ?? []) t.stop();
  mediaStream = undefined;
  $<HTMLButtonElement>('start').disabled = false;
  $<HTMLButtonElement>('stop').disabled = true;
  setStatus('stopped', 'wait');
}

setInterval(() => {
  $('stat-fps').textContent = String(sentAt.filter((t) => t > performance.now() - 1000).length);
  $('stat-sent').textContent = String(sent);
  $('stat-notsent').textContent = String(notSent);
  $('stat-mb').textContent = (bytes / 1e6).toFixed(1);
  $('stat-rtt').textContent = session?.open ? (session.rttUs / 1000).toFixed(1) : '–';
}, 500);

$('start').addEventListener('click', () => void start());
$('stop').addEventListener('click', stop);
window.addEventListener('pagehide', stop);
(window as unknown as { framewire: unknown }).framewire = { stats: () => ({ sent, notSent, bytes, open: session?.open ?? false }) };
const wantSource = params.get('source');
if (wantSource === 'pattern' || wantSource === 'camera') $<HTMLSelectElement>('source').value = wantSource;
if (params.get('autostart') === '1') void start();
