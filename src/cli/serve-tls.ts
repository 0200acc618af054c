import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TlsServerOptions } from '../index.js';
import { UsageError } from './common.js';
import { defaultTlsDir, relayNames, selfSignedCertificate } from './tls-cert.js';

/** parseArgs options of `framewire serve` for TLS. */
export const SERVE_TLS_ARGS = {
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-self-signed': { type: 'boolean', default: false },
  'tls-dir': { type: 'string' },
} as const;

/** Help lines for {@link SERVE_TLS_ARGS}. */
export const SERVE_TLS_HELP = `  --tls-cert FILE --tls-key FILE
                  serve TLS with this certificate (chain) and key, PEM: the TCP port
                  speaks tls:// only, the HTTP port HTTPS and WSS only (UDP stays plain)
  --tls-self-signed
                  the same with a certificate made for this relay's names (the --host,
                  localhost, 127.0.0.1, ::1, and on 0.0.0.0 the host name and every
                  interface address); kept and reused, made again when the names
                  change or it expires; its SHA-256 fingerprint is printed (needs openssl)
  --tls-dir DIR   where --tls-self-signed keeps cert.pem and key.pem
                  (default $XDG_CONFIG_HOME/framewire/tls, else ~/.framewire/tls)
`;

/** What serve knows about its certificate. */
export interface ServeTls {
  tls: TlsServerOptions;
  certFile: string;
  fingerprint: string;
  /** The certificate signs itself: clients need --fingerprint (or --ca certFile). */
  selfSigned: boolean;
  names: string[];
  /** --tls-self-signed: whether it was made now, and why. */
  made?: { reason: string } | undefined;
  dir?: string | undefined;
}

type Values = {
  'tls-cert'?: string | undefined;
  'tls-key'?: string | undefined;
  'tls-self-signed'?: boolean | undefined;
  'tls-dir'?: string | undefined;
};

/** Reads or makes the certificate the TLS flags ask for; undefined when TLS is off. */
export async function serveTls(values: Values, host: string): Promise<ServeTls | undefined> {
  const certFile = values['tls-cert'];
  const keyFile = values['tls-key'];
  const selfSigned = values['tls-self-signed'] === true;
  if (selfSigned && (certFile !== undefined || keyFile !== undefined))
    throw new UsageError('give --tls-self-signed or --tls-cert/--tls-key, not both');
  if (values['tls-dir'] !== undefined && !selfSigned) throw new UsageError('--tls-dir goes with --tls-self-signed');
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (selfSigned) {
    const dir = path.resolve(values['tls-dir'] ?? defaultTlsDir());
    const c = await selfSignedCertificate(dir, relayNames(host));
    return {
      tls: { cert: c.cert, key: c.key },
      certFile: c.certFile,
      fingerprint: c.fingerprint,
      selfSigned: true,
      names: c.names,
      made: c.made ? { reason: c.reason ?? '' } : undefined,
      dir,
    };
  }
  if (certFile === undefined || keyFile === undefined) return undefined;
  const read = (flag: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new UsageError(`${flag}: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  const cert = read('--tls-cert', certFile);
  const key = read('--tls-key', keyFile);
  let x: X509Certificate;
  try {
    x = new X509Certificate(cert);
  } catch (err) {
    throw new UsageError(`--tls-cert: ${certFile} is not a PEM certificate: ${(err as Error).message}`);
  }
  return {
    tls: { cert, key },
    certFile: path.resolve(certFile),
    fingerprint: x.fingerprint256,
    selfSigned: x.issuer === x.subject,
    names: (x.subjectAltName ?? '').split(/,\s*/).filter(Boolean),
  };
}

/** Lines serve prints about its certificate, after the "listening" line. */
export function serveTlsLines(t: ServeTls): string[] {
  const how = t.made ? `made now: ${t.made.reason}` : t.dir ? 'reused' : 'given';
  return [
    `  tls:     certificate ${t.certFile} (${t.selfSigned ? 'self-signed, ' : ''}${how})`,
    `           for ${t.names.join(', ')}`,
    `  sha256:  ${t.fingerprint}`,
  ];
}

/** What a client adds to trust this relay: `--fingerprint FP` for a self-signed certificate, nothing for a CA-signed one. */
export function clientTrustArgs(t: ServeTls | undefined): string {
  return t?.selfSigned ? ` --fingerprint ${t.fingerprint}` : '';
}
