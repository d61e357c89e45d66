#!/usr/bin/env bash
# The Okta Access Gateway recipe, by hand (OAG's support-article script): an RS256 assertion whose `aud` is
# the base URL and which carries a `scope` claim (no `jti`), signed with `openssl dgst -sha256 -sign`,
# exchanged with curl at /api/v2/oauth/token; the 300 s token then lists /api/v2/apps.
# Usage: oag-recipe.sh BASE_URL CLIENT_ID KEY_PEM
set -euo pipefail
base=$1 client_id=$2 key=$3
scope="okta.oag.app.read"

b64url() { openssl base64 -e -A | tr '+/' '-_' | tr -d '='; }

now=$(date +%s)
header=$(printf '{"alg":"RS256","typ":"JWT"}' | b64url)
claims=$(printf '{"iss":"%s","sub":"%s","aud":"%s","iat":%d,"exp":%d,"scope":"%s"}' \
  "$client_id" "$client_id" "$base" "$now" $((now + 300)) "$scope" | b64url)
signature=$(printf '%s.%s' "$header" "$claims" | openssl dgst -sha256 -sign "$key" -binary | b64url)

response=$(curl -sS -w '\n%{http_code}' -X POST "$base/api/v2/oauth/token" \
  -H 'Accept: application/json' -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-urlencode grant_type=client_credentials \
  --data-urlencode client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
  --data-urlencode "client_assertion=$header.$claims.$signature" \
  --data-urlencode "scope=$scope")
status=${response##*$'\n'}
body=${response%$'\n'*}
if [ "$status" != 200 ]; then
  echo "gateway token endpoint answered HTTP $status: $body"
  exit 1
fi
token=$(printf '%s' "$body" | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')
expires_in=$(printf '%s' "$body" | sed -n 's/.*"expires_in" *: *\([0-9]*\).*/\1/p')
if [ -z "$token" ] || [ "$expires_in" != 300 ]; then
  echo "no 300 s access_token in the gateway's token response: $body"
  exit 1
fi

response=$(curl -sS -w '\n%{http_code}' "$base/api/v2/apps" \
  -H 'Accept: application/json' -H "Authorization: Bearer $token")
status=${response##*$'\n'}
body=${response%$'\n'*}
if [ "$status" != 200 ] || ! printf '%s' "$body" | grep -q "\"clientId\":\"$client_id\""; then
  echo "GET /api/v2/apps answered HTTP $status: ${body:0:300}"
  exit 1
fi
echo "assertion (aud = base URL, scope claim) signed by openssl, 300 s token from /api/v2/oauth/token, GET /api/v2/apps"
