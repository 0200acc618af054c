// Bundles the web UI (web/src/*.ts) with esbuild into dist/web/assets and
// copies the static pages (web/static) to dist/web. No Node built-ins, nothing from a CDN.
import { build } from 'esbuild';
import { cp, mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/web`;
await rm(out, { recursive: true, force: true });
await mkdir(`${out}/assets`, { recursive: true });
await build({
  entryPoints: ['index', 'view', 'publish'].map((n) => `${root}web/src/${n}.ts`),
  outdir: `${out}/assets`,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
await cp(`${root}web/static`, out, { recursive: true });
console.log(`web UI built into ${out}`);
