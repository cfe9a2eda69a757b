#!/usr/bin/env bash
# The test command: every test Switchboard has, on a fresh Debian machine with PostgreSQL running
# and nothing else installed. It installs what is missing (Postfix and Dovecot, Chromium and Node,
# Python's venv, the browser tests' npm packages, cargo-deb), then runs each suite, saying what
# runs and how long it took. A suite that fails does not stop the others; the summary at the end
# names it, and the exit status is non-zero.
#
#   tests/run.sh                      # everything (what .ci/run runs)
#   tests/run.sh rust browser         # some suites: rust browser api-fuzz web-lint packaging bench
#   tests/run.sh --list               # the suites, in the order they run
#   tests/run.sh --install-only       # only install what the (selected) suites need
#
# The Rust tests run with cargo-nextest when it is installed (every test binary built in one
# build, each test in its own process), otherwise with cargo test. Installing needs root (apt,
# dpkg); the package test installs and purges the .deb on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."

suites=(rust browser api-fuzz web-lint packaging bench)

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

selected=()
install_only=""
for arg in "$@"; do
  case "$arg" in
    -h | --help) usage; exit 0 ;;
    --install-only) install_only=yes ;;
    --list) printf '%s\n' "${suites[@]}"; exit 0 ;;
    *)
      if [[ " ${suites[*]} " != *" $arg "* ]]; then
        echo "tests/run.sh: no suite named '$arg' (suites: ${suites[*]})" >&2
        exit 2
      fi
      selected+=("$arg")
      ;;
  esac
done
[ ${#selected[@]} -gt 0 ] || selected=("${suites[@]}")
wants() { [[ " ${selected[*]} " == *" $1 "* ]]; }

# Where cargo puts its builds: the browser harness and the API fuzz are told, since they would
# otherwise look in ./target.
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")

started_all=$(date +%s)
results=()

elapsed() { # SECONDS
  printf '%dm %02ds' $(($1 / 60)) $(($1 % 60))
}

# A step that finds nothing to run exits with this (automake's "skipped").
skipped=77
passed_count=0 failed_count=0 skipped_count=0

# step NAME COMMAND...: runs one step with a progress line before and after it.
step() {
  local name=$1 started code=0 status
  shift
  printf '\n==> %s  [%s]\n' "$name" "$(date -u +%H:%M:%S)"
  started=$(date +%s)
  "$@" || code=$?
  case "$code" in
    0) status=ok; passed_count=$((passed_count + 1)) ;;
    "$skipped") status=skipped; skipped_count=$((skipped_count + 1)) ;;
    *) status=FAILED; failed_count=$((failed_count + 1)) ;;
  esac
  local took=$(($(date +%s) - started))
  printf '<== %s: %s in %s\n' "$name" "$status" "$(elapsed "$took")"
  results+=("$(printf '%-38s %-8s %s' "$name" "$status" "$(elapsed "$took")")")
  [ "$status" != FAILED ]
}

# Set-up: an installer that fails stops the run (every suite after it would fail for that
# reason, not for its own).
setup() {
  local need=()
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "PostgreSQL is not answering on 127.0.0.1:5432 (the tests need it; .ci/run starts it)." >&2
    return 1
  fi
  wants rust && need+=(install-mail.sh)
  { wants browser || wants web-lint || wants bench; } && need+=(install-chromium.sh)
  { wants api-fuzz || wants bench; } && need+=(install-python-venv.sh)
  wants packaging && need+=(install-cargo-deb.sh)
  for installer in "${need[@]}"; do
    echo "-- tests/support/$installer"
    bash "tests/support/$installer" || return 1
  done
  if wants browser && [ ! -d tests/browser/node_modules/playwright-core ]; then
    echo "-- npm ci in tests/browser"
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error) || return 1
  fi
}

rust_tests() {
  if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast || return 1
    # nextest runs no doctests (there are none today); cargo test --doc does, once there are.
    if grep -rqE --include='*.rs' '^\s*//[/!]\s*```' src connectors bench/loadgen/src; then
      cargo test --workspace --doc
    fi
  else
    echo "(cargo-nextest is not installed: cargo test)"
    cargo test --workspace --no-fail-fast
  fi
}

browser_tests() {
  SWITCHBOARD_BIN="$target_dir/debug/switchboard" bash tests/browser/run.sh
}

web_lint() {
  bash tests/web-lint/run.sh
}

step "set-up: installing what is missing" setup || {
  echo "set-up failed: no tests were run" >&2
  exit 1
}
[ -z "$install_only" ] || exit 0
# The set-up is not a suite: the count at the end is of suites only.
passed_count=0

failed=0
wants rust && { step "Rust tests" rust_tests || failed=1; }
wants browser && { step "browser tests (tests/browser)" browser_tests || failed=1; }
wants api-fuzz && { step "API fuzz (tests/api-fuzz)" bash tests/api-fuzz/run.sh || failed=1; }
wants web-lint && { step "web lint (tests/web-lint)" web_lint || failed=1; }
wants packaging && { step "Debian package (tests/packaging)" bash tests/packaging/run.sh || failed=1; }
wants bench && { step "benchmark smoke (bench/ci-quick.sh)" bash bench/ci-quick.sh || failed=1; }

printf '\n==> summary (%s in all)\n' "$(elapsed $(($(date +%s) - started_all)))"
printf '    %s\n' "${results[@]}"
echo "suites: $passed_count passed, $failed_count failed, $skipped_count skipped"
[ "$failed" -eq 0 ]
