import type http from 'node:http';
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { ErrorCodes, FramewireError } from '../errors.js';

/**
 * TLS for the relay's listeners: the certificate (chain) and private key it
 * presents, PEM. The same pair serves `tls://` on the TCP port and HTTPS /
 * WSS on the HTTP port.
 */
export interface TlsServerOptions {
  /** Certificate, PEM (a chain: the server's first). */
  cert: string | Buffer;
  /** Private key, PEM. */
  key: string | Buffer;
}

/**
 * How a client checks the relay it reaches over `tls://` or `wss://`.
 * With none of these, the certificate must chain to the system's CAs and
 * name the host.
 */
export interface TlsClientOptions {
  /** Trust this CA (or this very certificate, for a self-signed relay), PEM, instead of the system's CAs. */
  ca?: string | Buffer | (string | Buffer)[];
  /**
   * Pin the relay's certificate by its SHA-256 fingerprint (colon-hex as
   * `framewire serve` and browsers show it, or plain hex; any case). With a
   * pin the chain need not validate, but the fingerprint must match exactly,
   * or the connection fails with FW_TLS before anything is sent.
   */
  fingerprint?: string;
  /**
   * Check nothing: any certificate, any name, expired or not. The traffic is
   * still encrypted, but anyone on the path can pose as the relay. For tests only.
   */
  insecure?: boolean;
  /** Server name for SNI and the name check, when it differs from the URL's host. */
  servername?: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Normalizes a SHA-256 fingerprint to colon-separated upper-case hex
 * (`AB:CD:…`, as openssl and browsers print it). Accepts colon-hex or plain
 * hex in any case, optionally prefixed `sha256:` / `SHA256=`. Throws
 * FW_BAD_OPTION for anything else.
 */
export function normalizeFingerprint(input: string): string {
  const hex = input
    .trim()
    .replace(/^sha-?256\s*(fingerprint)?\s*[:=]\s*/i, '')
    .replace(/[:\s]/g, '')
    .toLowerCase();
  if (!HEX64.test(hex)) {
    throw new FramewireError(
      ErrorCodes.BAD_OPTION,
      `"${input}" is not a SHA-256 fingerprint: expected 64 hex digits, colon-separated or not`,
    );
  }
  return (hex.match(/../g) as string[]).join(':').toUpperCase();
}

/** The SHA-256 fingerprint (colon-hex, upper case) of a PEM or DER certificate. */
export function certificateFingerprint(cert: string | Buffer): string {
  return new X509Certificate(cert).fingerprint256;
}

/** Checks a client's TLS options; throws FW_BAD_OPTION for contradictions. Returns the pin, normalized, if any. */
function checkClientOptions(o: TlsClientOptions): string | undefined {
  if (o.insecure && o.fingerprint !== undefined) {
    throw new FramewireError(ErrorCodes.BAD_OPTION, 'give a fingerprint or insecure, not both: a pinned certificate is already checked');
  }
  return o.fingerprint === undefined ? undefined : normalizeFingerprint(o.fingerprint);
}

/** Options for {@link connectTls}. */
export interface ConnectTlsOptions {
  host: string;
  port: number;
  tls: TlsClientOptions;
  /** Give up connecting (TCP and TLS handshake) after this long. Default 10 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Opens a TLS connection and checks the relay's certificate before
 * resolving: nothing of ours (hello, token, HTTP upgrade) is written before
 * the check passed. Fails with FW_TLS when the certificate is not trusted or
 * does not match the pin, or the other end does not speak TLS; with
 * FW_CONNECTION_CLOSED when the TCP connection fails or is reset.
 */
export function connectTls(options: ConnectTlsOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const { host, port } = options;
    const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    let pin: string | undefined;
    try {
      pin = checkClientOptions(options.tls);
    } catch (err) {
      reject(err);
      return;
    }
    const verifyChain = pin === undefined && options.tls.insecure !== true;
    const servername = options.tls.servername ?? (net.isIP(host) === 0 ? host : undefined);
    const socket = tls.connect({
      host,
      port,
      ...(servername !== undefined ? { servername } : {}),
      ...(options.tls.ca !== undefined ? { ca: options.tls.ca } : {}),
      rejectUnauthorized: verifyChain,
    });
    let tcpUp = false;
    const timeoutMs = options.timeoutMs ?? 10_000;
    const fail = (err: FramewireError): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onError = (err: NodeJS.ErrnoException): void => fail(handshakeError(err, where, tcpUp));
    const onClose = (): void =>
      fail(
        new FramewireError(ErrorCodes.CONNECTION_CLOSED, `${where} closed the connection during the TLS handshake (is it serving TLS?)`),
      );
    const onAbort = (): void => fail(new FramewireError(ErrorCodes.ABORTED, 'connect aborted'));
    const timer = setTimeout(() => fail(new FramewireError(ErrorCodes.TIMEOUT, `TLS connect to ${where} timed out`)), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('close', onClose);
      options.signal?.removeEventListener('abort', onAbort);
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => (tcpUp = true));
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.once('secureConnect', () => {
      if (pin !== undefined) {
        const got = socket.getPeerCertificate().fingerprint256;
        if (got !== pin) {
          return fail(
            new FramewireError(
              ErrorCodes.TLS,
              `the certificate of ${where} has SHA-256 fingerprint ${got ?? '(none)'}, not the pinned ${pin}; refusing to talk to it`,
            ),
          );
        }
      }
      cleanup();
      resolve(socket);
    });
  });
}

