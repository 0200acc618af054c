import { parseArgs } from 'node:util';
import { createToken, DEFAULT_TTL, ErrorCodes, isFramewireError, verifyToken, type Role } from '../index.js';
import { UsageError } from './common.js';

export const tokenHelp = `Usage: framewire token --secret S --stream NAME --role view|publish [--ttl 1h]

Prints a token (a signed JWT, HS256) that lets its holder view, or publish,
one stream on a relay started with "framewire serve --secret S".

Options:
  --secret S      the relay's secret, at least 32 bytes (or FRAMEWIRE_SECRET in the
                  environment, which keeps it out of the process list);
                  make one with: openssl rand -base64 32
  --stream NAME   the stream the token is for; NAME* (e.g. cam-*) for every stream
                  whose name starts with NAME, * for every stream
  --role R        view: watch the stream; publish: send it (and watch it too)
  --ttl T         lifetime: 30s, 10m, 1h, 7d or seconds (default ${DEFAULT_TTL}, at most 3650d);
                  tokens always expire: for a permanent secret use serve --token
  -h, --help      this help

The token alone is printed on stdout (its expiry on stderr), so
  framewire view tcp://relay:7070/cam --token "$(framewire token --stream cam --role view)"
works. A token is checked when a session starts; a session already open is
not cut when its token expires.
`;

export async function tokenCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      secret: { type: 'string' },
      stream: { type: 'string' },
      role: { type: 'string' },
      ttl: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(tokenHelp);
    return;
  }
  if (positionals.length > 0) throw new UsageError(`token takes no arguments, got "${positionals.join(' ')}"`);
  const secret = secretOption(values.secret);
  if (secret === undefined) throw new UsageError('token needs --secret S (or FRAMEWIRE_SECRET)');
  if (values.stream === undefined) throw new UsageError('token needs --stream NAME');
  const role = values.role;
  if (role !== 'view' && role !== 'publish') throw new UsageError(`--role must be view or publish, got "${role ?? ''}"`);
  try {
    const now = Date.now();
    const token = await createToken({ secret, stream: values.stream, role: role satisfies Role, ttl: values.ttl ?? DEFAULT_TTL, now });
    // The expiry as the token itself carries it.
    const { exp } = await verifyToken(token, secret, now);
    process.stdout.write(`${token}\n`);
    process.stderr.write(`${role} token for stream "${values.stream}", expires ${new Date(exp * 1000).toISOString()}\n`);
  } catch (err) {
    if (isFramewireError(err, ErrorCodes.BAD_OPTION)) throw new UsageError(err.message);
    throw err;
  }
}

/** `--secret` if given, else FRAMEWIRE_SECRET (an empty one counts as unset). */
export function secretOption(flag: string | undefined): string | undefined {
  return flag ?? (process.env.FRAMEWIRE_SECRET || undefined);
}
