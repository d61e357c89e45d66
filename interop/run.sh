#!/usr/bin/env bash
# The interop suite: real third-party clients, pinned, against a real `tollgate serve` on 127.0.0.1 with a
# fresh temporary database. Prints one line per client (PASS/FAIL), then `N passed, M failed`; exits
# non-zero if any failed.
#
#   bash interop/run.sh
#
# Environment: TOLLGATE_BIN (default: build with `cargo build -p tollgate` and use target/debug/tollgate),
# INTEROP_KEEP=1 (keep the temporary directory with logs, keys and tokens), INTEROP_SKIP_RUST=1 (no
# jsonwebtoken verifier: it is then a FAIL line).
# Installs into interop/.venv (python3 -m venv; pip install -r python/requirements.txt) and
# interop/node/node_modules (npm ci), re-installing only when the pinned files change.
# A second server, `tollgate serve --dev --tls` (its own folder, a local CA), serves the https-only client
# (okta-jwt-verifier), which trusts the CA through SSL_CERT_FILE / REQUESTS_CA_BUNDLE only.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

passed=0
failed=0
note() { echo "interop: $*" >&2; }

# -- the server binary -----------------------------------------------------------------------------------
if [ -n "${TOLLGATE_BIN:-}" ]; then
  bin=$TOLLGATE_BIN
