#!/usr/bin/env bash
# Client-side benchmarks (see the report in the commit history / docs):
#  1. `tollgate token` end to end (process start → printed token) against the Python recipe
#     (PyJWT + requests: sign an RS256 assertion, POST it to the token endpoint), both against the same
#     local `tollgate serve`, same app, same key. Uses hyperfine when installed, else a bash loop.
#  2. Verifier throughput per core (criterion bench in crates/verify) next to `openssl speed rsa2048`.
# Needs: cargo; python3 with PyJWT, cryptography and requests (pip install pyjwt cryptography requests);
# optionally hyperfine (apt-get install hyperfine). Only 127.0.0.1 is contacted.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-30}
ROOT=$PWD
cargo build --release -p tollgate >/dev/null
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/tollgate
WORK=$(mktemp -d)
trap 'kill $SERVER_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
cd "$WORK"

export TOLLGATE_ADMIN_TOKEN=bench-admin-token
"$BIN" serve --listen 127.0.0.1:0 --database "sqlite://$WORK/bench.db" >server.out 2>server.err &
SERVER_PID=$!
for _ in $(seq 100); do grep -q "listening on" server.out 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^tollgate listening on //p' server.out)
[ -n "$URL" ] || { echo "server did not start"; cat server.err; exit 1; }

"$BIN" keygen --private-key key.pem --jwks jwks.json >/dev/null
CLIENT_ID=$("$BIN" app create --org "$URL" --api-token "$TOLLGATE_ADMIN_TOKEN" --jwks jwks.json --scopes okta.users.read --output json \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
KID=$(python3 -c 'import json; print(json.load(open("jwks.json"))["keys"][0]["kid"])')

cat > recipe.py <<PY
import sys, time, uuid, jwt, requests
org, client_id, kid = sys.argv[1], sys.argv[2], sys.argv[3]
key = open("key.pem").read()
url = org + "/oauth2/v1/token"
now = int(time.time())
assertion = jwt.encode({"iss": client_id, "sub": client_id, "aud": url, "iat": now, "exp": now + 300,
                        "jti": str(uuid.uuid4())}, key, algorithm="RS256", headers={"kid": kid})
r = requests.post(url, data={"grant_type": "client_credentials", "scope": "okta.users.read",
    "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    "client_assertion": assertion}, headers={"Accept": "application/json"})
r.raise_for_status()
print(r.json()["access_token"])
PY

RUST_CMD="$BIN token --org $URL --client-id $CLIENT_ID --private-key key.pem --scopes okta.users.read"
PY_CMD="python3 recipe.py $URL $CLIENT_ID $KID"
$RUST_CMD >/dev/null && $PY_CMD >/dev/null   # both work before timing

echo "== tollgate token vs Python recipe ($RUNS runs each, server $URL)"
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 3 --runs "$RUNS" "$RUST_CMD" "$PY_CMD" --export-json times.json >/dev/null
  python3 - <<'PY'
import json
r = json.load(open("times.json"))["results"]
rust, py = r[0]["mean"] * 1000, r[1]["mean"] * 1000
print(f"tollgate token: {rust:.1f} ms mean (±{r[0]['stddev']*1000:.1f})")
print(f"python recipe:  {py:.1f} ms mean (±{r[1]['stddev']*1000:.1f})")
print(f"ratio python/tollgate: {py/rust:.1f}x")
PY
else
  time_ms() { local start end; start=$(date +%s%N); for _ in $(seq "$RUNS"); do $1 >/dev/null; done; end=$(date +%s%N); echo $(( (end - start) / RUNS / 1000 )); }
  rust_us=$(time_ms "$RUST_CMD"); py_us=$(time_ms "$PY_CMD")
  echo "tollgate token: $((rust_us / 1000)).$(( (rust_us % 1000) / 100 )) ms mean"
  echo "python recipe:  $((py_us / 1000)).$(( (py_us % 1000) / 100 )) ms mean"
  python3 -c "print(f'ratio python/tollgate: {$py_us/$rust_us:.1f}x')"
fi

echo "== verifier throughput (one core)"
cd "$ROOT"
cargo bench -p tollgate-verify --bench verify -- --noplot 2>/dev/null | grep -E "^(verifier|jose)|time:" || true
echo "== openssl speed rsa2048 (verify/s is the last column)"
openssl speed -seconds 3 rsa2048 2>/dev/null | grep -E "^rsa|sign/s" || true
