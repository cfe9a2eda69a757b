#!/usr/bin/env bash
# The browser tests drive Debian's Chromium with playwright-core (an npm package, installed by
# tests/run.sh or tests/browser/run.sh); nothing to do when Chromium and Node are there.
set -euo pipefail
source "$(dirname "$0")/apt.sh"
[ -x /usr/bin/chromium ] || apt_install chromium
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
/usr/bin/chromium --version
echo "node $(node --version), npm $(npm --version)"
