#!/usr/bin/env bash
# Formatting and lint of web/ (console and widget) with Biome, pinned in package.json. To fix what
# it reports: tests/web-lint/node_modules/.bin/biome check --write --config-path tests/web-lint web
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
[ -x "$here/node_modules/.bin/biome" ] || (cd "$here" && npm ci --no-audit --no-fund)
cd "$here/../.."
"$here/node_modules/.bin/biome" ci --config-path "$here" web
