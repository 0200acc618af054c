/**
 * A parent process for the orphan tests: opens a live ffmpeg source, prints
 * "ready <ffmpeg pid>" and then ends the way argv[2] says: sigint / sigterm
 * (wait for the test to signal it), exit (process.exit), throw (uncaught
 * exception), kill9 (wait to be SIGKILLed).
 */
import { ffmpegSource } from '../../src/sources/ffmpeg.js';

const mode = process.argv[2] ?? 'kill9';
const src = ffmpegSource({ input: { kind: 'args', args: ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30'] } });
await src.ready;
process.stdout.write(`ready ${src.pid}\n`);
// Keep consuming, as a real publisher would.
void (async () => {
  for await (const _ of src) {
    // discard
  }
})();
if (mode === 'exit') setTimeout(() => process.exit(0), 50);
if (mode === 'throw')
  setTimeout(() => {
    throw new Error('boom');
  }, 50);
if (mode === 'end') setTimeout(() => src.close(), 50);
