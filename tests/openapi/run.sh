#!/usr/bin/env bash
# OpenAPI test: serves examples/quickstart.rs (fresh SQLite file, rate limits off, a bootstrap
# superuser), validates its GET /openapi.json with openapi-spec-validator, then lets schemathesis
# (a property-based API fuzzer driven by the document) send bounded generated requests to every
# operation, with the superuser's bearer token, and fails on any 5xx or any answer the document
# does not describe (status, content type, body schema, required headers).
#
#   bash tests/openapi/run.sh
#
# Both tools are installed (pinned) into a virtualenv at target/openapi-venv, reused afterwards.
# OPENAPI_MAX_EXAMPLES (default 30) bounds the generated cases per operation and phase. On
# failure the server's log is printed; schemathesis prints a reproducing curl command.
set -euo pipefail
cd "$(dirname "$0")/../.."

SCHEMATHESIS_VERSION=4.32.5
VALIDATOR_VERSION=0.9.0
MAX_EXAMPLES="${OPENAPI_MAX_EXAMPLES:-30}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$PWD/$TARGET_DIR" ;; esac
VENV="$TARGET_DIR/openapi-venv"
section() { printf '\n--> %s\n' "$*"; }

section "python tools (schemathesis $SCHEMATHESIS_VERSION, openapi-spec-validator $VALIDATOR_VERSION)"
if ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION" \
  || ! "$VENV/bin/pip" show openapi-spec-validator 2>/dev/null | grep -q "^Version: $VALIDATOR_VERSION$"; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION" "openapi-spec-validator==$VALIDATOR_VERSION"
fi
"$VENV/bin/schemathesis" --version

section "cargo build --example quickstart"
cargo build --example quickstart

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
fail() {
  echo "tests/openapi/run.sh: $*" >&2
  echo "--- server log (last 80 lines) ---" >&2
  tail -n 80 "$work/server.log" >&2 || true
  exit 1
}

section "starting the quickstart"
port="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
admin_email="openapi-admin@example.com"
admin_password="openapi-admin-password"
AUTH_BIND="127.0.0.1:$port" \
AUTH_DATABASE_URL="sqlite://$work/users.db" \
AUTH_SECRET="$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(48))')" \
AUTH_COOKIE_SECURE=false \
AUTH_RATE_LIMITS=off \
AUTH_BOOTSTRAP_SUPERUSER="$admin_email:$admin_password" \
RUST_LOG="${RUST_LOG:-warn}" \
  "$TARGET_DIR/debug/examples/quickstart" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen('$base/health', timeout=1)" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || fail "the quickstart exited"
  sleep 0.2
done

section "validating $base/openapi.json (openapi-spec-validator)"
"$VENV/bin/python" -c "import urllib.request; open('$work/openapi.json', 'wb').write(urllib.request.urlopen('$base/openapi.json').read())" \
  || fail "GET /openapi.json failed"
"$VENV/bin/openapi-spec-validator" "$work/openapi.json" || fail "the document is not valid OpenAPI"

section "superusers for the fuzzer (the bootstrap one promotes three more)"
# The fuzzer may demote or delete the user whose token it sends (PATCH and DELETE /users/{id}
# with an id it has seen, PATCH /users/me with a new password): each destructive operation gets
# its own superuser, and runs after the others.
mapfile -t tokens < <("$VENV/bin/python" - "$base" "$admin_email" "$admin_password" <<'EOF'
import json, sys, urllib.parse, urllib.request
base, email, password = sys.argv[1:4]

def call(method, path, body=None, token=None, form=False):
    headers, data = {}, None
    if token:
        headers["authorization"] = f"Bearer {token}"
    if form:
        data = urllib.parse.urlencode(body).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    return json.load(urllib.request.urlopen(request))

def login(email, password):
    return call("POST", "/auth/jwt/login", {"username": email, "password": password}, form=True)["access_token"]

admin = login(email, password)
print(admin)
for n in range(3):
    user = call("POST", "/auth/register", {"email": f"fuzz-admin-{n}@example.com", "password": password})
    call("PATCH", f"/users/{user['id']}", {"is_superuser": True}, token=admin)
    print(login(user["email"], password))
EOF
)
[ "${#tokens[@]}" = 4 ] || fail "could not set up the superusers"

# One worker: hypothesis' source introspection is not thread-safe on CPython 3.11.
fuzz() {
  local token="$1"
  shift
  # From the scratch directory: schemathesis keeps its replay data in ./.schemathesis.
  (cd "$work" && "$VENV/bin/schemathesis" run "$base/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$MAX_EXAMPLES" \
    --header "Authorization: Bearer $token" \
    --header "Origin: $base" \
    --generation-database none \
    --request-timeout 20 \
    --workers 1 \
    --no-color \
    "$@") || fail "schemathesis found answers that are 5xx or contradict the document ($*)"
}
started=$(date +%s)
section "schemathesis run: every operation but the destructive ones (at most $MAX_EXAMPLES cases per operation and phase)"
fuzz "${tokens[0]}" --exclude-operation-id users_patch_user --exclude-operation-id users_delete_user \
  --exclude-operation-id users_patch_me
section "schemathesis run: PATCH /users/{id}"
fuzz "${tokens[1]}" --include-operation-id users_patch_user
section "schemathesis run: DELETE /users/{id}"
fuzz "${tokens[2]}" --include-operation-id users_delete_user
section "schemathesis run: PATCH /users/me"
fuzz "${tokens[3]}" --include-operation-id users_patch_me
echo "schemathesis: $(( $(date +%s) - started )) s"