else
  note "cargo build -p tollgate"
  if ! (cd "$root" && cargo build -q -p tollgate); then
    echo "FAIL build: cargo build -p tollgate failed"
    echo "0 passed, 1 failed"
    exit 1
  fi
  bin=${CARGO_TARGET_DIR:-$root/target}/debug/tollgate
  case $bin in /*) ;; *) bin=$root/$bin ;; esac
fi
if [ ! -x "$bin" ]; then
  echo "FAIL build: no tollgate binary at $bin"
  echo "0 passed, 1 failed"
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-interop.XXXXXX")
server_pid=
https_pid=
cleanup() {
  for pid in "$server_pid" "${limited_pid:-}" "${https_pid:-}"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  if [ "${INTEROP_KEEP:-}" = 1 ]; then note "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/logs"

# -- client environments (installed before the server starts) ----------------------------------------------
sha() { sha256sum "$1" | cut -d' ' -f1; }

python_error=
venv=$here/.venv
req=$here/python/requirements.txt
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
  rm -rf "$venv"
  note "python3 -m venv interop/.venv"
  if ! command -v python3 >/dev/null 2>&1; then
    python_error="python3 not found"
  elif ! python3 -m venv "$venv" >"$work/logs/venv.log" 2>&1; then
    python_error="python3 -m venv failed (on Debian: apt-get install python3-venv): $(tail -n 1 "$work/logs/venv.log")"
    rm -rf "$venv"
  fi
fi
if [ -z "$python_error" ] && [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$(sha "$req")" ]; then
  note "pip install -r interop/python/requirements.txt"
  if "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" >"$work/logs/pip.log" 2>&1; then
    sha "$req" >"$venv/.requirements.sha256"
  else
    python_error="pip install -r interop/python/requirements.txt failed: $(grep -m1 -i error "$work/logs/pip.log" || tail -n 1 "$work/logs/pip.log")"
  fi
fi
[ -n "$python_error" ] && note "$python_error"

node_error=
nodedir=$here/node
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  node_error="node/npm not found (on Debian: apt-get install nodejs npm)"
elif [ "$(cat "$nodedir/node_modules/.lock.sha256" 2>/dev/null)" != "$(sha "$nodedir/package-lock.json")" ]; then
  note "npm ci (interop/node)"
  if (cd "$nodedir" && npm ci --no-audit --no-fund --loglevel=error) >"$work/logs/npm.log" 2>&1; then
    sha "$nodedir/package-lock.json" >"$nodedir/node_modules/.lock.sha256"
  else
    node_error="npm ci failed: $(grep -m1 -i 'err' "$work/logs/npm.log" || tail -n 1 "$work/logs/npm.log")"
  fi
fi
[ -n "$node_error" ] && note "$node_error"

rust_error=
target_dir=${CARGO_TARGET_DIR:-$root/target}
case $target_dir in /*) ;; *) target_dir=$root/$target_dir ;; esac
if [ "${INTEROP_SKIP_RUST:-}" = 1 ]; then
  rust_error="skipped (INTEROP_SKIP_RUST=1)"
else
  note "cargo build (interop/rust: jsonwebtoken)"
  if ! CARGO_TARGET_DIR=$target_dir cargo build -q --locked --manifest-path "$here/rust/Cargo.toml" \
    >"$work/logs/rust-build.log" 2>&1; then
    rust_error="cargo build of interop/rust failed: $(grep -m1 '^error' "$work/logs/rust-build.log" || tail -n 1 "$work/logs/rust-build.log")"
  fi
fi
[ -n "$rust_error" ] && note "$rust_error"
jsonwebtoken_v=$(sed -n '/^name = "jsonwebtoken"$/{n;s/^version = "\(.*\)"$/\1/p}' "$here/rust/Cargo.lock")

py_version() { "$venv/bin/python" -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null || echo '?'; }
npm_version() { node -p "require('$nodedir/node_modules/$1/package.json').version" 2>/dev/null || echo '?'; }

# -- the server ----------------------------------------------------------------------------------------------
admin_token="interop-admin-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
# Only this suite's settings: nothing from the caller's TOLLGATE_* environment.
env -u TOLLGATE_CONFIG -u TOLLGATE_ISSUER -u TOLLGATE_LISTEN -u TOLLGATE_DATABASE_URL \
  TOLLGATE_ADMIN_TOKEN="$admin_token" TOLLGATE_LOG="${TOLLGATE_LOG:-warn}" \
  "$bin" serve --listen 127.0.0.1:0 --database "sqlite://$work/tollgate.db" \
  >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
issuer=
for _ in $(seq 1 300); do
  issuer=$(sed -n 's/^tollgate listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$work/server.out" | head -n 1)
  [ -n "$issuer" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$issuer" ]; then
  echo "FAIL server: tollgate serve did not start: $(tail -n 3 "$work/server.err" | tr '\n' ' ')"
  echo "0 passed, 1 failed"
  exit 1
fi
note "tollgate serve at $issuer"

if ! python3 "$here/setup.py" "$issuer" "$admin_token" "$bin" "$work" >"$work/logs/setup.log" 2>&1; then
  echo "FAIL setup: registering the apps failed: $(tail -n 1 "$work/logs/setup.log")"
  echo "0 passed, 1 failed"
  exit 1
fi
app() { python3 -c "import json,sys; print(json.load(open('$work/state.json'))['apps'][sys.argv[1]][sys.argv[2]])" "$1" "$2"; }

# A `default` token of the runner's own (client_secret_basic with curl), so that the verifiers have one to
# check even when every client fails.
curl -fsS -u "$(app introspector-default client_id):$(app introspector-default client_secret)" \
  -d grant_type=client_credentials -d scope=api.read "$issuer/oauth2/default/v1/token" 2>"$work/logs/runner-token.log" |
  sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p' >"$work/tokens/runner.default.jwt"
[ -s "$work/tokens/runner.default.jwt" ] || rm -f "$work/tokens/runner.default.jwt"

# -- the clients ---------------------------------------------------------------------------------------------
# run_client NAME LABEL SKIP_REASON COMMAND...: runs COMMAND (its last output line is the summary or the
# reason) and prints one PASS/FAIL line.
run_client() {
  local name=$1 label=$2 skip=$3
  shift 3
  if [ -n "$skip" ]; then
    echo "FAIL $label: $skip"
    failed=$((failed + 1))
    return
  fi
  local log=$work/logs/$name.log rc
  timeout 180 "$@" >"$log" 2>&1
  rc=$?
  local last
  last=$(grep -v '^[[:space:]]*$' "$log" | tail -n 1)
  if [ $rc -eq 0 ]; then
    echo "PASS $label: $last"
    passed=$((passed + 1))
  else
    [ $rc -eq 124 ] && last="timed out after 180 s"
    echo "FAIL $label: ${last:-exit code $rc}"
    failed=$((failed + 1))
    sed 's/^/    | /' "$log" | tail -n 30 >&2
  fi
}

curl_v=$(curl --version | head -n 1 | cut -d' ' -f2)
openssl_v=$(openssl version | cut -d' ' -f2)
run_client curl-recipe "openssl+curl recipe (curl $curl_v, OpenSSL $openssl_v)" "" \
  bash "$here/curl/recipe.sh" "$issuer" "$(app curl-recipe client_id)" "$(app curl-recipe pem)" \
  "$work/tokens/curl-recipe.org.jwt"
run_client oag-recipe "Access Gateway openssl+curl recipe (curl $curl_v, OpenSSL $openssl_v)" "" \
  bash "$here/curl/oag-recipe.sh" "$issuer" "$(app oag-recipe client_id)" "$(app oag-recipe pem)"

export OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true
run_client okta-sdk "okta-python-sdk (okta==$(py_version okta))" "$python_error" \
  "$venv/bin/python" "$here/python/client_okta_sdk.py" "$work"

run_client openid-client "openid-client (openid-client@$(npm_version openid-client))" "$node_error" \
  node "$nodedir/openid_client.mjs" "$work"

run_client okta-sdk-ssws "okta-python-sdk SSWS mode + System Log (okta==$(py_version okta))" "$python_error" \
  "$venv/bin/python" "$here/python/client_okta_sdk_ssws.py" "$work" "$admin_token"

run_client okta-sdk-policies "okta-python-sdk custom server policy, rule and claim (okta==$(py_version okta))" "$python_error" \
  "$venv/bin/python" "$here/python/client_okta_sdk_policies.py" "$work" "$admin_token"

run_client okta-sdk-dpop "okta-python-sdk DPoP (okta==$(py_version okta), dpopEnabled)" "$python_error" \
  "$venv/bin/python" "$here/python/client_okta_sdk_dpop.py" "$work"

run_client openid-client-dpop "openid-client DPoP (openid-client@$(npm_version openid-client), getDPoPHandle)" "$node_error" \
  node "$nodedir/openid_client_dpop.mjs" "$work"

run_client authlib "authlib (Authlib==$(py_version authlib))" "$python_error" \
  "$venv/bin/python" "$here/python/client_authlib.py" "$work"

run_client pyjwt "pyjwt verifier (PyJWT==$(py_version pyjwt))" "$python_error" \
  "$venv/bin/python" "$here/python/verify_pyjwt.py" "$work"

run_client jose "jose verifier (jose@$(npm_version jose))" "$node_error" \
  node "$nodedir/verify_jose.mjs" "$work"

run_client okta-node-sdk-logs "okta-sdk-nodejs System Log (@okta/okta-sdk-nodejs@$(npm_version @okta/okta-sdk-nodejs), systemLogApi.listLogEvents)" "$node_error" \
  node "$nodedir/okta_sdk_logs.mjs" "$work" "$admin_token"

# -- an https-only client against `tollgate serve --dev --tls` ----------------------------------------------
# A second server, in its own folder: it makes a local CA and a localhost certificate there (tollgate-demo/)
# and prints how to trust the CA. The token comes from the tollgate CLI, which trusts the CA through
# SSL_CERT_FILE; okta-jwt-verifier (https issuers only) trusts it through the environment alone.
https_error=
https_issuer=
mkdir -p "$work/https"
(cd "$work/https" && exec env -u TOLLGATE_CONFIG -u TOLLGATE_ISSUER -u TOLLGATE_LISTEN -u TOLLGATE_DATABASE_URL \
  -u TOLLGATE_ADMIN_TOKEN TOLLGATE_LOG="${TOLLGATE_LOG:-warn}" \
  "$bin" serve --dev --tls --listen 127.0.0.1:0 --database "sqlite://$work/https/tollgate.db" \
  >"$work/https/server.out" 2>"$work/https/server.err") &
https_pid=$!
for _ in $(seq 1 300); do
  grep -q '^demo flow' "$work/https/server.out" 2>/dev/null && break
  kill -0 "$https_pid" 2>/dev/null || break
  sleep 0.1
done
https_issuer=$(sed -n 's/^tollgate listening on \(https:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$work/https/server.out" | head -n 1)
ca_file=$work/https/tollgate-demo/ca.pem
if [ -z "$https_issuer" ] || [ ! -s "$ca_file" ]; then
  https_error="tollgate serve --dev --tls did not start: $(tail -n 3 "$work/https/server.err" | tr '\n' ' ')"
elif ! grep -q "SSL_CERT_FILE=$ca_file" "$work/https/server.out"; then
  https_error="serve --dev --tls did not print how to trust $ca_file"
else
  demo_client=$(sed -n 's/.*service app: client_id \([^,]*\),.*/\1/p' "$work/https/server.out" | head -n 1)
  if ! SSL_CERT_FILE=$ca_file "$bin" token --org "$https_issuer" --client-id "$demo_client" \
    --private-key "$work/https/tollgate-demo/demo-service.pem" --scopes okta.users.read \
    >"$work/https/https.org.jwt" 2>"$work/logs/https-token.log"; then
    https_error="tollgate token over https (SSL_CERT_FILE) failed: $(tail -n 1 "$work/logs/https-token.log")"
  fi
