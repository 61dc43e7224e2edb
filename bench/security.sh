#!/usr/bin/env bash
# Security benchmarks against the release quickstart (see bench/security.py and SECURITY.md):
#
#   bench/security.sh timing      # login / forgot-password latency, known vs unknown e-mail
#   bench/security.sh flood       # 500 concurrent logins: answers, guarded latency, peak RSS
#
# Options after the mode: --tries N, --flood N (see bench/security.py --help).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --example quickstart
exec python3 bench/security.py "$@"
