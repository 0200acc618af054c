// Publish frames your own code makes: 300 raw RGB frames, 320x240, 30 fps.
//   npx framewire serve                       (in another terminal)
//   node examples/push-frames.mjs tcp://127.0.0.1:7070/bot
//   npx framewire view tcp://127.0.0.1:7070/bot --stats
// Prints the publisher's figures as JSON when done.
import { publish } from 'framewire';

const url = process.argv[2] ?? 'tcp://127.0.0.1:7070/bot';
const frames = Number(process.argv[3] ?? 300);
const [width, height, fps] = [320, 240, 30];

const pub = await publish(url, { width, height, fps, quality: 75 });
pub.on('disconnected', ({ reason, willRetry }) => console.error(`${reason}${willRetry ? '; reconnecting' : ''}`));

const rgb = new Uint8Array(width * height * 3);
const start = performance.now();
for (let i = 0; i < frames; i++) {
  // A bar sweeping over a gradient: any pixels your code has will do.
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p += 3) {
      const bar = Math.abs(x - ((i * 4) % width)) < 8;
      rgb[p] = bar ? 255 : x;
      rgb[p + 1] = bar ? 255 : y;
      rgb[p + 2] = bar ? 255 : (i * 2) & 0xff;
    }
  }
  // The buffer is copied: reuse it at once. The promise says whether the
  // frame went out (awaiting it paces this loop to the link).
  await pub.send({ data: rgb, width, height, format: 'rgb' });
  const due = start + ((i + 1) * 1000) / fps;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
}
console.log(JSON.stringify(pub.stats()));
pub.close();
