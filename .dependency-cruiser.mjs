// Import directions of the pipeline (README "Layout"): each folder of lambda/ imports only from
// the folders before it, so a reader can follow config -> snapshot -> collect -> checks -> report
// -> deliver -> run, and a change in a later stage can never break an earlier one.
// `npm run lint` runs this; `npm run lint:imports` runs it alone.
const STAGES = ['config', 'snapshot', 'collect', 'checks', 'report', 'deliver', 'run'];
const later = (stage) => STAGES.slice(STAGES.indexOf(stage) + 1);

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'An import cycle hides which module comes first; split the shared part out. (A cycle only through type imports erases at run time and is allowed.)',
      from: { path: '^lambda/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    ...STAGES.slice(0, -1).map((stage) => ({
      name: `${stage}-imports-only-earlier-stages`,
      severity: 'error',
      comment: `lambda/${stage}/ may import only from ${STAGES.slice(0, STAGES.indexOf(stage) + 1).join(', ')}.`,
      from: { path: `^lambda/${stage}/` },
      to: { path: `^lambda/(${later(stage).join('|')})/` },
    })),
    {
      name: 'checks-never-import-collectors',
      severity: 'error',
      comment:
        'A check is a pure function of the snapshot: what it needs from a collector belongs in snapshot/.',
      from: { path: '^lambda/checks/' },
      to: { path: '^lambda/collect/' },
    },
    {
      name: 'report-is-pure-rendering',
      severity: 'error',
      comment:
        'Renderers take the report model and check metadata; they never run checks or reach the collectors.',
      from: { path: '^lambda/report/' },
      to: { path: '^lambda/(collect/|checks/runner\\.ts$)' },
    },
    {
      name: 'lambda-is-self-contained',
      severity: 'error',
      comment: 'Shipped code never imports tests, benchmarks or infrastructure.',
      from: { path: '^lambda/' },
      to: { path: '^(test|bench|infra)/' },
    },
    {
      name: 'no-loose-files-in-lambda',
      severity: 'error',
      comment: 'Every module lives in its pipeline stage folder.',
      from: { path: '^lambda/[^/]+\\.ts$' },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|cdk\\.out|dist)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
    moduleSystems: ['es6'],
  },
};
