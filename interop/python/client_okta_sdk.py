"""Okta's Python SDK (`okta` on PyPI) in PrivateKey mode, unchanged but for orgUrl: list users, create a
user, read it back. Run once with a PEM key (the SDK then sends no `kid`) and once with a private JWK.

Plain HTTP needs OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true in the environment (set by run.sh).
Usage: client_okta_sdk.py WORKDIR
"""
import asyncio
import json
import os
import sys
import uuid

from okta.client import Client as OktaClient
from okta.models import CreateUserRequest, UserProfile


def fail(msg):
    print(msg)
    sys.exit(1)


async def exercise(label, config):
    client = OktaClient(config)
    users, resp, err = await client.list_users(limit=5)
    if err is not None:
        fail(f"{label}: list_users failed: {err}")
    if not isinstance(users, list):
        fail(f"{label}: list_users returned {type(users).__name__}")

    login = f"interop-{uuid.uuid4().hex[:10]}@example.com"
    body = CreateUserRequest(
        profile=UserProfile(firstName="Inter", lastName="Op", email=login, login=login),
    )
    user, resp, err = await client.create_user(body, activate=False)
    if err is not None:
        fail(f"{label}: create_user failed: {err}")
    if user is None or not user.id:
        fail(f"{label}: create_user returned no user")

    fetched, resp, err = await client.get_user(user.id)
    if err is not None:
        fail(f"{label}: get_user failed: {err}")
    if fetched.id != user.id or fetched.profile.login != login:
        fail(f"{label}: get_user returned {fetched.id} / {fetched.profile.login}, expected {user.id} / {login}")

    # An Okta-shaped error reaches the SDK as an OktaAPIError (it needs errorCode in the body).
    missing, resp, err = await client.get_user("00uinteropmissing000")
    if err is None or getattr(err, "error_code", None) != "E0000007" or getattr(err, "status", None) != 404:
        fail(f"{label}: get_user of an unknown id gave {type(err).__name__}: {err}, expected OktaAPIError 404 E0000007")

    users, resp, err = await client.list_users(limit=200)
    if err is not None:
        fail(f"{label}: second list_users failed: {err}")
    if not any(u.id == user.id for u in users):
        fail(f"{label}: the created user is missing from list_users")


async def main():
    work = sys.argv[1]
    with open(os.path.join(work, "state.json")) as f:
        state = json.load(f)
    issuer = state["issuer"]
    scopes = ["okta.users.read", "okta.users.manage"]

    pem_app = state["apps"]["okta-pem"]
    with open(pem_app["pem"]) as f:
        pem = f.read()
    await exercise(
        "PEM key",
        {
            "orgUrl": issuer,
            "authorizationMode": "PrivateKey",
            "clientId": pem_app["client_id"],
            "scopes": scopes,
            "privateKey": pem,
        },
    )

    jwk_app = state["apps"]["okta-jwk"]
    with open(jwk_app["jwk"]) as f:
        jwk = json.load(f)
    await exercise(
        "JWK key",
        {
            "orgUrl": issuer,
            "authorizationMode": "PrivateKey",
            "clientId": jwk_app["client_id"],
            "scopes": scopes,
            "privateKey": jwk,
        },
    )
    print("PrivateKey mode with a PEM key (no kid) and a JWK: list users, create user, get user, 404 as OktaAPIError E0000007")


if __name__ == "__main__":
    asyncio.run(main())
