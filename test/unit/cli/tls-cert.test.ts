import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isFramewireError, normalizeFingerprint } from '../../../src/index.js';
import { certificateNames, defaultTlsDir, relayNames, selfSignedCertificate } from '../../../src/cli/tls-cert.js';
import { hasCommand, skipUnless } from '../../helpers/web.js';

const FP = 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89';

describe('normalizeFingerprint', () => {
  it('takes colon-hex or plain hex in any case (and an openssl-style prefix), gives colon-hex upper case', () => {
    for (const input of [
      FP,
      FP.toLowerCase(),
      FP.replace(/:/g, ''),
      FP.replace(/:/g, '').toLowerCase(),
      `SHA256 Fingerprint=${FP}`,
      `sha256:${FP.toLowerCase()}`,
      ` ${FP} `,
    ]) {
      assert.equal(normalizeFingerprint(input), FP, input);
    }
  });
  it('refuses anything that is not 32 bytes of hex with FW_BAD_OPTION', () => {
    for (const bad of ['', 'abc', FP.slice(3), `${FP}:00`, FP.replace('AB', 'XY'), FP.replace(/:/g, '-')]) {
      assert.throws(
        () => normalizeFingerprint(bad),
        (e) => isFramewireError(e, 'FW_BAD_OPTION'),
        bad,
      );
    }
  });
});

describe('relayNames', () => {
  const machine = {
    hostname: 'Box-1',
    interfaces: {
      lo: [{ address: '127.0.0.1' }, { address: '::1' }],
      eth0: [{ address: '192.168.1.20' }, { address: 'fe80:0:0:0:0:0:0:7' }],
    } as unknown as NodeJS.Dict<os.NetworkInterfaceInfo[]>,
  };
  it('a loopback or named host: itself plus localhost, 127.0.0.1 and ::1', () => {
    assert.deepEqual(relayNames('127.0.0.1', machine), ['127.0.0.1', '::1', 'localhost']);
    assert.deepEqual(relayNames('relay.example.org', machine), ['127.0.0.1', '::1', 'localhost', 'relay.example.org']);
    assert.deepEqual(relayNames('0:0:0:0:0:0:0:1', machine), ['127.0.0.1', '::1', 'localhost']);
  });
  it('a wildcard host: also the host name and every interface address (canonical spelling), not the wildcard', () => {
    const all = ['127.0.0.1', '192.168.1.20', '::1', 'box-1', 'fe80::7', 'localhost'];
    assert.deepEqual(relayNames('0.0.0.0', machine), all);
    assert.deepEqual(relayNames('::', machine), all);
  });
});

describe('selfSignedCertificate', { skip: skipUnless(hasCommand('openssl', ['version']), 'openssl') }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fw-cert-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('makes a certificate for the names, keeps the key private, reuses it, and re-makes it when the names change or it expires', async () => {
    assert.equal(defaultTlsDir({ XDG_CONFIG_HOME: '/x' }, '/home/u'), path.join('/x', 'framewire', 'tls'));
    assert.equal(defaultTlsDir({}, '/home/u'), path.join('/home/u', '.framewire', 'tls'));
    const names = ['127.0.0.1', '::1', 'localhost'];
    const sub = path.join(dir, 'a', 'tls');
    const first = await selfSignedCertificate(sub, names);
    assert.equal(first.made, true);
    assert.equal(first.reason, 'no certificate yet');
    const firstKey = await readFile(first.keyFile);
    assert.deepEqual(first.names, names);
    assert.equal((await stat(first.keyFile)).mode & 0o077, 0, 'key.pem is for its owner only');
    const x = new X509Certificate(await readFile(first.certFile));
    assert.equal(x.fingerprint256, first.fingerprint);
    assert.deepEqual(certificateNames(x), names);
    assert.equal(x.ca, false);

    const again = await selfSignedCertificate(sub, [...names].reverse());
    assert.equal(again.made, false);
    assert.equal(again.fingerprint, first.fingerprint);

    const wider = await selfSignedCertificate(sub, [...names, 'box-1']);
    assert.equal(wider.made, true);
    assert.match(wider.reason ?? '', /names changed/);
    assert.notEqual(wider.fingerprint, first.fingerprint);

    // Twelve hours before it expires, it is made again.
    const nearEnd = new Date(wider.validTo.getTime() - 12 * 3600_000);
    const renewed = await selfSignedCertificate(sub, [...names, 'box-1'], nearEnd);
    assert.equal(renewed.made, true);
    assert.match(renewed.reason ?? '', /expire/);

    // A key that does not belong to the certificate: made again.
    await writeFile(renewed.keyFile, firstKey);
    const mended = await selfSignedCertificate(sub, [...names, 'box-1']);
    assert.equal(mended.made, true);
    assert.match(mended.reason ?? '', /key\.pem/);
  });

  it('says what to do when openssl is missing', async () => {
    const saved = process.env.OPENSSL_PATH;
    process.env.OPENSSL_PATH = path.join(dir, 'no-such-openssl');
    try {
      await assert.rejects(
        selfSignedCertificate(path.join(dir, 'b'), ['localhost']),
        (e) => isFramewireError(e, 'FW_BAD_OPTION') && /needs the openssl command/.test(e.message),
      );
    } finally {
      if (saved === undefined) delete process.env.OPENSSL_PATH;
      else process.env.OPENSSL_PATH = saved;
    }
  });
});
