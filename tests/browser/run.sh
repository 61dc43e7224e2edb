#!/usr/bin/env bash
# Browser test: serves examples/browser.rs (the app and an "attacker" origin on two free ports of
# 127.0.0.1) and drives Debian's Chromium, headless, through it with playwright-core
# (tests/browser/run.mjs): login form, HttpOnly cookie, protected page, cross-site form posts
# refused by the CSRF check, logout.
#
#   bash tests/browser/run.sh
#
# Installs chromium and chromium-driver with apt-get when /usr/bin/chromium is missing (as root,
# or through sudo), and playwright-core with `npm ci` (it never downloads a browser of its own).
# CHROMIUM=/path/to/chromium uses another binary. On failure the server's log is printed, and
# a screenshot and the page's HTML are left in target/browser-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$PWD/$TARGET_DIR" ;; esac
section() { printf '\n--> %s\n' "$*"; }

if [ ! -x "$CHROMIUM" ]; then
  section "installing chromium and chromium-driver (apt-get)"
  if [ "$(id -u)" = 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "tests/browser/run.sh: $CHROMIUM is missing; install chromium (apt-get install chromium chromium-driver) or set CHROMIUM" >&2
    exit 1
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium chromium-driver >/dev/null
  if [ ! -x "$CHROMIUM" ]; then
    echo "tests/browser/run.sh: installed chromium, but $CHROMIUM is still missing" >&2
    exit 1
  fi
fi
"$CHROMIUM" --version

section "npm ci (playwright-core)"
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)

section "cargo build --example browser"
cargo build --example browser

work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

section "starting the example"
# Port 0: the example picks free ports and prints APP_URL=... and ATTACKER_URL=...
AUTH_BIND=127.0.0.1:0 AUTH_ATTACKER_BIND=127.0.0.1:0 AUTH_COOKIE_SECURE=false \
  AUTH_DATABASE_URL="sqlite://$work/users.db" RUST_LOG="${RUST_LOG:-info,sqlx=warn}" \
  "$TARGET_DIR/debug/examples/browser" >"$work/server.log" 2>&1 &
server=$!
app="" attacker=""
for _ in $(seq 1 300); do
  app="$(sed -n 's/^APP_URL=//p' "$work/server.log")"
  attacker="$(sed -n 's/^ATTACKER_URL=//p' "$work/server.log")"
  [ -n "$app" ] && [ -n "$attacker" ] && break
  if ! kill -0 "$server" 2>/dev/null; then
    echo "tests/browser/run.sh: the example exited before listening:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$app" ] || [ -z "$attacker" ]; then
  echo "tests/browser/run.sh: the example did not start listening within 30 s:" >&2
  cat "$work/server.log" >&2
  exit 1
fi
echo "app $app, attacker $attacker"

section "headless Chromium (tests/browser/run.mjs)"
artifacts="$TARGET_DIR/browser-artifacts"
rm -rf "$artifacts"
if ! APP_URL="$app" ATTACKER_URL="$attacker" CHROMIUM="$CHROMIUM" BROWSER_ARTIFACTS="$artifacts" \
  node tests/browser/run.mjs; then
  echo "--- server log (last 60 lines) ---" >&2
  tail -n 60 "$work/server.log" >&2
  exit 1
fi