fi
[ -n "$https_error" ] || https_error=$python_error
run_client okta-jwt-verifier "okta-jwt-verifier over https (okta-jwt-verifier==$(py_version okta-jwt-verifier), serve --dev --tls)" "$https_error" \
  env -u OKTA_TESTING_TESTINGDISABLEHTTPSCHECK SSL_CERT_FILE="$ca_file" REQUESTS_CA_BUNDLE="$ca_file" \
  "$venv/bin/python" "$here/python/verify_okta_jwt_verifier.py" "$https_issuer" "$work/https/https.org.jwt"

mkdir -p "$work/jwks"
curl -fsS "$issuer/oauth2/v1/keys" -o "$work/jwks/org.json" 2>>"$work/logs/jwks.log" &&
  curl -fsS "$issuer/oauth2/default/v1/keys" -o "$work/jwks/default.json" 2>>"$work/logs/jwks.log" ||
  rust_error=${rust_error:-"could not fetch the JWKS: $(tail -n 1 "$work/logs/jwks.log")"}
run_client jsonwebtoken "jsonwebtoken verifier (Rust jsonwebtoken $jsonwebtoken_v)" "$rust_error" \
  "$target_dir/debug/tollgate-interop-jsonwebtoken" "$work"

# -- rate limits: a second server with a tiny users bucket (2 calls per 3 s window for the API token) -------
limited_pid=
limited=
mkdir -p "$work/limited"
printf '[rate_limits]\nwindow_seconds = 3\nusers = 4\n' >"$work/limited/tollgate.toml"
env -u TOLLGATE_ISSUER -u TOLLGATE_LISTEN -u TOLLGATE_DATABASE_URL \
  TOLLGATE_ADMIN_TOKEN="$admin_token" TOLLGATE_LOG="${TOLLGATE_LOG:-warn}" \
  "$bin" serve --listen 127.0.0.1:0 --database "sqlite://$work/limited/tollgate.db" \
  --config "$work/limited/tollgate.toml" >"$work/limited/server.out" 2>"$work/limited/server.err" &
