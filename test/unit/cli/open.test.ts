import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { viewerPageUrl } from '../../../src/cli/open.js';
import { isFramewireError } from '../../../src/errors.js';

describe('viewerPageUrl', () => {
  it('maps stream URLs to the viewer page', () => {
    assert.equal(viewerPageUrl('http://h:8080/view?stream=cam'), 'http://h:8080/view?stream=cam');
    assert.equal(viewerPageUrl('http://h:8080/streams/cam.mjpg'), 'http://h:8080/view?stream=cam');
    assert.equal(viewerPageUrl('http://h:9000/cam?token=t'), 'http://h:9000/view?stream=cam&token=t');
    assert.equal(viewerPageUrl('tcp://10.0.0.2:7070/cam'), 'http://10.0.0.2:8080/view?stream=cam');
    assert.equal(viewerPageUrl('tls://10.0.0.2:7070/cam', 8443), 'https://10.0.0.2:8443/view?stream=cam');
    assert.equal(viewerPageUrl('tcp://10.0.0.2:7070/cam', 81, 'x y'), 'http://10.0.0.2:81/view?stream=cam&token=x%20y');
  });
  it('refuses what is not a stream URL with FW_BAD_URL', () => {
    assert.throws(
      () => viewerPageUrl('nonsense'),
      (e) => isFramewireError(e, 'FW_BAD_URL'),
    );
    assert.throws(
      () => viewerPageUrl('ftp://h/cam'),
      (e) => isFramewireError(e, 'FW_BAD_URL'),
    );
    assert.throws(
      () => viewerPageUrl('http://h/'),
      (e) => isFramewireError(e, 'FW_BAD_URL'),
    );
  });
});
