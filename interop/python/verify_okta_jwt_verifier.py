"""Okta's JWT verifier for Python (`okta-jwt-verifier` on PyPI), unchanged, against an https tollgate
(`tollgate serve --dev --tls`): it refuses any issuer that is not https, so this is the suite's https-only
client. It fetches the org server's keys from `{issuer}/oauth2/v1/keys` and checks an access token tollgate
issued (iss, aud, exp, signature) — asynchronously (aiohttp, which trusts the CA through SSL_CERT_FILE) and
synchronously (requests, through REQUESTS_CA_BUNDLE). The CA is trusted through those variables only: no
verification switch. A child process without them must fail on the certificate, and a token from another
issuer must be refused.

Usage: verify_okta_jwt_verifier.py ISSUER TOKEN_FILE     (SSL_CERT_FILE and REQUESTS_CA_BUNDLE set by run.sh)
"""
import asyncio
import os
import subprocess
import sys

from okta_jwt_verifier import AccessTokenVerifier
from okta_jwt_verifier.exceptions import JWTValidationException


def fail(msg):
    print(msg)
    sys.exit(1)


async def main():
    issuer, token_file = sys.argv[1], sys.argv[2]
    if not issuer.startswith("https://"):
        fail(f"expected an https issuer, got {issuer}")
    for var in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        if not os.environ.get(var):
            fail(f"{var} is not set: the CA must be trusted through the environment")
    with open(token_file) as f:
        token = f.read().strip()

    # The org authorization server's access tokens: aud = iss = the org URL.
    verifier = AccessTokenVerifier(issuer=issuer, audience=issuer)
    await verifier.verify(token)
    AccessTokenVerifier(issuer=issuer, audience=issuer).verify_sync(token)

    # Claims are checked, not only the signature: the same token for another audience is refused.
    try:
        await AccessTokenVerifier(issuer=issuer, audience="api://default").verify(token)
        fail("a token for another audience was accepted")
    except JWTValidationException:
        pass

    # Without the variables the CA is not trusted: the JWKS fetch fails on the certificate.
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")}
    probe = (
        "import asyncio, sys\n"
        "from okta_jwt_verifier import AccessTokenVerifier\n"
        "try:\n"
        f"    asyncio.run(AccessTokenVerifier(issuer={issuer!r}, audience={issuer!r}).verify({token!r}))\n"
        "except Exception as e:\n"
        "    print(type(e).__name__, e)\n"
        "    sys.exit(3)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    text = (out.stdout + out.stderr).lower()
    if out.returncode != 3 or "certificate" not in text:
        fail(f"without SSL_CERT_FILE the verifier should fail on the certificate: rc={out.returncode} {text[-300:]!r}")

    print("https issuer, CA trusted via SSL_CERT_FILE / REQUESTS_CA_BUNDLE only: access token verified (async and "
          "sync); wrong audience refused; untrusted without the variables")


if __name__ == "__main__":
    asyncio.run(main())
