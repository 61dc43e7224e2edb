#!/usr/bin/env bash
# Runs every fuzz target for a bounded time: `bash fuzz/run.sh [SECONDS_PER_TARGET]`
# (default 15, or $FUZZ_SECONDS). Needs the nightly toolchain (`rustup toolchain install
# nightly`); installs cargo-fuzz from crates.io when it is missing.
#
# Seeds are committed in fuzz/seeds/<target>; what a run discovers goes to fuzz/corpus/<target>
# (ignored by git, reused by the next run) and a crash to fuzz/artifacts/<target> (the script then
# fails). The build uses its own target directory, fuzz/target.
#
# Knobs:
#   FUZZ_SANITIZER=address|none   (default none: no AddressSanitizer; the crates under test
#                                  forbid `unsafe`, and the sanitizer build costs minutes more)
#   FUZZ_RELEASE=1                (optimised build with debug assertions: ~3x the build time of
#                                  the default unoptimised one, many times the executions/s)
#   FUZZ_TARGETS="tokens headers" (default: every target)
#   FUZZ_JOBS=N                   (parallel fuzzing processes per target, default 1)
#
# A longer campaign, e.g. an hour per target on every core, optimised, with AddressSanitizer:
#   FUZZ_RELEASE=1 FUZZ_SANITIZER=address FUZZ_JOBS=$(nproc) bash fuzz/run.sh 3600
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-${FUZZ_SECONDS:-15}}"
sanitizer="${FUZZ_SANITIZER:-none}"
jobs="${FUZZ_JOBS:-1}"

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz/run.sh: the nightly toolchain is missing (rustup toolchain install nightly)" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

export CARGO_TARGET_DIR="$PWD/target"
if [ "${FUZZ_RELEASE:-0}" = 1 ]; then
  build=(--sanitizer "$sanitizer" --release --debug-assertions)
else
  build=(--sanitizer "$sanitizer" --dev)
fi
targets="${FUZZ_TARGETS:-$(cargo +nightly fuzz list)}"

echo "==> building the fuzz targets (${build[*]})"
started=$(date +%s)
cargo +nightly fuzz build "${build[@]}"
echo "    built in $(( $(date +%s) - started )) s"

for target in $targets; do
  echo "==> fuzzing $target for ${seconds} s"
  mkdir -p "corpus/$target" "seeds/$target"
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: memory blow-ups are bugs.
  log="$(mktemp)"
  status=0
  cargo +nightly fuzz run "${build[@]}" --jobs "$jobs" "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  grep -E '^(#[0-9]+ +(DONE|INITED)|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$log" >&2
    echo "fuzz/run.sh: $target failed (exit $status); the input is in fuzz/artifacts/$target" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
done
echo "==> fuzzing done: no crash in $(echo $targets | wc -w) targets"
