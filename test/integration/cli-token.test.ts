import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { verifyToken } from '../../src/index.js';
import { BIN, cliRunner, waitForOutput } from '../helpers/cli.js';

const SECRET = 'cli-test-secret-0123456789abcdefgh';
const run = cliRunner();

/** Runs `framewire token ...` to the end; returns its exit code and output. */
async function tokenCmd(args: string[]): Promise<{ code: number | null; token: string; stderr: string }> {
  const p = run(['token', ...args]);
  const { code } = await p.exited;
  return { code, token: p.stdout().trim(), stderr: p.stderr() };
}

describe('framewire token with serve --secret', { timeout: 60_000 }, () => {
  it('prints a token that publish and view use; the wrong role or stream is refused with the reason', async () => {
    const publishTok = await tokenCmd(['--secret', SECRET, '--stream', 'cam', '--role', 'publish', '--ttl', '10m']);
    assert.equal(publishTok.code, 0, publishTok.stderr);
    assert.match(publishTok.token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.match(publishTok.stderr, /publish token for stream "cam", expires \d{4}-/);
    const claims = await verifyToken(publishTok.token, SECRET);
    assert.equal(claims.exp - claims.iat, 600);
    const viewTok = await tokenCmd(['--secret', SECRET, '--stream', 'cam', '--role', 'view']);
    assert.equal(viewTok.code, 0, viewTok.stderr);
    assert.equal((await verifyToken(viewTok.token, SECRET)).role, 'view');

    const serve = run(['serve', '--tcp', '0', '--http', '0', '--secret', SECRET]);
    const [, host, port] = await waitForOutput(serve.stdout, /tcp=([\d.]+):(\d+)/);
    // The hint comes a few lines after the listening line, maybe in a later chunk: wait for it.
    await waitForOutput(serve.stdout, /framewire token/);
    const url = (s: string): string => `tcp://${host}:${port}/${s}`;

    const wrongRole = run(['publish', url('cam'), '--size', '160x120', '--token', viewTok.token, '--no-reconnect']);
    assert.equal((await wrongRole.exited).code, 1);
    assert.match(wrongRole.stderr(), /FW_UNAUTHORIZED: token allows view, not publish/);

    const pub = run(['publish', url('cam'), '--size', '160x120', '--token', publishTok.token]);
    await waitForOutput(serve.stderr, /connect .*role=publish stream=cam/);
    const view = run(['view', `${url('cam')}?token=${viewTok.token}`, '--json', '--duration', '2']);
    assert.equal((await view.exited).code, 0, view.stderr());
    assert.ok(view.stdout().includes('"width":160'), view.stdout());

    const wrongStream = run(['view', url('other'), '--token', viewTok.token, '--json', '--duration', '1']);
    assert.equal((await wrongStream.exited).code, 1);
    assert.match(wrongStream.stderr(), /FW_UNAUTHORIZED: token is for stream "cam", not "other"/);
    const noToken = run(['view', url('cam'), '--json', '--duration', '1']);
    assert.equal((await noToken.exited).code, 1);
    assert.match(noToken.stderr(), /FW_UNAUTHORIZED: this relay needs a token/);

    pub.child.kill('SIGINT');
    assert.equal((await pub.exited).code, 0);
    serve.child.kill('SIGTERM');
    assert.equal((await serve.exited).code, 0);
  });

  it('takes the secret from FRAMEWIRE_SECRET; refuses a short secret, a bad ttl, role or stream', async () => {
    const env = spawnSync(process.execPath, [BIN, 'token', '--stream', 'cam-*', '--role', 'view', '--ttl', '30s'], {
      env: { ...process.env, FRAMEWIRE_SECRET: SECRET },
      encoding: 'utf8',
    });
    assert.equal(env.status, 0, env.stderr);
    const claims = await verifyToken(env.stdout.trim(), SECRET);
    assert.equal(claims.stream, 'cam-*');
    assert.equal(claims.exp - claims.iat, 30);

    for (const [args, why] of [
      [['--secret', 'short', '--stream', 'cam', '--role', 'view'], /at least 32 bytes/],
      [['--secret', SECRET, '--stream', 'cam', '--role', 'view', '--ttl', '0'], /ttl must be a positive duration/],
      [['--secret', SECRET, '--stream', 'cam', '--role', 'view', '--ttl', '2w'], /ttl must be a positive duration/],
      [['--secret', SECRET, '--stream', 'cam', '--role', 'admin'], /--role must be view or publish/],
      [['--secret', SECRET, '--stream', 'a/b', '--role', 'view'], /stream must be a stream name/],
      [['--secret', SECRET, '--role', 'view'], /needs --stream/],
    ] as const) {
      const r = await tokenCmd([...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, why);
      assert.equal(r.token, '');
    }
    const noSecret = spawnSync(process.execPath, [BIN, 'token', '--stream', 'cam', '--role', 'view'], {
      env: { ...process.env, FRAMEWIRE_SECRET: '' },
      encoding: 'utf8',
    });
    assert.equal(noSecret.status, 2);
    assert.match(noSecret.stderr, /needs --secret/);

    const shortServe = run(['serve', '--tcp', '0', '--http', '0', '--secret', 'short']);
    assert.equal((await shortServe.exited).code, 1);
    assert.match(shortServe.stderr(), /FW_BAD_OPTION: the secret must be at least 32 bytes/);
    const help = run(['--help']);
    await help.exited;
    assert.match(help.stdout(), /token +make a token/);
    const tokenHelp = run(['token', '--help']);
    assert.equal((await tokenHelp.exited).code, 0);
    assert.match(tokenHelp.stdout(), /Usage: framewire token/);
  });
});
