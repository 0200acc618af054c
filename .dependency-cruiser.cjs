// The import rules of docs/DESIGN (layout and import direction), checked by `npm run check:deps`
// (run from `npm test`, so CI runs it). Type-only imports count too: a circle of types is still a circle.
/** Node I/O modules, and the packages that do I/O, the pure layers must not import. */
const IO = [
  '^(node:)?(net|dgram|tls|http|https|http2|fs|fs/promises|child_process|cluster|worker_threads|dns|dns/promises|readline|repl|inspector)$',
  '^ws$',
  '^node_modules/ws/',
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import circles anywhere in src/ (a circle of type-only imports counts: it ties the modules together all the same).',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'pure-core-no-io',
      severity: 'error',
      comment:
        'src/protocol and src/frame are the pure core (they run in the browser too); src/codec does no I/O of its own. ' +
        'None of them imports a Node I/O module or ws. (sharp is allowed in src/codec: it is the JPEG codec; not in protocol or frame.)',
      from: { path: '^src/(protocol|frame|codec)/' },
      to: { path: IO },
    },
    {
      name: 'pure-core-no-sharp',
      severity: 'error',
      comment: 'src/protocol and src/frame run in the browser: no native codec either.',
      from: { path: '^src/(protocol|frame)/' },
      to: { path: ['^sharp$', '^node_modules/sharp/'] },
    },
    {
      name: 'pure-core-no-upper-layers',
      severity: 'error',
      comment: 'src/protocol, src/frame and src/codec are below everything else: they import nothing from transport, relay, client, sources, sinks or cli.',
      from: { path: '^src/(protocol|frame|codec)/' },
      to: { path: '^src/(transport|relay|client|sources|sinks|cli)/' },
    },
    {
      name: 'transport-knows-sockets-not-streams',
      severity: 'error',
      comment: 'src/transport knows sockets, not streams or rooms: it imports nothing from relay, client or cli.',
      from: { path: '^src/transport/' },
      to: { path: '^src/(relay|client|cli)/' },
    },
    {
      name: 'web-uses-public-api',
      severity: 'error',
      comment: 'web/ uses only the public API: src/index.ts or the browser-safe core src/protocol/index.ts.',
      from: { path: '^web/' },
      to: { path: '^src/', pathNot: '^src/(index|protocol/index)\\.ts$' },
    },
    {
      name: 'cli-uses-public-api',
      severity: 'error',
      comment: 'src/cli uses only the public API (src/index.ts) of the rest of src/.',
      from: { path: '^src/cli/' },
      to: { path: '^src/', pathNot: ['^src/cli/', '^src/index\\.ts$'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves (a typo in a path would hide a dependency from the rules above).',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // TypeScript 7 (the native compiler) has no JavaScript API that dependency-cruiser can use, so swc parses.
    parser: 'swc',
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
