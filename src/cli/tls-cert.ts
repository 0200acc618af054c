/**
 * The relay's self-signed certificate for `framewire serve --tls-self-signed`:
 * made once by the `openssl` command (EC P-256, SHA-256, 365 days), kept in a
 * directory, and made again only when the names it must cover changed, when
 * it expires within a day, or when the files do not match. Node's own
 * X509Certificate reads it back (names, expiry, fingerprint).
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ErrorCodes, FramewireError } from '../index.js';

/** Names and addresses a certificate covers: DNS names and IP addresses (canonical form). */
export type CertNames = string[];

/** A certificate ready to serve, and where it lives. */
export interface StoredCertificate {
  cert: Buffer;
  key: Buffer;
  certFile: string;
  keyFile: string;
  /** SHA-256 of the certificate, colon-hex upper case (as browsers and openssl show it). */
  fingerprint: string;
  /** SHA-256 of the certificate's public key (SubjectPublicKeyInfo), base64: Chromium's --ignore-certificate-errors-spki-list. */
  spkiSha256: string;
  names: CertNames;
  validTo: Date;
  /** True when it was made now; false when the stored one was reused. */
  made: boolean;
  /** Why it was made (no certificate yet, names changed, expiring), when made. */
  reason?: string;
}

/** Days a new certificate is valid. */
const VALID_DAYS = 365;
/** A certificate that expires sooner than this is made again. */
const RENEW_BEFORE_MS = 24 * 3600_000;

/** Where `--tls-self-signed` keeps its certificate by default: `$XDG_CONFIG_HOME/framewire/tls`, else `~/.framewire/tls`. */
export function defaultTlsDir(env: Record<string, string | undefined> = process.env, home: string = os.homedir()): string {
  return env.XDG_CONFIG_HOME ? path.join(env.XDG_CONFIG_HOME, 'framewire', 'tls') : path.join(home, '.framewire', 'tls');
}

/** An IP address in one spelling (IPv6 compressed, lower case), or undefined when `s` is no IP. */
function canonicalIp(s: string): string | undefined {
  const family = net.isIP(s);
  if (family === 0) return undefined;
  return new net.SocketAddress({ address: s, family: family === 6 ? 'ipv6' : 'ipv4' }).address;
}

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * The names a relay listening on `host` answers to: the host itself,
 * localhost, 127.0.0.1 and ::1, and on a wildcard address (0.0.0.0, ::) also
 * this machine's host name and every interface address. Sorted, no duplicates.
 */
export function relayNames(
  host: string,
  machine: { hostname: string; interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> } = {
    hostname: os.hostname(),
    interfaces: os.networkInterfaces(),
  },
): CertNames {
  const names = new Set<string>(['localhost', '127.0.0.1', '::1']);
  const add = (n: string): void => {
    const ip = canonicalIp(n);
    if (ip !== undefined) {
      if (ip !== '0.0.0.0' && ip !== '::') names.add(ip);
    } else if (DNS_NAME.test(n.toLowerCase())) names.add(n.toLowerCase());
  };
  add(host);
  if (canonicalIp(host) === '0.0.0.0' || canonicalIp(host) === '::') {
    add(machine.hostname);
    for (const list of Object.values(machine.interfaces)) for (const i of list ?? []) add(i.address);
  }
  return [...names].sort();
}

/** The names a certificate covers, from its subjectAltName, canonical and sorted. */
export function certificateNames(cert: X509Certificate): CertNames {
  const out = new Set<string>();
  for (const entry of (cert.subjectAltName ?? '').split(/,\s*/)) {
    const m = /^(DNS|IP Address):(.+)$/.exec(entry.trim());
    if (!m) continue;
    const v = m[1] === 'DNS' ? (m[2] as string).toLowerCase() : canonicalIp(m[2] as string);
    if (v) out.add(v);
  }
  return [...out].sort();
}

/**
 * The certificate in `dir` (cert.pem, key.pem) if it covers exactly `names`,
 * is valid for at least another day and matches its key; otherwise a new one,
 * written there (key readable by the owner only). Needs the `openssl`
 * command (or OPENSSL_PATH) only when it makes one.
 */
export async function selfSignedCertificate(dir: string, names: CertNames, now: Date = new Date()): Promise<StoredCertificate> {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  const want = [...new Set(names)].sort();
  const reason = await reuseProblem(certFile, keyFile, want, now);
  if (reason === undefined) return describe(certFile, keyFile, false);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmpCert = `${certFile}.${process.pid}.tmp`;
  const tmpKey = `${keyFile}.${process.pid}.tmp`;
  try {
    await makeCertificate(tmpCert, tmpKey, want);
    await chmod(tmpKey, 0o600);
    await rename(tmpKey, keyFile);
    await rename(tmpCert, certFile);
  } finally {
    await rm(tmpCert, { force: true });
    await rm(tmpKey, { force: true });
  }
  return { ...(await describe(certFile, keyFile, true)), reason };
}

/** Undefined when the stored pair can be reused, else why not. */
async function reuseProblem(certFile: string, keyFile: string, names: CertNames, now: Date): Promise<string | undefined> {
  let cert: X509Certificate;
  let key: Buffer;
  try {
    cert = new X509Certificate(await readFile(certFile));
    key = await readFile(keyFile);
  } catch {
    return 'no certificate yet';
  }
  const have = certificateNames(cert);
  if (have.join(',') !== names.join(',')) return `the names changed (was ${have.join(', ')})`;
  if (new Date(cert.validTo).getTime() - now.getTime() < RENEW_BEFORE_MS) return `it expired or expires soon (${cert.validTo})`;
  if (new Date(cert.validFrom).getTime() > now.getTime()) return `it is not valid yet (${cert.validFrom})`;
  try {
    if (!cert.checkPrivateKey(createPrivateKey(key))) return 'key.pem does not match cert.pem';
  } catch {
    return 'key.pem is not a private key';
  }
  return undefined;
}

async function describe(certFile: string, keyFile: string, made: boolean): Promise<StoredCertificate> {
  const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
  const x = new X509Certificate(cert);
  return {
    cert,
    key,
    certFile,
    keyFile,
    fingerprint: x.fingerprint256,
    spkiSha256: spkiSha256(x),
    names: certificateNames(x),
    validTo: new Date(x.validTo),
    made,
  };
}

/** Base64 SHA-256 of a certificate's SubjectPublicKeyInfo (what Chromium's --ignore-certificate-errors-spki-list takes). */
export function spkiSha256(cert: X509Certificate): string {
  return createHash('sha256')
    .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');
}

/** Runs openssl to make an EC P-256 self-signed server certificate for `names`. */
function makeCertificate(certFile: string, keyFile: string, names: CertNames): Promise<void> {
  const san = names.map((n) => (net.isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  const args = [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-sha256',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    String(VALID_DAYS),
    '-subj',
    '/O=framewire/CN=framewire relay',
    '-addext',
    `subjectAltName=${san}`,
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'keyUsage=critical,digitalSignature',
    '-addext',
    'extendedKeyUsage=serverAuth',
  ];
  const openssl = process.env.OPENSSL_PATH || 'openssl';
  return new Promise((resolve, reject) => {
    execFile(openssl, args, { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(
        new FramewireError(
          ErrorCodes.BAD_OPTION,
          missing
            ? `--tls-self-signed needs the openssl command, which was not found (${openssl}); install openssl (apt install openssl, brew install openssl) or set OPENSSL_PATH, or give --tls-cert FILE --tls-key FILE`
            : `openssl could not make a certificate: ${String(stderr).trim().split('\n').pop() ?? err.message}`,
        ),
      );
    });
  });
}
