import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { toRelayFrame, type RelayFrame } from '../../../src/relay/relay-frame.js';
import { Renditions, type RenditionViewer } from '../../../src/relay/rendition.js';
import { nowUs } from '../../../src/frame/clock.js';
import { until } from '../../helpers/relay.js';

/** A viewer that only records what it is offered: Renditions needs nothing else of one. */
class Viewer implements RenditionViewer {
  readonly offered: RelayFrame[] = [];
  offer(rf: RelayFrame): void {
    this.offered.push(rf);
  }
}

async function jpegFrame(seq: number, width = 64, height = 48): Promise<RelayFrame> {
  const data = await sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 40 } } })
    .jpeg()
    .toBuffer();
  return toRelayFrame({ seq, captureUs: nowUs(), width, height, codec: 'jpeg', key: true, data });
}

describe('Renditions', () => {
  it('reports through onSkip each source frame a viewer never gets because the transcoder was busy, and offers it the newest', async () => {
    const skips = new Map<Viewer, number>();
    const r = new Renditions<Viewer>(4, {}, (v) => skips.set(v, (skips.get(v) ?? 0) + 1));
    const a = new Viewer();
    const b = new Viewer();
    assert.ok(r.add(a, { width: 32 }));
    assert.ok(r.add(b, { width: 32 }));
    const frames = await Promise.all([1, 2, 3, 4].map((seq) => jpegFrame(seq)));
    // Frame 1 starts a transcode; 2 waits, 3 replaces it (2 is skipped), 4 replaces 3 (3 is skipped).
    for (const f of frames) r.onSource(f);
    await until(() => a.offered.length === 2 && b.offered.length === 2, 'frames 1 and 4 at both viewers');
    for (const v of [a, b]) {
      assert.deepEqual(
        v.offered.map((rf) => rf.frame.seq),
        [1, 4],
      );
      assert.equal(v.offered[0]?.frame.width, 32, 'the rendition, not the source');
      assert.equal(skips.get(v), 2, 'frames 2 and 3 reported skipped');
    }
    assert.equal(r.decodes, 2);
  });

  it('reports a frame it refuses to decode (no room in the memory budget) as skipped for that rendition only', async () => {
    const skips = new Map<Viewer, number>();
    const r = new Renditions<Viewer>(4, { reserve: () => false }, (v) => skips.set(v, (skips.get(v) ?? 0) + 1));
    const resized = new Viewer();
    const asPublished = new Viewer();
    r.add(resized, { width: 32 });
    // A profile the source already satisfies needs no decode: its viewer gets the source frame.
    r.add(asPublished, { width: 640 });
    r.onSource(await jpegFrame(1));
    await until(() => r.refused === 1, 'the refusal');
    assert.equal(skips.get(resized), 1);
    assert.equal(skips.get(asPublished), undefined);
    assert.deepEqual(
      asPublished.offered.map((rf) => rf.frame.seq),
      [1],
    );
    assert.equal(resized.offered.length, 0);
  });
});
