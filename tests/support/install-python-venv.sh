#!/usr/bin/env bash
# The API fuzz (Schemathesis) and the benchmark's Python peer live in virtualenvs of their own,
# which need Python's venv module (a package of its own on Debian); nothing to do when it works.
set -euo pipefail
# shellcheck source=tests/support/apt.sh
source "$(dirname "$0")/apt.sh"
command -v python3 >/dev/null || apt_install python3
python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
python3 --version
