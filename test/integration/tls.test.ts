import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { subscribe } from '../../src/index.js';
import { encodeControl } from '../../src/protocol/index.js';
import { cliRunner, waitForOutput, type CliProcess } from '../helpers/cli.js';
import { hasCommand, run, skipUnless } from '../helpers/web.js';

const skip = skipUnless(hasCommand('openssl', ['version']), 'openssl');
const noCurl = skipUnless(hasCommand('curl', ['--version']), 'curl');

const start = cliRunner();

/** A `serve --tls-self-signed` child and what it printed. */
interface TlsServe {
  proc: CliProcess;
  tcpPort: number;
  httpPort: number;
  fingerprint: string;
  stdout: string;
}

async function serveTls(dir: string, host = '127.0.0.1'): Promise<TlsServe> {
  const proc = start(['serve', '--host', host, '--tcp', '0', '--http', '0', '--tls-self-signed', '--tls-dir', dir]);
  const [, tcp, http] = await waitForOutput(proc.stdout, /^framewire relay listening tcp=[\d.]+:(\d+) http=[\d.]+:(\d+) tls=on$/m, 30_000);
  const [, fingerprint] = await waitForOutput(proc.stdout, /^ {2}view: .*--fingerprint ([0-9A-F:]{95})$/m);
  return { proc, tcpPort: Number(tcp), httpPort: Number(http), fingerprint: fingerprint as string, stdout: proc.stdout() };
}

async function stop(p: CliProcess): Promise<void> {
  p.child.kill('SIGINT');
  assert.deepEqual(await p.exited, { code: 0, signal: null });
}

type JsonLine = { framesReceived: number; width: number; final?: boolean };
const lastLine = (p: CliProcess): JsonLine => JSON.parse(p.stdout().trim().split('\n').at(-1) as string) as JsonLine;

/** Open fds of a process (Linux), or undefined elsewhere. */
async function fdCount(pid: number): Promise<number | undefined> {
  try {
    return (await readdir(`/proc/${pid}/fd`)).length;
  } catch {
    return undefined;
  }
}

