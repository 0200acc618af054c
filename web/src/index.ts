import type { StreamInfo } from '../../src/protocol/index.js';
import { pageToken, withToken } from './session.js';

/** The stream list: /api/streams every second, one card per stream; a click opens the viewer. */

const list = document.getElementById('streams') as HTMLDivElement;
const empty = document.getElementById('empty') as HTMLDivElement;
const status = document.getElementById('status') as HTMLSpanElement;
const cards = new Map<string, HTMLAnchorElement>();
let thumbTick = 0;

function uptime(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function card(name: string): HTMLAnchorElement {
  let a = cards.get(name);
  if (a) return a;
  a = document.createElement('a');
  a.className = 'card';
  a.dataset.stream = name;
  a.href = withToken(`/view?stream=${encodeURIComponent(name)}`);
  a.innerHTML = `
    <div class="thumb"><img alt=""><span class="badge"></span></div>
    <div class="card-body">
      <div class="card-title"></div>
      <dl class="figures">
        <div><dt>resolution</dt><dd data-k="res"></dd></div>
        <div><dt>fps</dt><dd data-k="fps"></dd></div>
        <div><dt>kbps</dt><dd data-k="kbps"></dd></div>
        <div><dt>viewers</dt><dd data-k="viewers"></dd></div>
        <div><dt>uptime</dt><dd data-k="uptime"></dd></div>
      </dl>
      <div class="links"><span class="open">Watch ▸</span>
        <a class="sub" href="${withToken(`/streams/${encodeURIComponent(name)}.mjpg`)}">MJPEG</a>
        <a class="sub" href="${withToken(`/streams/${encodeURIComponent(name)}.jpg`)}">JPEG</a></div>
    </div>`;
  (a.querySelector('.card-title') as HTMLElement).textContent = name;
  for (const sub of a.querySelectorAll<HTMLAnchorElement>('a.sub')) sub.addEventListener('click', (e) => e.stopPropagation());
  cards.set(name, a);
  list.append(a);
  return a;
}

function update(streams: StreamInfo[]): void {
  const seen = new Set<string>();
  thumbTick++;
  for (const s of streams) {
    seen.add(s.name);
    const a = card(s.name);
    const set = (k: string, v: string): void => {
      const el = a.querySelector(`[data-k="${k}"]`);
      if (el) el.textContent = v;
    };
    set('res', s.width ? `${s.width}×${s.height}` : '–');
    set('fps', s.live ? s.fps.toFixed(1) : '–');
    set('kbps', s.live ? String(s.kbps) : '–');
    set('viewers', String(s.viewers));
    set('uptime', s.live ? uptime(s.uptimeS) : '–');
    a.classList.toggle('offline', !s.live);
    (a.querySelector('.badge') as HTMLElement).textContent = s.live ? 'LIVE' : 'NO PUBLISHER';
    const img = a.querySelector('img') as HTMLImageElement;
    if (s.width && (thumbTick % 3 === 1 || !img.src)) img.src = withToken(`/streams/${encodeURIComponent(s.name)}.jpg?t=${Date.now()}`);
  }
  for (const [name, a] of cards) {
    if (!seen.has(name)) {
      a.remove();
      cards.delete(name);
    }
  }
  empty.hidden = streams.length > 0;
}

async function poll(): Promise<void> {
  try {
    const res = await fetch(withToken('/api/streams'), { cache: 'no-store' });
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
      status.textContent = `relay answered ${res.status}${body.error ? `: ${body.error.code} ${body.error.message ?? ''}` : ''}`;
      status.className = 'status bad';
      return;
    }
    const body = (await res.json()) as { streams: StreamInfo[] };
    update(body.streams);
    status.textContent = `${body.streams.filter((s) => s.live).length} live · updated ${new Date().toLocaleTimeString()}`;
    status.className = 'status ok';
  } catch {
    status.textContent = 'relay unreachable; retrying…';
    status.className = 'status bad';
  }
}

const form = document.getElementById('publish-form') as HTMLFormElement;
form.addEventListener('submit', (e) => {
  e.preventDefault();
  const name = (form.elements.namedItem('name') as HTMLInputElement).value.trim() || 'browser';
  location.href = withToken(`/publish?stream=${encodeURIComponent(name)}`, pageToken());
});

void poll();
setInterval(() => void poll(), 1000);
