#!/usr/bin/env bash
# Compares tollgate-jose's sign/verify throughput with `openssl speed` on this machine.
#
# Runs `openssl speed -seconds 3 rsa2048 ecdsap256 ecdsap384 ecdsap521 ed25519`, then the criterion
# bench `crates/jose/benches/jws.rs` (release build), and prints ops/s for each primitive and the ratio
# ours/openssl. "raw" rows are the bare primitive over a JWS signing input (what openssl measures,
# plus hashing ~250 bytes); the "jws" rows add JSON, base64 and strict decoding.
#
# Usage: scripts/bench-jose.sh [extra criterion args]
set -euo pipefail
cd "$(dirname "$0")/.."

command -v openssl >/dev/null || { echo "openssl CLI not found" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== openssl speed (3 s per operation) ==" >&2
openssl speed -seconds 3 rsa2048 ecdsap256 ecdsap384 ecdsap521 ed25519 >"$work/openssl.txt" 2>"$work/openssl.err"
grep -E "^(rsa|ecdsa)|bits|^version|^OpenSSL" "$work/openssl.txt" >&2 || true

echo "== cargo bench -p tollgate-jose --bench jws ==" >&2
cargo bench -p tollgate-jose --bench jws -- "$@" >"$work/criterion.txt" 2>&1 || { cat "$work/criterion.txt" >&2; exit 1; }

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

python3 - "$work/openssl.txt" "$target_dir/criterion" <<'PY'
import json, os, re, sys

openssl_txt, criterion_dir = sys.argv[1], sys.argv[2]
text = open(openssl_txt).read()

def last_two_numbers(line):
    nums = re.findall(r"[0-9]+(?:\.[0-9]+)?", line)
    return float(nums[-2]), float(nums[-1])

theirs = {}
for line in text.splitlines():
    s = line.strip()
    if re.match(r"rsa\s+2048 bits", s):
        theirs["rsa2048"] = last_two_numbers(s)
    m = re.search(r"ecdsa \((nistp(256|384|521))\)", s)
    if m:
        theirs["ecdsap" + m.group(2)] = last_two_numbers(s)
    if "EdDSA (Ed25519)" in s:
        theirs["ed25519"] = last_two_numbers(s)

# Criterion: every benchmark directory has new/benchmark.json (its id) and new/estimates.json (ns).
ours = {}
for root, _dirs, files in os.walk(criterion_dir):
    if root.endswith(os.sep + "new") and "benchmark.json" in files and "estimates.json" in files:
        bench = json.load(open(os.path.join(root, "benchmark.json")))
        est = json.load(open(os.path.join(root, "estimates.json")))
        ours[bench["full_id"]] = 1e9 / est["mean"]["point_estimate"]

rows = [("rsa2048", "RS256"), ("rsa2048", "PS256"), ("ecdsap256", "ES256"), ("ecdsap384", "ES384"),
        ("ecdsap521", "ES512"), ("ed25519", "EdDSA")]
print()
print("| primitive | JWS alg | op | tollgate raw ops/s | tollgate jws ops/s | openssl ops/s | raw / openssl |")
print("|---|---|---|---:|---:|---:|---:|")
for prim, alg in rows:
    for i, op in enumerate(("sign", "verify")):
        raw = ours.get(f"raw/{op}/{alg}")
        full = ours.get(f"jws/{op}/{alg}")
        ref = theirs.get(prim, (None, None))[i]
        fmt = lambda v: f"{v:,.0f}" if v else "n/a"
        ratio = f"{raw / ref:.2f}" if raw and ref else "n/a"
        print(f"| {prim} | {alg} | {op} | {fmt(raw)} | {fmt(full)} | {fmt(ref)} | {ratio} |")
print()
print("openssl:", next((l for l in text.splitlines() if l.startswith(("version", "OpenSSL"))), "?"))
PY
