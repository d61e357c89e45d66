"""PyJWT's PyJWKClient verifies every access token the clients were issued (WORKDIR/tokens/*.jwt), from
the JWKS of the server that issued it, and introspection at that server agrees (active, same sub/scope).

Usage: verify_pyjwt.py WORKDIR
"""
import base64
import json
import os
import sys
import time
import uuid

import jwt
import requests

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def fail(msg):
    print(msg)
    sys.exit(1)


def main():
    work = sys.argv[1]
    with open(os.path.join(work, "state.json")) as f:
        state = json.load(f)
    issuer = state["issuer"]
    apps = state["apps"]
    servers = {
        issuer: {"keys": f"{issuer}/oauth2/v1/keys", "introspect": f"{issuer}/oauth2/v1/introspect", "aud": issuer},
        f"{issuer}/oauth2/default": {
            "keys": f"{issuer}/oauth2/default/v1/keys",
            "introspect": f"{issuer}/oauth2/default/v1/introspect",
            "aud": "api://default",
        },
    }
    jwk_clients = {iss: jwt.PyJWKClient(s["keys"]) for iss, s in servers.items()}

    tokens_dir = os.path.join(work, "tokens")
    names = sorted(n for n in os.listdir(tokens_dir) if n.endswith(".jwt"))
    seen = {"org": 0, "default": 0}
    for name in names:
        with open(os.path.join(tokens_dir, name)) as f:
            token = f.read().strip()
        iss = jwt.decode(token, options={"verify_signature": False})["iss"]
        if iss not in servers:
            fail(f"{name}: unexpected iss {iss!r}")
        server = servers[iss]
        key = jwk_clients[iss].get_signing_key_from_jwt(token)
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=server["aud"],
                issuer=iss,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
            )
        except jwt.PyJWTError as e:
            fail(f"{name}: PyJWT rejected the token: {e}")
        seen["org" if iss == issuer else "default"] += 1

        # Introspection at the issuing server, authenticated as the verifier's own app.
        if iss == issuer:
            app = apps["introspector"]
            with open(app["pem"]) as f:
                pem = f.read()
            now = int(time.time())
            assertion = jwt.encode(
                {
                    "iss": app["client_id"],
                    "sub": app["client_id"],
                    "aud": server["introspect"],
                    "iat": now,
                    "exp": now + 300,
                    "jti": str(uuid.uuid4()),
                },
                pem,
                algorithm="RS256",
                headers={"kid": app["kid"]},
            )
            r = requests.post(
                server["introspect"],
                data={"token": token, "client_assertion_type": JWT_BEARER, "client_assertion": assertion},
                timeout=30,
            )
        else:
            app = apps["introspector-default"]
            r = requests.post(
                server["introspect"],
                data={"token": token, "token_type_hint": "access_token"},
                auth=(app["client_id"], app["client_secret"]),
                timeout=30,
            )
        if r.status_code != 200:
            fail(f"{name}: introspect answered HTTP {r.status_code}: {r.text[:200]}")
        info = r.json()
        expected_scope = " ".join(claims.get("scp", []))
        if not (
            info.get("active") is True
            and info.get("sub") == claims["sub"]
            and info.get("scope") == expected_scope
            and info.get("client_id") == claims.get("cid")
        ):
            fail(f"{name}: introspection disagrees with the token: {info} vs sub={claims['sub']} scope={expected_scope}")
    if seen["org"] == 0 or seen["default"] == 0:
        fail(f"needs at least one org and one default token to verify, had {seen} (did the clients fail?)")
    print(
        f"{seen['org']} org + {seen['default']} default access tokens verified via PyJWKClient "
        "(/oauth2/v1/keys, /oauth2/default/v1/keys); introspection agrees"
    )


if __name__ == "__main__":
    main()
