/**
 * The MJPEG channels write and read what the frame says: each part out is
 * built from the frame's own fields (seq, capture time, the JPEG as it is),
 * and an upload's parts reach a native viewer byte for byte.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { MultipartParser, boundaryFromContentType, type MultipartPart } from '../../src/codec/multipart.js';
import { RawClient, fakeFrame, until } from '../helpers/relay.js';
import { request, startTestRelay, type TestRelay } from '../helpers/web.js';

describe('MJPEG parts', { timeout: 30_000 }, () => {
  let r: TestRelay;
  before(async () => {
    r = await startTestRelay();
  });
  after(async () => r?.close());

  it('out: one part per frame, with its seq, its capture time and its JPEG unchanged', async () => {
    const pub = await RawClient.connect(r.tcpPort);
    pub.send({ type: 'hello', body: { role: 'publish', stream: 'parts' } });
    await pub.waitFor('welcome');
    const parts: MultipartPart[] = [];
    const req = http.get(`${r.base}/streams/parts.mjpg`, (res) => {
      const parser = new MultipartParser(boundaryFromContentType(res.headers['content-type']) as string);
      res.on('data', (chunk: Buffer) => {
        for (const p of parser.push(chunk)) parts.push({ headers: p.headers, body: Buffer.from(p.body) });
      });
    });
    req.on('error', () => undefined);
    try {
      await until(() => r.relay.viewers('parts')?.length === 1, 'the MJPEG viewer attached');
      const sent = [5, 6, 7].map((seq) => fakeFrame(seq, 3000 + seq));
      for (const [i, f] of sent.entries()) {
        pub.sendFrame(f);
        // One at a time: latest-frame-wins would rightly skip frames sent faster than the response drains.
        await until(() => parts.filter((p) => p.headers['x-frame-seq'] !== undefined).length === i + 1, `part ${i + 1}`);
      }
      const live = parts.filter((p) => p.headers['x-frame-seq'] !== undefined);
      for (const [i, p] of live.entries()) {
        const f = sent[i] as (typeof sent)[number];
        assert.equal(p.headers['x-frame-seq'], String(f.seq));
        assert.equal(p.headers['content-length'], String(f.data.length));
        assert.equal(p.headers['content-type'], 'image/jpeg');
        assert.match(String(p.headers['x-timestamp']), /^\d+\.\d{6}$/);
        assert.ok(p.body.equals(f.data), `part ${i}: the JPEG byte for byte`);
      }
    } finally {
      req.destroy();
      pub.close();
    }
  });

  it("in: an upload's JPEG parts reach a native viewer byte for byte, and the uploader hears how many", async () => {
    const viewer = await RawClient.connect(r.tcpPort);
    viewer.send({ type: 'hello', body: { role: 'view', stream: 'up' } });
    await viewer.waitFor('welcome');
    const jpegs = [1, 2, 3].map((i) => fakeFrame(i, 2000 + i).data);
    const body = Buffer.concat([
      ...jpegs.flatMap((j) => [
        Buffer.from(`--b\r\nContent-Type: image/jpeg\r\nContent-Length: ${j.length}\r\n\r\n`),
        j,
        Buffer.from('\r\n'),
      ]),
      Buffer.from('--b--\r\n'),
    ]);
    const res = await request(
      `${r.base}/streams/up`,
      { method: 'POST', headers: { 'Content-Type': 'multipart/x-mixed-replace;boundary=b' } },
      body,
    );
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body.toString()), { stream: 'ended', frames: 3 });
    await until(() => viewer.frames().length === 3, 'three frames at the viewer');
    assert.deepEqual(
      viewer.frames().map((f) => f.seq),
      [0, 1, 2],
      'seq +1 per part',
    );
    for (const [i, f] of viewer.frames().entries()) assert.ok(Buffer.from(f.data).equals(jpegs[i] as Buffer), `frame ${i}`);
    viewer.close();
  });
});
