/**
 * The architecture as a check (DESIGN.md "Components": arrows point down). `npm run
 * lint:architecture` in CI fails on any of these.
 */
/** Backend-specific modules: only the composition roots (and the same backend's modules) import them. */
const ADAPTERS = [
  '^src/postgres/',
  '^src/eventstoredb/',
  '^src/store/(sqlite-|events-db)',
  '^src/crypto/sqlite-',
  '^src/projections/(sqlite-|state-db)',
  '^src/projections/bulk/sqlite-',
];
/** The main thread's composition root, and the bulk reader thread's own (its wiring of a server's log and keys). */
const COMPOSITION_ROOTS = [
  '^src/app/open-ledger\\.ts$',
  '^src/projections/bulk/reader-worker\\.ts$',
  '^src/store/server-log\\.ts$',
];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No cycles: each module can be understood, and replaced, from below.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'src/domain imports nothing of the project outside it (pure decide/evolve rules).',
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/domain/' },
    },
    {
      name: 'ports-stay-below-use-cases',
      severity: 'error',
      comment: 'The store, crypto and projections never import use cases, the API or the CLI.',
      from: { path: '^src/(store|crypto|projections)/', pathNot: COMPOSITION_ROOTS },
      to: { path: '^src/(app|api|cli)/' },
    },
    {
      name: 'read-models-know-no-use-case',
      severity: 'error',
      comment:
        'The projections (their composition roots included: the bulk reader thread wires its own adapters) ' +
        'never import src/app, the jobs, the API or the CLI: a read model knows no use case.',
      from: { path: '^src/projections/' },
      to: { path: '^src/(app|jobs|api|cli)/' },
    },
    {
      name: 'adapters-only-from-composition-roots',
      severity: 'error',
      comment: 'A backend adapter is wired by a composition root, never imported by what runs on the ports.',
      from: { pathNot: [...COMPOSITION_ROOTS, ...ADAPTERS] },
      to: { path: ADAPTERS },
    },
    {
      name: 'use-cases-import-no-job',
      severity: 'error',
      comment: 'Jobs (shredder, batches) react to the log; a use case that imported one would loop back.',
      from: { path: '^src/app/', pathNot: COMPOSITION_ROOTS },
      to: { path: '^src/jobs/' },
    },
    {
      name: 'nothing-below-imports-the-edges',
      severity: 'error',
      comment: 'The API and the CLI are the edges: nothing else imports them.',
      from: { path: '^src/', pathNot: '^src/(api|cli)/' },
      to: { path: '^src/(api|cli)/' },
    },
    {
      name: 'client-stands-alone',
      comment:
        'contact-ledger/client ships to other systems: it imports only its generated types (and openapi-fetch), ' +
        'and nothing of the ledger imports it.',
      severity: 'error',
      from: { path: '^src/client/' },
      to: { path: '^src/', pathNot: '^src/client/' },
    },
    {
      name: 'web-is-presentation',
      severity: 'error',
      comment:
        'src/web (the pages as components, their texts) renders what the use cases answer: it imports their ' +
        'types, never the store, keys, projections, jobs or the edges; the API wires it into express.',
      from: { path: '^src/web/' },
      to: { path: '^src/(store|crypto|projections|jobs|postgres|eventstoredb|api|cli)/' },
    },
    {
      name: 'only-the-edges-import-the-pages',
      severity: 'error',
      comment: 'The pages are an edge of the ledger, as the API and the CLI: no use case or port imports them.',
      from: { path: '^src/', pathNot: '^src/(api|cli|web)/' },
      to: { path: '^src/web/' },
    },
    {
      name: 'nothing-imports-the-client',
      severity: 'error',
      comment: 'The server never depends on its own client (the client is built from the document, not the code).',
      from: { path: '^src/', pathNot: '^src/client/' },
      to: { path: '^src/client/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