describe('framewire serve --tls-self-signed with the CLI clients', { skip, timeout: 120_000 }, () => {
  let dir: string;
  let s: TlsServe;
  let pub: CliProcess;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fw-tls-cli-'));
    s = await serveTls(dir);
    // The publisher pins with plain lower-case hex.
    pub = start([
      'publish',
      `tls://127.0.0.1:${s.tcpPort}/cam`,
      '--size',
      '320x240',
      '--fps',
      '30',
      '--fingerprint',
      s.fingerprint.replace(/:/g, '').toLowerCase(),
    ]);
    await waitForOutput(s.proc.stderr, /connect remote=127\.0\.0\.1:\d+ transport=tls .*role=publish stream=cam/);
  });

  after(async () => {
    pub?.child.kill('SIGKILL');
    s?.proc.child.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints where the certificate is, its fingerprint, and tls:// / https:// URLs', () => {
    assert.match(
      s.stdout,
      new RegExp(
        `^ {2}tls: +certificate ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/cert\\.pem \\(self-signed, made now: no certificate yet\\)$`,
        'm',
      ),
    );
    assert.match(s.stdout, /^ +for 127\.0\.0\.1, ::1, localhost$/m);
    assert.match(s.stdout, new RegExp(`^ {2}sha256: +${s.fingerprint}$`, 'm'));
    assert.match(s.stdout, new RegExp(`^ {2}browser: https://127\\.0\\.0\\.1:${s.httpPort}/$`, 'm'));
    assert.match(
      s.stdout,
      new RegExp(`^ {2}publish: npx framewire publish tls://127\\.0\\.0\\.1:${s.tcpPort}/cam --fingerprint ${s.fingerprint}$`, 'm'),
    );
  });

  it('view tls:// and wss:// with --fingerprint receive the frames', async () => {
    const viaTls = start(['view', `tls://127.0.0.1:${s.tcpPort}/cam`, '--json', '--duration', '2', '--fingerprint', s.fingerprint]);
    const viaWss = start([
      'view',
      `wss://127.0.0.1:${s.httpPort}/cam`,
      '--json',
      '--duration',
      '2',
      '--fingerprint',
      s.fingerprint.toLowerCase(),
    ]);
    for (const v of [viaTls, viaWss]) {
      assert.equal((await v.exited).code, 0, v.stderr());
      const last = lastLine(v);
      assert.ok(last.framesReceived >= 20, `received ${last.framesReceived}: ${v.stderr()}`);
      assert.equal(last.width, 320);
    }
    await waitForOutput(s.proc.stderr, /connect remote=\S+ transport=wss .*role=view/);
  });

  it('--ca FILE trusts the relay by its certificate, host name checked (localhost)', async () => {
    const v = start(['view', `tls://localhost:${s.tcpPort}/cam`, '--json', '--duration', '1', '--ca', path.join(dir, 'cert.pem')]);
    assert.equal((await v.exited).code, 0, v.stderr());
    assert.ok(lastLine(v).framesReceived > 0);
  });

  it('a wrong fingerprint, or no trust at all, is refused with FW_TLS (exit 1, no retry)', async () => {
    const wrong = `${s.fingerprint.startsWith('00') ? '11' : '00'}${s.fingerprint.slice(2)}`;
    for (const args of [
      ['view', `tls://127.0.0.1:${s.tcpPort}/cam`, '--fingerprint', wrong],
      ['view', `wss://127.0.0.1:${s.httpPort}/cam`, '--fingerprint', wrong],
      ['publish', `tls://127.0.0.1:${s.tcpPort}/other`, '--fingerprint', wrong],
      ['view', `tls://127.0.0.1:${s.tcpPort}/cam`],
    ]) {
      const p = start([...args, '--duration', '5']);
      const { code } = await p.exited;
      assert.equal(code, 1, `${args.join(' ')}: ${p.stderr()}`);
      assert.match(p.stderr(), /FW_TLS: the certificate of 127\.0\.0\.1:\d+ (has SHA-256 fingerprint|is not trusted)/, args.join(' '));
    }
  });

  it('--insecure connects without checking, and says loudly what it skips', async () => {
    const v = start(['view', `tls://127.0.0.1:${s.tcpPort}/cam`, '--json', '--duration', '1', '--insecure']);
    assert.equal((await v.exited).code, 0, v.stderr());
    assert.ok(lastLine(v).framesReceived > 0);
    assert.match(
      v.stderr(),
      /WARNING: --insecure: the relay's TLS certificate is NOT checked - not who signed it, not the host name, not its expiry/,
    );
  });

  it('TLS flags with a non-TLS URL are a usage error', async () => {
    const v = start(['view', `tcp://127.0.0.1:${s.tcpPort}/cam`, '--fingerprint', s.fingerprint]);
    assert.equal((await v.exited).code, 2);
    assert.match(v.stderr(), /--fingerprint needs a tls:\/\/ or wss:\/\/ URL/);
  });

  it('curl --cacert reads /api/streams and the MJPEG stream over HTTPS', { skip: noCurl }, async () => {
    const ca = path.join(dir, 'cert.pem');
    const api = await run('curl', ['-sS', '--fail', '--cacert', ca, `https://127.0.0.1:${s.httpPort}/api/streams`]).done;
    assert.equal(api.code, 0, api.stderr);
    const streams = (JSON.parse(api.stdout) as { streams: { name: string; live: boolean }[] }).streams;
    assert.ok(
      streams.some((x) => x.name === 'cam' && x.live),
      api.stdout,
    );
    // MJPEG never ends: read until the first JPEG start of image, then stop curl.
    const soi = await new Promise<boolean>((resolve) => {
      const c = spawn('curl', ['-sS', '-N', '--fail', '--cacert', ca, `https://localhost:${s.httpPort}/streams/cam.mjpg`], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let got = Buffer.alloc(0);
      const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
      c.stdout.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d]).subarray(-65_536);
        if (got.includes(Buffer.from([0xff, 0xd8, 0xff]))) c.kill('SIGTERM');
      });
      c.on('close', () => {
        clearTimeout(timer);
        resolve(got.includes(Buffer.from([0xff, 0xd8, 0xff])));
      });
    });
    assert.ok(soi, 'a JPEG start of image in the HTTPS MJPEG stream');
    // Without the CA, curl refuses the self-signed certificate.
    const untrusted = await run('curl', ['-sS', `https://127.0.0.1:${s.httpPort}/api/streams`]).done;
    assert.notEqual(untrusted.code, 0);
  });

  it('a plain TCP client on the TLS port gets only a TLS alert or nothing; no fd is left behind; the next TLS client is served', async () => {
    const pid = s.proc.child.pid as number;
    const fds0 = await fdCount(pid);
    const hello = encodeControl({ type: 'hello', body: { role: 'view', stream: 'cam' } });
    const answers = await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<Buffer>((resolve) => {
            const chunks: Buffer[] = [];
            const c = net.connect(s.tcpPort, '127.0.0.1', () => c.write(hello));
            c.on('data', (d: Buffer) => chunks.push(d));
            c.on('error', () => undefined);
            c.on('close', () => resolve(Buffer.concat(chunks)));
          }),
      ),
    );
    for (const got of answers) {
      // A TLS record of type 21 (alert), or nothing at all.
      assert.ok(got.length === 0 || got[0] === 21, `got ${got.subarray(0, 16).toString('hex')}`);
      assert.ok(!got.includes(Buffer.from('FW')), 'no framewire message came back in clear');
    }
    await waitForOutput(s.proc.stderr, /error remote=127\.0\.0\.1:\d+ transport=tls code=FW_TLS message=TLS handshake failed/);
    if (fds0 !== undefined) {
      const deadline = Date.now() + 10_000;
      let fds = await fdCount(pid);
      while ((fds ?? 0) > fds0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        fds = await fdCount(pid);
      }
      assert.ok((fds ?? 0) <= fds0, `relay fds ${fds} after the plain clients, ${fds0} before`);
    }
    const sub = subscribe(`tls://127.0.0.1:${s.tcpPort}/cam`, { reconnect: false, tls: { fingerprint: s.fingerprint } });
    try {
      for await (const f of sub) {
        assert.equal(f.width, 320);
        break;
      }
    } finally {
      sub.close();
    }
  });

  it('keeps the certificate across a restart (same fingerprint); makes a new one when the names change', async () => {
    pub.child.kill('SIGKILL');
    await stop(s.proc);
    const again = await serveTls(dir);
    assert.equal(again.fingerprint, s.fingerprint);
    assert.match(again.stdout, /\(self-signed, reused\)/);
    await stop(again.proc);
    // 127.0.0.2 is loopback too on Linux; the certificate must now name it.
    const other = await serveTls(dir, '127.0.0.2');
    assert.notEqual(other.fingerprint, s.fingerprint);
    assert.match(other.stdout, /made now: the names changed/);
    assert.match(other.stdout, /^ +for 127\.0\.0\.1, 127\.0\.0\.2, ::1, localhost$/m);
    const v = start(['view', `tls://127.0.0.2:${other.tcpPort}/cam`, '--json', '--duration', '1', '--ca', path.join(dir, 'cert.pem')]);
    assert.equal((await v.exited).code, 0, v.stderr());
    await stop(other.proc);
  });
});

