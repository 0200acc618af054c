// Checks the import rules (npm run check:deps) and Biome (npm run lint), then runs node's test runner over every
// dist/test/**/*.test.js (helpers and fixtures are not tests). Node 20's --test takes no globs, so list them here.
// Extra arguments are passed to node (e.g. --test-name-pattern=...).
// Then the Python client's pytest suite (clients/python/tests), against the
// relay just built; it is skipped, saying so, only where /usr/bin/python3 or
// pytest is absent, or when extra arguments pick node tests.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? find(join(dir, e.name)) : e.name.endsWith('.test.js') ? [join(dir, e.name)] : [],
  );
}

// The import rules (.dependency-cruiser.cjs: no circles, a pure core, cli and web on the public API) first;
// the tests run whatever it finds, and either failing fails the run.
const deps = spawnSync('npm', ['run', '--silent', 'check:deps'], { stdio: 'inherit' });
// Then Biome (npm run lint: formatting and lint rules of biome.jsonc), reported the same way.
const lint = spawnSync('npm', ['run', '--silent', 'lint'], { stdio: 'inherit' });

const files = find('dist/test').sort();
const extra = process.argv.slice(2);
// No test may hang CI: each has at most 2 minutes unless it says otherwise, and
// a file whose test left a socket or child open still exits when it is done.
const r = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-timeout=120000', '--test-force-exit', ...extra, ...files],
  { stdio: 'inherit' },
);
const nodeStatus = r.status ?? 1;

const PYTHON = '/usr/bin/python3';
let pyStatus = 0;
if (extra.length > 0) {
  process.stdout.write('# pytest (clients/python/tests) not run: extra arguments select node tests\n');
} else if (spawnSync(PYTHON, ['-c', 'import pytest'], { stdio: 'ignore' }).status !== 0) {
  process.stdout.write(`# pytest (clients/python/tests) skipped: ${PYTHON} or its pytest is not installed (apt install python3-pytest)\n`);
} else {
  const py = spawnSync(PYTHON, ['-m', 'pytest', '-p', 'no:cacheprovider', '-q', '-rs', 'clients/python/tests'], {
    stdio: 'inherit',
    timeout: 15 * 60_000,
  });
  pyStatus = py.status ?? 1;
}
if (deps.status !== 0) console.error('\nnpm run check:deps failed: the import rules are broken (its report is above the tests)');
if (lint.status !== 0) console.error('\nnpm run lint failed: Biome found problems (report above; npx biome check --write fixes most)');
process.exit(nodeStatus !== 0 ? nodeStatus : pyStatus !== 0 ? pyStatus : deps.status !== 0 || lint.status !== 0 ? 1 : 0);
