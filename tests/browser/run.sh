#!/usr/bin/env bash
# Browser tests: the console and the website widget in Debian's headless Chromium.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --quiet --bin switchboard
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund
node --test --test-concurrency=1 --test-timeout=180000 ./*.test.js
echo "screenshots: $(cd ../.. && pwd)/target/screenshots"