/** Node's certificate verification codes (X509_V_ERR_* names without the prefix) look like this. */
const CERT_ERROR = /^(?:[A-Z0-9]+_)*(?:CERT|CERTIFICATE|SIGNATURE|ISSUER|CHAIN|HOSTNAME|ALTNAME)(?:_[A-Z0-9]+)*$/;

/** Maps an error during connect / handshake to a coded one with a hint. */
function handshakeError(err: NodeJS.ErrnoException, where: string, tcpUp: boolean): FramewireError {
  const code = err.code ?? '';
  if (!tcpUp) return new FramewireError(ErrorCodes.CONNECTION_CLOSED, `cannot connect to ${where}: ${err.message}`, { cause: err });
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return new FramewireError(ErrorCodes.CONNECTION_CLOSED, `${where} reset the connection during the TLS handshake (is it serving TLS?)`, {
      cause: err,
    });
  }
  if (code.startsWith('ERR_SSL_') && /WRONG_VERSION|PACKET_LENGTH|RECORD|UNKNOWN_PROTOCOL|HTTP_REQUEST/.test(code)) {
    return new FramewireError(
      ErrorCodes.TLS,
      `${where} does not speak TLS (${err.message}); is the relay started with --tls-cert/--tls-self-signed?`,
      { cause: err },
    );
  }
  if (CERT_ERROR.test(code) || code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new FramewireError(
      ErrorCodes.TLS,
      `the certificate of ${where} is not trusted (${code}: ${err.message}); give --ca FILE to trust it, or --fingerprint SHA256 (framewire serve prints it)`,
      { cause: err },
    );
  }
  return new FramewireError(ErrorCodes.TLS, `TLS handshake with ${where} failed: ${err.message}`, { cause: err });
}

/** Node TLS server options from ours: TLS 1.2 or newer, and a handshake deadline. */
export function tlsServerOptions(o: TlsServerOptions, handshakeTimeoutMs: number): tls.TlsOptions {
  if (!o.cert || !o.key) throw new FramewireError(ErrorCodes.BAD_OPTION, 'tls needs both cert and key (PEM)');
  return { cert: o.cert, key: o.key, minVersion: 'TLSv1.2', handshakeTimeout: handshakeTimeoutMs };
}

/** A failed TLS handshake on a listener (a plain-TCP or plain-HTTP client, an untrusting client, a timeout). */
export interface TlsClientErrorInfo {
  remote: string;
  transport: string;
  code: string;
  message: string;
}

/**
 * Closes a socket whose TLS handshake failed and reports it: nothing but a
 * TLS alert (or nothing at all) goes back, and the listener stays up.
 */
export function onTlsClientError(server: tls.Server, transport: string, report?: (e: TlsClientErrorInfo) => void): void {
  server.on('tlsClientError', (err: NodeJS.ErrnoException & { reason?: string }, socket: tls.TLSSocket) => {
    socket.destroy();
    const a = socket.remoteAddress ?? '?';
    report?.({
      remote: `${a.includes(':') ? `[${a}]` : a}:${socket.remotePort ?? '?'}`,
      transport,
      code: ErrorCodes.TLS,
      message: `TLS handshake failed: ${err.reason ?? err.message}${err.code ? ` (${err.code})` : ''}`,
    });
  });
}

/** An HTTPS server (for the relay's HTTP port) whose failed handshakes are closed quietly. */
export function createHttpsServer(
  o: TlsServerOptions,
  handshakeTimeoutMs: number,
  handler: RequestListener<typeof IncomingMessage, typeof ServerResponse>,
  httpOptions: http.ServerOptions = {},
): https.Server {
  const server = https.createServer({ ...httpOptions, ...tlsServerOptions(o, handshakeTimeoutMs) }, handler);
  onTlsClientError(server, 'https');
  return server;
}
