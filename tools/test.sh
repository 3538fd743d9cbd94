#!/usr/bin/env bash
# The whole test suite: starts the database servers (tools/test-env.sh), then
# runs every test of the workspace with cargo-nextest against them.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${CI:-}" = "true" ]; then export GATEHOUSE_TEST_REQUIRE_ALL=1; fi
. tools/test-env.sh
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  echo "cargo-nextest not found; falling back to cargo test" >&2
  cargo test --workspace --no-fail-fast "$@"
fi
