#!/usr/bin/env bash
# Runs only the given test files (npm test runs them all): scripts/mocha-only.sh packages/kafka/test/murmur2.test.ts
set -euo pipefail
cd "$(dirname "$0")/.."
export TS_NODE_PROJECT=tsconfig.tests.json TS_NODE_TRANSPILE_ONLY=true
exec npx mocha --no-config -r ts-node/register -r ./test-support/global-fixtures.js --extension ts --timeout 60000 "$@"
