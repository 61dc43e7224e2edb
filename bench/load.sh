#!/usr/bin/env bash
# Load benchmark: the quickstart (axum-users) against the hand-written baseline
# (examples/baseline.rs), driven by wrk on 127.0.0.1. See BENCHMARKS.md.
#
#   bench/load.sh                 # build, install wrk if missing, run, print the tables
#
# Environment (defaults): DURATION=10 (s per run), CONNECTIONS=64, ROUNDS=2 (A B A B),
# LOGIN_CONNECTIONS=1, FLOOD_LOGINS=64, SERVER_CPU=0, LOAD_CPU=1, MAX_LOAD=0.7 (wait until the
# 1-minute load average is below it, at most LOAD_WAIT=900 s), PYTHON_REFERENCE=1 (when
# python3 can make bench/.venv: argon2-cffi's hashing time and a fastapi-users column; 0: off),
# FASTAPI_USERS=1 (0: argon2-cffi only, no fastapi-users column).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --example quickstart --example baseline

if ! command -v wrk >/dev/null 2>&1; then
    echo "installing wrk (Debian package)" >&2
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
    else
        sudo apt-get install -y wrk >/dev/null || { sudo apt-get update >/dev/null && sudo apt-get install -y wrk >/dev/null; }
    fi
fi
command -v taskset >/dev/null || { echo "taskset (util-linux) is required" >&2; exit 1; }

# Python (optional): argon2-cffi for the bare hashing time, fastapi-users for a third column.
PYTHON_ARGON2=""
FASTAPI_PYTHON=""
if [ "${PYTHON_REFERENCE:-1}" = 1 ] && command -v python3 >/dev/null 2>&1; then
    if [ ! -x bench/.venv/bin/python ]; then
        python3 -m venv bench/.venv >/dev/null 2>&1 || true
    fi
    if [ -x bench/.venv/bin/python ]; then
        bench/.venv/bin/python -c 'import argon2, fastapi_users, aiosqlite, uvicorn' 2>/dev/null \
            || bench/.venv/bin/pip install -q 'fastapi-users[sqlalchemy]==15.0.5' aiosqlite \
                'uvicorn[standard]' argon2-cffi >&2 \
            || echo "pip install failed: no fastapi-users column" >&2
        bench/.venv/bin/python -c 'import argon2' 2>/dev/null && PYTHON_ARGON2=bench/.venv/bin/python
        [ "${FASTAPI_USERS:-1}" = 1 ] \
            && bench/.venv/bin/python -c 'import fastapi_users, aiosqlite, uvicorn' 2>/dev/null \
            && FASTAPI_PYTHON=bench/.venv/bin/python
    fi
fi

exec python3 bench/run.py --argon2-python "$PYTHON_ARGON2" --fastapi-python "$FASTAPI_PYTHON" "$@"
