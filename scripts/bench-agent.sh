#!/usr/bin/env bash
# Latency of `tollgate token` served by a running `tollgate agent` against the same command fetching its
# own token (`--no-agent --no-cache`: sign an assertion, POST it, parse the answer), both against one local
# `tollgate serve` with the same app and key. Process start to printed token, so the figure is what a
# shell script or cron job sees. Uses hyperfine when installed (apt-get install hyperfine), else a loop.
# Do not run it on a loaded machine; the lead runs it for the closing note of issue 20.
# Only 127.0.0.1 is contacted.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-50}
ROOT=$PWD
cargo build --release -p tollgate >/dev/null
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/tollgate
WORK=$(mktemp -d)
export XDG_RUNTIME_DIR="$WORK/run" XDG_CACHE_HOME="$WORK/cache"
mkdir -m 700 -p "$XDG_RUNTIME_DIR"
trap 'kill ${AGENT_PID:-} $SERVER_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
cd "$WORK"

export TOLLGATE_ADMIN_TOKEN=bench-admin-token
"$BIN" serve --listen 127.0.0.1:0 --database "sqlite://$WORK/bench.db" >server.out 2>server.err &
SERVER_PID=$!
for _ in $(seq 100); do grep -q "listening on" server.out 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^tollgate listening on //p' server.out)
[ -n "$URL" ] || { echo "server did not start"; cat server.err; exit 1; }

printf 'OKTA_URL=%s\nAPI_KEY=%s\nSCOPES=okta.users.read\n' "$URL" "$TOLLGATE_ADMIN_TOKEN" >.env
"$BIN" keygen --env >/dev/null
"$BIN" app create --env >/dev/null
"$BIN" agent >agent.out 2>agent.err &
AGENT_PID=$!
for _ in $(seq 100); do grep -q "listening on" agent.out 2>/dev/null && break; sleep 0.1; done
"$BIN" token --agent >/dev/null   # the agent's one token request

AGENT_CMD="$BIN token --agent"
FETCH_CMD="$BIN token --no-agent --no-cache"
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 5 --runs "$RUNS" -N "$AGENT_CMD" "$FETCH_CMD"
else
  for cmd in "$AGENT_CMD" "$FETCH_CMD"; do
    start=$(date +%s%N)
    for _ in $(seq "$RUNS"); do $cmd >/dev/null; done
    end=$(date +%s%N)
    echo "$cmd: $(( (end - start) / RUNS / 1000 )) µs per call (mean of $RUNS)"
  done
fi
"$BIN" agent status