describe('framewire chat over TLS', { skip, timeout: 60_000 }, () => {
  it('chat --listen --tls-self-signed and chat tls:// --fingerprint: each side receives the other; a wrong pin is FW_TLS', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fw-tls-chat-'));
    const a = start([
      'chat',
      '--listen',
      '127.0.0.1:0',
      '--size',
      '320x240',
      '--json',
      '--duration',
      '6',
      '--tls-self-signed',
      '--tls-dir',
      dir,
    ]);
    try {
      const [, port, fingerprint] = await waitForOutput(
        a.stdout,
        /listening on tls=127\.0\.0\.1:(\d+); .*chat tls:\/\/THIS-MACHINE:\d+ --fingerprint ([0-9A-F:]{95})$/m,
        30_000,
      );
      const wrong = start([
        'chat',
        `tls://127.0.0.1:${port}`,
        '--fingerprint',
        `${(fingerprint as string).startsWith('00') ? '11' : '00'}${(fingerprint as string).slice(2)}`,
        '--duration',
        '2',
      ]);
      assert.equal((await wrong.exited).code, 1);
      assert.match(wrong.stderr(), /FW_TLS/);
      const b = start([
        'chat',
        `tls://127.0.0.1:${port}`,
        '--size',
        '160x120',
        '--json',
        '--duration',
        '3',
        '--fingerprint',
        fingerprint as string,
      ]);
      assert.equal((await b.exited).code, 0, b.stderr());
      const seen = b
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { received: { width: number; fps: number } });
      assert.ok(
        seen.some((l) => l.received.width === 320 && l.received.fps >= 15),
        b.stdout(),
      );
      assert.equal((await a.exited).code, 0, a.stderr());
      const heard = a
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { received: { width: number } });
      assert.ok(
        heard.some((l) => l.received.width === 160),
        'the listener saw the caller',
      );
    } finally {
      a.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
