"""authlib's OAuth2Session with its PrivateKeyJWT client auth: client credentials at the org server
(okta.users.read, then GET /api/v1/users with the token) and at `default` (api.read).

Usage: client_authlib.py WORKDIR
"""
import json
import os
import sys

from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT


def fail(msg):
    print(msg)
    sys.exit(1)


def fetch(issuer_path, token_url, app, pem, scope):
    session = OAuth2Session(
        client_id=app["client_id"],
        client_secret=pem,
        token_endpoint_auth_method=PrivateKeyJWT(token_url),
        scope=scope,
    )
    try:
        token = session.fetch_token(token_url, grant_type="client_credentials")
    except Exception as e:  # authlib raises OAuthError and friends
        fail(f"{issuer_path}: fetch_token failed: {type(e).__name__}: {e}")
    if token.get("token_type") != "Bearer" or not token.get("access_token"):
        fail(f"{issuer_path}: unexpected token response {token}")
    if token.get("scope") != scope:
        fail(f"{issuer_path}: granted scope {token.get('scope')!r}, asked {scope!r}")
    return session, token


def main():
    work = sys.argv[1]
    with open(os.path.join(work, "state.json")) as f:
        state = json.load(f)
    issuer = state["issuer"]
    app = state["apps"]["authlib"]
    with open(app["pem"]) as f:
        pem = f.read()

    session, token = fetch("org", f"{issuer}/oauth2/v1/token", app, pem, "okta.users.read")
    r = session.get(f"{issuer}/api/v1/users", params={"limit": 5}, timeout=30)
    if r.status_code != 200 or not isinstance(r.json(), list):
        fail(f"GET /api/v1/users with the org token answered HTTP {r.status_code}: {r.text[:200]}")
    with open(os.path.join(work, "tokens", "authlib.org.jwt"), "w") as f:
        f.write(token["access_token"])

    _, token = fetch("default", f"{issuer}/oauth2/default/v1/token", app, pem, "api.read")
    with open(os.path.join(work, "tokens", "authlib.default.jwt"), "w") as f:
        f.write(token["access_token"])
    print("client credentials with PrivateKeyJWT at /oauth2/v1/token and /oauth2/default/v1/token, GET /api/v1/users")


if __name__ == "__main__":
    main()