limited_pid=$!
for _ in $(seq 1 300); do
  limited=$(sed -n 's/^tollgate listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$work/limited/server.out" | head -n 1)
  [ -n "$limited" ] && break
  kill -0 "$limited_pid" 2>/dev/null || break
  sleep 0.1
done
limited_error=
[ -z "$limited" ] && limited_error="the rate-limited tollgate serve did not start: $(tail -n 1 "$work/limited/server.err")"
run_client okta-sdk-ratelimit "okta-python-sdk backs off on 429s (okta==$(py_version okta))" \
  "${python_error:-$limited_error}" "$venv/bin/python" "$here/python/client_okta_sdk_ratelimit.py" "$limited" "$admin_token"
run_client okta-sdk-node-ratelimit "okta-sdk-nodejs backs off on 429s (@okta/okta-sdk-nodejs@$(npm_version @okta/okta-sdk-nodejs))" \
  "${node_error:-$limited_error}" node "$nodedir/okta_sdk_ratelimit.mjs" "$limited" "$admin_token"
if [ -n "$limited_pid" ] && kill -0 "$limited_pid" 2>/dev/null; then
  kill -TERM "$limited_pid" 2>/dev/null
  wait "$limited_pid" 2>/dev/null
fi

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "FAIL server: tollgate serve exited during the suite: $(tail -n 3 "$work/server.err" | tr '\n' ' ')"
  failed=$((failed + 1))
fi
if [ -n "$https_issuer" ] && ! kill -0 "$https_pid" 2>/dev/null; then
  echo "FAIL server: tollgate serve --dev --tls exited during the suite: $(tail -n 3 "$work/https/server.err" | tr '\n' ' ')"
  failed=$((failed + 1))
fi
if [ $failed -gt 0 ] && [ -s "$work/server.err" ]; then
  note "server log (last lines):"
  tail -n 20 "$work/server.err" | sed 's/^/    | /' >&2
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
