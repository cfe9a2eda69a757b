#!/usr/bin/env bash
# The browser tests drive Debian's Chromium with playwright-core; nothing to do when it is there.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
command -v node >/dev/null || { apt-get install -y -qq nodejs npm >/dev/null; }
/usr/bin/chromium --version
