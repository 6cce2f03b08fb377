'use strict';
// Runs one benchmark from its TypeScript source: `npm run bench -- <name>`.
const { join } = require('node:path');

process.env.TS_NODE_PROJECT = join(__dirname, '..', 'tsconfig.tests.json');
process.env.TS_NODE_TRANSPILE_ONLY = 'true';
require('ts-node/register');

const name = process.argv[2];
if (!name) {
  console.error('Name a benchmark: npm run bench -- <name>, one of the folders in benchmarks/');
  process.exit(2);
}
require(join(__dirname, name, 'main.ts'));
