import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isFramewireError } from '../../../src/errors.js';
import { ffmpegErrorLine, findFfmpeg, installHint } from '../../../src/sources/ffmpeg-process.js';
import { parseSourceSpec } from '../../../src/sources/open-source.js';

describe('findFfmpeg', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fw-ffmpeg-'));
  const fake = path.join(dir, 'ffmpeg');
  writeFileSync(fake, '#!/bin/sh\n');
  chmodSync(fake, 0o755);
  const notExec = path.join(dir, 'plain');
  writeFileSync(notExec, '');

  it('prefers FFMPEG_PATH, then searches PATH', () => {
    assert.equal(findFfmpeg({ FFMPEG_PATH: fake, PATH: '/nonexistent' }, 'linux'), fake);
    assert.equal(findFfmpeg({ PATH: `/nonexistent:${dir}` }, 'linux'), fake);
  });

  it('a bad FFMPEG_PATH or an empty PATH gives FW_FFMPEG_NOT_FOUND with how to install', () => {
    assert.throws(
      () => findFfmpeg({ FFMPEG_PATH: notExec, PATH: dir }, 'linux'),
      (e) => isFramewireError(e, 'FW_FFMPEG_NOT_FOUND') && /FFMPEG_PATH/.test(e.message),
    );
    assert.throws(
      () => findFfmpeg({ PATH: '/nonexistent' }, 'linux'),
      (e) => isFramewireError(e, 'FW_FFMPEG_NOT_FOUND') && /apt install ffmpeg/.test(e.message),
    );
    assert.match(installHint('darwin'), /brew install ffmpeg/);
    assert.match(installHint('win32'), /winget install ffmpeg/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('ffmpegErrorLine', () => {
  it('makes one readable line of what ffmpeg says', () => {
    const v4l2 =
      '[video4linux2,v4l2 @ 0x5653d136a880] Cannot open video device /dev/video0: No such file or directory\n/dev/video0: No such file or directory\n';
    assert.equal(
      ffmpegErrorLine(v4l2, { code: 1, signal: null }),
      'ffmpeg: [video4linux2,v4l2] Cannot open video device /dev/video0: No such file or directory [exit code 1]',
    );
    const x11 = '[x11grab @ 0x55cc3ab00880] Cannot open display :99, error 1.\n:99: Input/output error\n';
    assert.match(
      ffmpegErrorLine(x11),
      /^ffmpeg: \[x11grab\] Cannot open display :99, error 1\. \(:99: Input\/output error\); is the X display/,
    );
    assert.match(ffmpegErrorLine('/dev/video0: Permission denied\n'), /video" group/);
    assert.match(
      ffmpegErrorLine('[v4l2 @ 0x1] ioctl(VIDIOC_STREAMON): Device or resource busy\nConversion failed!\n'),
      /another program is using the device/,
    );
    assert.equal(ffmpegErrorLine('', { code: null, signal: 'SIGKILL' }), 'ffmpeg failed (killed by SIGKILL)');
    assert.ok(!ffmpegErrorLine('x\n'.repeat(10) + 'y'.repeat(1000)).includes('\n'));
  });
});

describe('parseSourceSpec', () => {
  it('recognises every kind', () => {
    assert.deepEqual(parseSourceSpec('test'), { kind: 'test' });
    assert.deepEqual(parseSourceSpec('camera'), { kind: 'camera', device: undefined });
    assert.deepEqual(parseSourceSpec('camera:1'), { kind: 'camera', device: '1' });
    assert.deepEqual(parseSourceSpec('camera:/dev/video3'), { kind: 'camera', device: '/dev/video3' });
    assert.deepEqual(parseSourceSpec('screen'), { kind: 'screen', display: undefined });
    assert.deepEqual(parseSourceSpec('screen::99'), { kind: 'screen', display: ':99' });
    assert.deepEqual(parseSourceSpec('http://u:p@10.0.0.2:8080/video'), { kind: 'http', url: 'http://u:p@10.0.0.2:8080/video' });
    assert.deepEqual(parseSourceSpec('rtsp://cam/live'), { kind: 'url', url: 'rtsp://cam/live' });
    assert.deepEqual(parseSourceSpec('clip.mp4'), { kind: 'file', path: 'clip.mp4' });
    assert.deepEqual(parseSourceSpec('file:/tmp/a b.mp4'), { kind: 'file', path: '/tmp/a b.mp4' });
  });
});
