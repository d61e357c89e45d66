#!/usr/bin/env python3
"""Sets up a fresh `tollgate serve` for the interop clients, through the management API only.

Standard library only (it runs before the venv exists). Usage:
    setup.py ISSUER ADMIN_TOKEN TOLLGATE_BIN WORKDIR

It generates keys with `tollgate keygen`, registers one service app per client (DCR with
`Authorization: SSWS`), grants the `okta.*` scopes (two apps are DPoP-bound), creates the custom scope `api.read` on `default`, and
writes WORKDIR/state.json, which every client reads:
    {"issuer": ..., "apps": {NAME: {"client_id", "client_secret"?, "pem"?, "jwk"?, "kid"?, "alg"?}}}
"""
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request


def api(issuer, token, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(issuer + path, data=data, method=method)
    req.add_header("Authorization", "SSWS " + token)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        raise SystemExit(f"setup: {method} {path} -> HTTP {e.code}: {raw[:300]!r}")


def keygen(tollgate, keys_dir, name, alg, fmt="pem"):
    ext = "pem" if fmt == "pem" else "jwk.json"
    private = os.path.join(keys_dir, f"{name}.{ext}")
    jwks = os.path.join(keys_dir, f"{name}.jwks.json")
    out = subprocess.run(
        [tollgate, "keygen", "--alg", alg, "--format", fmt, "--private-key", private, "--jwks", jwks, "--force"],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"setup: tollgate keygen --alg {alg} failed: {out.stderr.strip()}")
    with open(jwks) as f:
        keys = json.load(f)
    return private, keys


def main():
    issuer, admin, tollgate, work = sys.argv[1:5]
    keys_dir = os.path.join(work, "keys")
    os.makedirs(keys_dir, exist_ok=True)
    apps = {}

    def jwt_app(name, alg, scopes, fmt="pem", dpop=False):
        private, jwks = keygen(tollgate, keys_dir, name, alg, fmt)
        _, body = api(
            issuer,
            admin,
            "POST",
            "/oauth2/v1/clients",
            {
                "client_name": f"interop {name}",
                "application_type": "service",
                "grant_types": ["client_credentials"],
                "response_types": ["token"],
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": jwks,
                "dpop_bound_access_tokens": dpop,
            },
        )
        client_id = body["client_id"]
        for scope in scopes:
            api(issuer, admin, "POST", f"/api/v1/apps/{client_id}/grants", {"scopeId": scope, "issuer": issuer})
        app = {"client_id": client_id, "alg": alg, "kid": jwks["keys"][0].get("kid")}
        app["pem" if fmt == "pem" else "jwk"] = private
        apps[name] = app

    def secret_app(name, method):
        _, body = api(
            issuer,
            admin,
            "POST",
            "/oauth2/v1/clients",
            {
                "client_name": f"interop {name}",
                "application_type": "service",
                "grant_types": ["client_credentials"],
                "response_types": ["token"],
                "token_endpoint_auth_method": method,
            },
        )
        apps[name] = {"client_id": body["client_id"], "client_secret": body["client_secret"], "method": method}

    api(issuer, admin, "POST", "/api/v1/authorizationServers/default/scopes", {"name": "api.read"})

    users = ["okta.users.read", "okta.users.manage"]
    jwt_app("curl-recipe", "RS256", ["okta.users.read"])
    jwt_app("oag-recipe", "RS256", ["okta.oag.app.read"])
    jwt_app("okta-pem", "RS256", users)
    jwt_app("okta-jwk", "RS256", users, fmt="jwk")
    jwt_app("oidc-rs256", "RS256", ["okta.users.read"])
    jwt_app("oidc-es256", "ES256", ["okta.users.read"])
    secret_app("oidc-basic", "client_secret_basic")
    secret_app("oidc-post", "client_secret_post")
    jwt_app("authlib", "RS256", ["okta.users.read"])
    # DPoP-bound apps (RFC 9449): tokens only with a proof, after the use_dpop_nonce round trip.
    jwt_app("okta-dpop", "RS256", users, dpop=True)
    jwt_app("oidc-dpop", "ES256", ["okta.users.read"], dpop=True)
    # The verifiers' own apps, to introspect what the clients were issued.
    jwt_app("introspector", "RS256", [])
    secret_app("introspector-default", "client_secret_basic")

    os.makedirs(os.path.join(work, "tokens"), exist_ok=True)
    with open(os.path.join(work, "state.json"), "w") as f:
        json.dump({"issuer": issuer, "apps": apps}, f, indent=2)


if __name__ == "__main__":
    main()
