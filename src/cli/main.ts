import { UsageError, errorLine } from './common.js';
import { chatCommand, chatHelp } from './chat.js';
import { demoCommand, demoHelp } from './demo.js';
import { publishCommand, publishHelp } from './publish.js';
import { serveCommand, serveHelp } from './serve.js';
import { tokenCommand, tokenHelp } from './token.js';
import { viewCommand, viewHelp } from './view.js';

const help = `framewire — live video over the network with the least latency a socket allows

Usage: framewire <command> [options]

Commands:
  demo       relay + test-pattern publisher + viewer stats in one process
  serve      run a relay
  publish    send a source (default: a test pattern) to a relay
  view       watch a stream and report fps, bitrate, latency and losses
  chat       two-way video between two machines, one command on each side
  token      make a token for one stream and role (for serve --secret)

Run "framewire <command> --help" for a command's options.
`;

const commands: Record<string, { run: (argv: string[]) => Promise<void>; help: string }> = {
  demo: { run: demoCommand, help: demoHelp },
  serve: { run: serveCommand, help: serveHelp },
  publish: { run: publishCommand, help: publishHelp },
  view: { run: viewCommand, help: viewHelp },
  chat: { run: chatCommand, help: chatHelp },
  token: { run: tokenCommand, help: tokenHelp },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write('framewire 0.1.0\n');
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`framewire: unknown command "${name}"\n\n${help}`);
    return 2;
  }
  try {
    await cmd.run(rest);
    return 0;
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`framewire ${name}: ${errorLine(err)}\n`);
    if (usage) {
      process.stderr.write(`Run "framewire ${name} --help" for usage.\n`);
      return 2;
    }
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Sockets or timers may outlive a command that ended on purpose; stdout and
    // stderr are synchronous for files and pipes on Linux, so nothing is cut.
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`framewire: ${String(err)}\n`);
    process.exit(1);
  },
);
