#!/usr/bin/env bash
# The package test builds the .deb with cargo-deb (from crates.io, at a pinned version, about
# two minutes to compile); nothing to do when some version is installed.
set -euo pipefail
version="3.8.0"
cargo deb --version >/dev/null 2>&1 || cargo install --locked --quiet cargo-deb --version "$version"
cargo deb --version
