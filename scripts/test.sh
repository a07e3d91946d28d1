#!/usr/bin/env bash
# The test suite, after installing what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure.sh npm
npx tsc -p .
npx mocha "$@"
