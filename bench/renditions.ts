/**
 * Rendition cost: what each extra viewer profile costs the relay per source
 * frame, run exactly as the relay's transcoder runs it (decode the 720p
 * source JPEG once, then resize + encode once per profile, profiles in
 * parallel on libvips' threads). CPU is this process's user+system time
 * (libvips threads included) per frame, scaled to a 30 fps stream.
 *
 *   node dist/bench/renditions.js [frames]     prints a markdown table
 */
import { decodeJpeg, encodeProfile, type Profile } from '../src/codec/transcode.js';
import { DEFAULT_RENDITION_QUALITY } from '../src/relay/rendition.js';
import { testPattern, type EncodedFrame } from '../src/index.js';

const frames = Number(process.argv[2] ?? 60);
const REPS = 3;

const sets: { name: string; profiles: Profile[] }[] = [
  { name: 'decode only', profiles: [] },
  { name: '+ 640x360', profiles: [{ width: 640, height: 360 }] },
  {
    name: '+ 640x360, 320x180',
    profiles: [
      { width: 640, height: 360 },
      { width: 320, height: 180 },
    ],
  },
  {
    name: '+ 640x360, 320x180, 1280x720 q40',
    profiles: [
      { width: 640, height: 360 },
      { width: 320, height: 180 },
      { width: 1280, height: 720, quality: 40 },
    ],
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function sourceFrames(n: number): Promise<EncodedFrame[]> {
  const out: EncodedFrame[] = [];
  for await (const f of testPattern({ width: 1280, height: 720, fps: 0, quality: 75 })) {
    out.push(f);
    if (out.length >= n) break;
  }
  return out;
}

/** One pass over the frames with a set of profiles: CPU ms and wall ms per frame. */
async function pass(src: EncodedFrame[], profiles: Profile[]): Promise<{ cpuMs: number; wallMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const f of src) {
    const pic = await decodeJpeg(f.data);
    await Promise.all(profiles.map((p) => encodeProfile(pic, p, DEFAULT_RENDITION_QUALITY)));
  }
  const c = process.cpuUsage(c0);
  return { cpuMs: (c.user + c.system) / 1000 / src.length, wallMs: (performance.now() - t0) / src.length };
}

const src = await sourceFrames(frames);
await pass(src.slice(0, 10), sets[sets.length - 1]?.profiles ?? []); // warm up libvips
const rows: { name: string; cpuMs: number; wallMs: number }[] = [];
for (const set of sets) {
  const runs: { cpuMs: number; wallMs: number }[] = [];
  for (let r = 0; r < REPS; r++) runs.push(await pass(src, set.profiles));
  rows.push({ name: set.name, cpuMs: median(runs.map((x) => x.cpuMs)), wallMs: median(runs.map((x) => x.wallMs)) });
}

const base = rows[0] as { cpuMs: number; wallMs: number };
const lines = [
  `Renditions of a 1280x720 q75 source (${frames} test-pattern frames, median of ${REPS} passes; Node ${process.version}).`,
  '',
  '| profiles | CPU ms / frame | extra over decode | % of a core at 30 fps | wall ms / frame (added latency) |',
  '|---|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.cpuMs.toFixed(2)} | ${(r.cpuMs - base.cpuMs).toFixed(2)} | ${((r.cpuMs * 30) / 10).toFixed(0)} % | ${r.wallMs.toFixed(2)} |`,
  ),
  '',
  'Viewers asking for the source size, or only an fps cap, cost nothing here: they get the source frames (fps caps skip frames).',
];
process.stdout.write(`${lines.join('\n')}\n`);
