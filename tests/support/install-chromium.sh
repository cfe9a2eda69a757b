#!/usr/bin/env bash
# The browser tests drive Debian's Chromium with playwright-core (an npm package, installed by
# tests/run.sh or tests/browser/run.sh); nothing to do when Chromium and Node are there.
set -euo pipefail
# shellcheck source=tests/support/apt.sh
source "$(dirname "$0")/apt.sh"
[ -x /usr/bin/chromium ] || apt_install chromium
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then apt_install nodejs npm; fi
/usr/bin/chromium --version
echo "node $(node --version), npm $(npm --version)"
