import { readFileSync } from 'node:fs';
import { FramewireError, normalizeFingerprint, type StatsSnapshot, type TlsClientOptions } from '../index.js';

/** A CLI usage mistake: printed with the command's help hint, exit code 2. */
export class UsageError extends Error {}

/** Parses "WxH". */
export function parseSize(v: string | undefined): { width: number; height: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d{2,5})x(\d{2,5})$/i.exec(v);
  if (!m) throw new UsageError(`--size must look like 1280x720, got "${v}"`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** Parses a number option within a range. */
export function parseNum(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number in [${min}, ${max}], got "${v}"`);
  return n;
}

/**
 * Formats a stats snapshot as one human line. A publisher's meter counts
 * frames sent (latency is capture to sent), so it passes `publisher`.
 */
export function formatStats(label: string, s: StatsSnapshot & { connected?: boolean; live?: boolean }, publisher = false): string {
  const ms = (v: number | null): string => (v === null ? '–' : v.toFixed(1));
  const state = s.connected === false ? ' [reconnecting]' : s.live === false ? ' [no live video]' : '';
  return (
    `${label}${state}  ${s.width}x${s.height}  ${s.fps.toFixed(1)} fps  ${s.kbps} kbps  ` +
    `${publisher ? 'capture→sent' : 'latency'} p50 ${ms(s.latencyP50Ms)} ms p95 ${ms(s.latencyP95Ms)} ms  ` +
    (publisher
      ? `sent ${s.framesReceived} not sent ${s.framesSkipped}`
      : `received ${s.framesReceived} lost ${s.framesLost} skipped ${s.framesSkipped}`) +
    (s.framesDropped ? ` dropped ${s.framesDropped}` : '') +
    (s.rttMs !== null ? `  rtt ${s.rttMs.toFixed(2)} ms` : '')
  );
}

/**
 * Prints a status every second: rewritten in place on a terminal, one line
 * a second otherwise. Returns a stop function.
 */
export function statusLine(render: () => string, stream: NodeJS.WriteStream = process.stderr): () => void {
  const tty = stream.isTTY === true;
  const timer = setInterval(() => {
    const line = render();
    if (tty) stream.write(`\r\x1b[2K${line.slice(0, Math.max(20, (stream.columns ?? 200) - 1))}`);
    else stream.write(`${line}\n`);
  }, 1000);
  return () => {
    clearInterval(timer);
    if (tty) stream.write('\n');
  };
}

/**
 * Runs `stop` on SIGINT/SIGTERM (once), then exits 0. A second signal exits
 * at once with 130.
 */
export function onSignals(stop: () => Promise<void> | void): void {
  let stopping = false;
  const handler = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    Promise.resolve()
      .then(stop)
      .then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`framewire: error while stopping: ${String(err)}\n`);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** Formats an error for one readable line. */
export function errorLine(err: unknown): string {
  if (err instanceof FramewireError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Throws a usage error unless exactly one positional URL was given. */
export function oneUrl(positionals: string[], command: string): string {
  if (positionals.length !== 1) throw new UsageError(`${command} needs one URL, e.g. tcp://127.0.0.1:7070/cam`);
  return positionals[0] as string;
}

/** Makes an AbortSignal that fires after `seconds` (if given). */
export function durationTimer(seconds: number | undefined, onTimeout: () => void): void {
  if (seconds === undefined) return;
  setTimeout(onTimeout, seconds * 1000).unref();
}

/** parseArgs options for how a client checks the relay's TLS certificate (publish, view, chat). */
export const TLS_CLIENT_ARGS = {
  ca: { type: 'string' },
  fingerprint: { type: 'string' },
  insecure: { type: 'boolean', default: false },
} as const;

/** Help lines for {@link TLS_CLIENT_ARGS}. */
export const TLS_CLIENT_HELP = `  --ca FILE       tls:// and wss://: trust this CA or certificate (PEM), e.g. the
                  cert.pem that serve --tls-self-signed prints
  --fingerprint SHA256
                  tls:// and wss://: accept only the certificate with this SHA-256
                  fingerprint (serve prints it; colon-hex or plain hex, any case);
                  the chain is then not checked; another certificate is FW_TLS
  --insecure      tls:// and wss://: check no certificate at all (warns; for tests)
`;

/**
 * The library's TLS options from --ca, --fingerprint and --insecure, or
 * undefined when none was given. Usage errors for a non-TLS URL, an
 * unreadable CA file, a malformed fingerprint or a contradiction; prints the
 * --insecure warning.
 */
export function clientTls(
  values: { ca?: string | undefined; fingerprint?: string | undefined; insecure?: boolean | undefined },
  url: string,
  command: string,
): TlsClientOptions | undefined {
  const given = [
    values.ca !== undefined && '--ca',
    values.fingerprint !== undefined && '--fingerprint',
    values.insecure === true && '--insecure',
  ].filter(Boolean);
  if (given.length === 0) return undefined;
  if (!/^(tls|wss):/i.test(url))
    throw new UsageError(`${given.join(', ')} need${given.length === 1 ? 's' : ''} a tls:// or wss:// URL, not ${url}`);
  if (values.insecure && values.fingerprint !== undefined)
    throw new UsageError('give --fingerprint or --insecure, not both (a pinned certificate is already checked)');
  const tls: TlsClientOptions = {};
  if (values.ca !== undefined) {
    try {
      tls.ca = readFileSync(values.ca);
    } catch (err) {
      throw new UsageError(`--ca: cannot read ${values.ca}: ${(err as Error).message}`);
    }
  }
  if (values.fingerprint !== undefined) {
    try {
      tls.fingerprint = normalizeFingerprint(values.fingerprint);
    } catch (err) {
      throw new UsageError(`--fingerprint: ${(err as Error).message}`);
    }
  }
  if (values.insecure) {
    tls.insecure = true;
    process.stderr.write(
      `framewire ${command}: WARNING: --insecure: the relay's TLS certificate is NOT checked - not who signed it, ` +
        'not the host name, not its expiry. The video is encrypted, but anyone on the path can pose as the relay and ' +
        'read or change it (and take the token). Use --fingerprint or --ca instead.\n',
    );
  }
  return tls;
}
