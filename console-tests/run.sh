#!/usr/bin/env bash
# The Admin Console's browser tests: Playwright (playwright-core) driving Debian's chromium headless
# against a real `tollgate serve` (the debug binary) on 127.0.0.1 with a fresh SQLite database.
#
#   bash console-tests/run.sh
#
# Environment: TOLLGATE_BIN (default: cargo build -p tollgate, then target/debug/tollgate), CHROMIUM
# (default /usr/bin/chromium), CONSOLE_SHOTS (where the screenshots go; default docs/console),
# CONSOLE_KEEP=1 (keep the temporary directory with the server log).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
note() { echo "console-tests: $*" >&2; }

if [ -n "${TOLLGATE_BIN:-}" ]; then
  bin=$TOLLGATE_BIN
else
  note "cargo build -p tollgate"
  (cd "$root" && cargo build -q -p tollgate)
  bin=${CARGO_TARGET_DIR:-$root/target}/debug/tollgate
  case $bin in /*) ;; *) bin=$root/$bin ;; esac
fi
[ -x "$bin" ] || { note "no tollgate binary at $bin"; exit 1; }
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { note "no chromium at $chromium (apt-get install -y chromium)"; exit 1; }

if [ ! -d "$here/node_modules/playwright-core" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  note "npm ci"
  (cd "$here" && npm ci --no-audit --no-fund --silent)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-console.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "${CONSOLE_KEEP:-}" = 1 ]; then note "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

db="sqlite://$work/tollgate.db"
admin_token="console-test-admin-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
admin_password="super-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
reader_password="reader-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
TOLLGATE_ADMIN_PASSWORD=$admin_password "$bin" admin user create --database "$db" --login admin@example.com --role SUPER_ADMIN >/dev/null
TOLLGATE_ADMIN_PASSWORD=$reader_password "$bin" admin user create --database "$db" --login auditor@example.com --role READ_ONLY_ADMIN >/dev/null

TOLLGATE_ADMIN_TOKEN=$admin_token TOLLGATE_LOG=warn "$bin" serve --listen 127.0.0.1:0 --database "$db" \
  >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
url=
for _ in $(seq 1 100); do
  url=$(sed -n 's/^tollgate listening on \(http:\/\/[^ ]*\).*/\1/p' "$work/server.out" | head -n 1)
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; note "the server did not start"; exit 1; }
  sleep 0.2
done
[ -n "$url" ] || { note "the server did not say where it listens"; exit 1; }
note "server at $url"

export CONSOLE_URL=$url CONSOLE_ADMIN_TOKEN=$admin_token CONSOLE_WORK=$work TOLLGATE_BIN=$bin CHROMIUM=$chromium
export CONSOLE_ADMIN_LOGIN=admin@example.com CONSOLE_ADMIN_PASSWORD=$admin_password
export CONSOLE_READER_LOGIN=auditor@example.com CONSOLE_READER_PASSWORD=$reader_password
export CONSOLE_SHOTS=${CONSOLE_SHOTS:-$root/docs/console}
mkdir -p "$CONSOLE_SHOTS"
cd "$here"
node --test --test-concurrency=1 --test-reporter=spec tests/
