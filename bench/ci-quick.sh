#!/usr/bin/env bash
# CI's benchmark smoke run: every scenario at small sizes (about two minutes once built). It fails
# when a scenario breaks, never because of a number: timings on shared CI machines mean little.
set -euo pipefail
exec "$(dirname "$0")/run" --quick "$@"
