import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFramewireError } from '../../../src/errors.js';
import { cameraArgs, ffmpegArgs, inputArgs, isLiveInput, qualityToQscale, screenArgs } from '../../../src/sources/ffmpeg-args.js';

const o = { width: 1280, height: 720, fps: 30 };

describe('ffmpeg arguments', () => {
  it('camera on Linux: v4l2, index or path, negotiated size and rate', () => {
    assert.deepEqual(cameraArgs(undefined, {}, 'linux'), ['-f', 'v4l2', '-i', '/dev/video0']);
    assert.deepEqual(cameraArgs('2', o, 'linux'), ['-f', 'v4l2', '-framerate', '30', '-video_size', '1280x720', '-i', '/dev/video2']);
    assert.deepEqual(cameraArgs('/dev/video5', {}, 'linux'), ['-f', 'v4l2', '-i', '/dev/video5']);
  });

  it('camera on macOS: avfoundation, video only, a frame rate always given', () => {
    assert.deepEqual(cameraArgs(undefined, {}, 'darwin'), ['-f', 'avfoundation', '-framerate', '30', '-i', 'default:none']);
    assert.deepEqual(cameraArgs('1', o, 'darwin'), ['-f', 'avfoundation', '-framerate', '30', '-video_size', '1280x720', '-i', '1:none']);
    assert.deepEqual(cameraArgs('FaceTime HD Camera', { fps: 15 }, 'darwin'), [
      '-f',
      'avfoundation',
      '-framerate',
      '15',
      '-i',
      'FaceTime HD Camera:none',
    ]);
  });

  it('camera on Windows: dshow by name; an index is refused with how to list names', () => {
    assert.deepEqual(cameraArgs('Integrated Camera', o, 'win32'), [
      '-f',
      'dshow',
      '-framerate',
      '30',
      '-video_size',
      '1280x720',
      '-i',
      'video=Integrated Camera',
    ]);
    assert.throws(
      () => cameraArgs('0', {}, 'win32'),
      (e) => isFramewireError(e, 'FW_BAD_OPTION') && /list_devices/.test(e.message),
    );
    assert.throws(
      () => cameraArgs(undefined, {}, 'win32'),
      (e) => isFramewireError(e, 'FW_BAD_OPTION'),
    );
  });

  it('screen on Linux: x11grab of DISPLAY, or the given display; size is a scale, not a crop', () => {
    assert.deepEqual(screenArgs(undefined, o, 'linux', { DISPLAY: ':1' }), [
      '-f',
      'x11grab',
      '-draw_mouse',
      '1',
      '-framerate',
      '30',
      '-i',
      ':1',
    ]);
    assert.deepEqual(screenArgs(undefined, {}, 'linux', {}), ['-f', 'x11grab', '-draw_mouse', '1', '-i', ':0']);
    assert.deepEqual(screenArgs(':99.0+10,20', {}, 'linux'), ['-f', 'x11grab', '-draw_mouse', '1', '-i', ':99.0+10,20']);
    assert.deepEqual(screenArgs('99', {}, 'linux').slice(-1), [':99']);
  });

  it('screen on macOS (avfoundation) and Windows (gdigrab)', () => {
    assert.deepEqual(screenArgs(undefined, {}, 'darwin'), [
      '-f',
      'avfoundation',
      '-capture_cursor',
      '1',
      '-framerate',
      '30',
      '-i',
      'Capture screen 0:none',
    ]);
    assert.deepEqual(screenArgs('1', { fps: 10 }, 'darwin').slice(-1), ['Capture screen 1:none']);
    assert.deepEqual(screenArgs(undefined, o, 'win32'), ['-f', 'gdigrab', '-draw_mouse', '1', '-framerate', '30', '-i', 'desktop']);
    assert.deepEqual(screenArgs('title=Calculator', {}, 'win32').slice(-1), ['title=Calculator']);
  });

  it('files: real time by default, loop, as fast as possible', () => {
    assert.deepEqual(inputArgs({ kind: 'file', path: 'a.mp4' }, {}, 'linux'), ['-re', '-i', 'a.mp4']);
    assert.deepEqual(inputArgs({ kind: 'file', path: 'a.mp4', loop: true, realtime: false }, {}, 'linux'), [
      '-stream_loop',
      '-1',
      '-i',
      'a.mp4',
    ]);
    assert.equal(isLiveInput({ kind: 'file', path: 'a' }), false);
    assert.equal(isLiveInput({ kind: 'screen' }), true);
  });

  it('RTSP over TCP with an I/O timeout and low-delay flags', () => {
    const a = inputArgs({ kind: 'url', url: 'rtsp://cam/1' }, {}, 'linux');
    assert.deepEqual(a.slice(-6), ['-rtsp_transport', 'tcp', '-timeout', '5000000', '-i', 'rtsp://cam/1']);
    assert.ok(a.includes('nobuffer'));
  });

  it('output: fps filter for files, capture rate for devices, scale, q:v, MJPEG on stdout', () => {
    const f = ffmpegArgs({ kind: 'file', path: 'x.mp4' }, { ...o, quality: 75 }, 'linux');
    assert.deepEqual(f.slice(f.indexOf('-vf')), [
      '-vf',
      'fps=30,scale=1280:720',
      '-pix_fmt',
      'yuvj420p',
      '-c:v',
      'mjpeg',
      '-q:v',
      '9',
      '-flush_packets',
      '1',
      '-f',
      'mjpeg',
      'pipe:1',
    ]);
    const s = ffmpegArgs({ kind: 'screen' }, o, 'linux', { DISPLAY: ':5' });
    assert.equal(s[s.indexOf('-vf') + 1], 'scale=1280:720');
    assert.ok(!ffmpegArgs({ kind: 'camera' }, {}, 'linux').includes('-vf'));
    assert.deepEqual(ffmpegArgs({ kind: 'camera' }, {}, 'linux').slice(0, 5), ['-hide_banner', '-nostats', '-loglevel', 'error', '-f']);
  });

  it('maps JPEG quality to q:v monotonically, 100 → 2, 1 → 31', () => {
    assert.equal(qualityToQscale(100), 2);
    assert.equal(qualityToQscale(1), 31);
    for (let q = 2; q <= 100; q++) assert.ok(qualityToQscale(q) <= qualityToQscale(q - 1));
  });

  it('refuses platforms without a capture backend', () => {
    assert.throws(
      () => cameraArgs(undefined, {}, 'aix'),
      (e) => isFramewireError(e, 'FW_BAD_OPTION'),
    );
  });
});
