'use strict';
// Tests run from TypeScript sources through ts-node, type-checked beforehand by
// `tsc -p tsconfig.tests.json` (see `npm test`), so ts-node only transpiles.
process.env.TS_NODE_PROJECT = require('node:path').join(__dirname, 'tsconfig.tests.json');
process.env.TS_NODE_TRANSPILE_ONLY = 'true';

module.exports = {
  require: ['ts-node/register', './test-support/global-fixtures.js'],
  extension: ['ts'],
  spec: [
    'packages/*/test/**/*.test.ts',
    'examples/*/test/**/*.test.ts',
    'docs/test/**/*.test.ts',
    'test-support/test/**/*.test.ts',
  ],
  timeout: 60000,
  reporter: 'spec',
  // A test that fails half-way can leave a client or a worker behind (its cleanup could not run); the run must
  // still end and report, not wait for CI's time limit. Tests that prove nothing is left open run in child processes.
  exit: true,
};
