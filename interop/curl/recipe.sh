#!/usr/bin/env bash
# The seeds' own recipe, by hand: sign the client assertion with `openssl dgst -sha256 -sign`, base64url
# with `tr`, exchange it with curl at the org token endpoint, then call /api/v1/users with the token.
# Usage: recipe.sh ISSUER CLIENT_ID KEY_PEM [TOKEN_OUT_FILE]
set -euo pipefail
issuer=$1 client_id=$2 key=$3 token_out=${4:-}

b64url() { openssl base64 -e -A | tr '+/' '-_' | tr -d '='; }

token_url="$issuer/oauth2/v1/token"
now=$(date +%s)
jti=$(openssl rand -hex 16)
header=$(printf '{"alg":"RS256","typ":"JWT"}' | b64url)
claims=$(printf '{"iss":"%s","sub":"%s","aud":"%s","iat":%d,"exp":%d,"jti":"%s"}' \
  "$client_id" "$client_id" "$token_url" "$now" $((now + 300)) "$jti" | b64url)
signature=$(printf '%s.%s' "$header" "$claims" | openssl dgst -sha256 -sign "$key" -binary | b64url)
assertion="$header.$claims.$signature"

response=$(curl -sS -w '\n%{http_code}' -X POST "$token_url" \
  -H 'Accept: application/json' -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-urlencode grant_type=client_credentials \
  --data-urlencode scope=okta.users.read \
  --data-urlencode client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
  --data-urlencode "client_assertion=$assertion")
status=${response##*$'\n'}
body=${response%$'\n'*}
if [ "$status" != 200 ]; then
  echo "token endpoint answered HTTP $status: $body"
  exit 1
fi
token=$(printf '%s' "$body" | sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')
token_type=$(printf '%s' "$body" | sed -n 's/.*"token_type" *: *"\([^"]*\)".*/\1/p')
if [ -z "$token" ] || [ "$token_type" != Bearer ]; then
  echo "no Bearer access_token in the token response: $body"
  exit 1
fi
[ -n "$token_out" ] && printf '%s' "$token" > "$token_out"

response=$(curl -sS -w '\n%{http_code}' "$issuer/api/v1/users?limit=5" \
  -H 'Accept: application/json' -H "Authorization: Bearer $token")
status=${response##*$'\n'}
body=${response%$'\n'*}
if [ "$status" != 200 ] || [ "${body:0:1}" != '[' ]; then
  echo "GET /api/v1/users answered HTTP $status: ${body:0:300}"
  exit 1
fi
echo "assertion signed by openssl, token from /oauth2/v1/token, GET /api/v1/users"
