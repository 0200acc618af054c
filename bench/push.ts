/**
 * The push publisher (`publish(url)` + `send()`): how fast raw RGB frames
 * go out — encoded with sharp, over a relay on 127.0.0.1, to one viewer —
 * when the caller awaits each send (paced to the link) and when it calls
 * send() as fast as it can without awaiting (latest-frame-wins: the
 * replaced pictures are counted).
 *
 *   node dist/bench/push.js [seconds]     prints a markdown table
 */
import { createRelay, nowUs, publish, subscribe, type EncodedFrame } from '../src/index.js';

const seconds = Number(process.argv[2] ?? 4);
const sizes: [number, number][] = [
  [320, 240],
  [640, 480],
  [1280, 720],
];

interface Row {
  size: string;
  mode: string;
  sentFps: number;
  replacedFps: number;
  viewerFps: number;
  p50: number | null;
  p95: number | null;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

async function point(width: number, height: number, awaited: boolean): Promise<Row> {
  const relay = createRelay();
  const { port } = await relay.listenTcp(0, '127.0.0.1');
  const url = `tcp://127.0.0.1:${port}/push`;
  const sub = subscribe(url);
  await sub.ready;
  const latencies: number[] = [];
  let received = 0;
  const reading = (async () => {
    for await (const f of sub as AsyncIterable<EncodedFrame>) {
      received++;
      latencies.push((nowUs() - f.captureUs) / 1000);
    }
  })();
  const pub = await publish(url, { quality: 75 });
  // A different picture each frame (a moving band), so the encoder does real work.
  const frames = [0, 1, 2, 3].map((k) => new Uint8Array(width * height * 3).map((_, i) => ((i >> 4) + k * 64) & 0xff));
  const endAt = Date.now() + seconds * 1000;
  let i = 0;
  while (Date.now() < endAt) {
    const picture = { data: frames[i++ % 4] as Uint8Array, width, height, format: 'rgb' as const };
    if (awaited) await pub.send(picture);
    else {
      void pub.send(picture);
      await new Promise((r) => setImmediate(r));
    }
  }
  const s = pub.stats();
  pub.close();
  await new Promise((r) => setTimeout(r, 200));
  sub.close();
  await reading;
  await relay.close();
  latencies.sort((a, b) => a - b);
  const r2 = (v: number | null): number | null => (v === null ? null : Math.round(v * 100) / 100);
  return {
    size: `${width}x${height}`,
    mode: awaited ? 'await send()' : 'send() unawaited',
    sentFps: Math.round((s.framesReceived / seconds) * 10) / 10,
    replacedFps: Math.round((s.framesReplaced / seconds) * 10) / 10,
    viewerFps: Math.round((received / seconds) * 10) / 10,
    p50: r2(percentile(latencies, 0.5)),
    p95: r2(percentile(latencies, 0.95)),
  };
}

const rows: Row[] = [];
for (const [w, h] of sizes) for (const awaited of [true, false]) rows.push(await point(w, h, awaited));
const ms = (v: number | null): string => (v === null ? '–' : v.toFixed(2));
console.log(`Push publisher: raw RGB → sharp JPEG (q75) → relay → 1 viewer, 127.0.0.1, ${seconds} s a point.\n`);
console.log('| size | caller | frames sent/s | replaced/s | viewer fps | send→arrival p50 ms | p95 ms |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows)
  console.log(`| ${r.size} | ${r.mode} | ${r.sentFps} | ${r.replacedFps} | ${r.viewerFps} | ${ms(r.p50)} | ${ms(r.p95)} |`);
