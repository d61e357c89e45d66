"""Okta's Python SDK (`okta` on PyPI) in PrivateKey mode with `dpopEnabled: True`, against a DPoP-bound app:
the SDK's own DPoP key, the use_dpop_nonce round trip (with a new client assertion) and DPoP proofs with
`ath` on API calls. The app refuses tokens without a proof and the API refuses its tokens without one, so
a user list proves the whole DPoP path.

Plain HTTP needs OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true in the environment (set by run.sh).
Usage: client_okta_sdk_dpop.py WORKDIR
"""
import asyncio
import json
import os
import sys

from okta.client import Client as OktaClient


def fail(msg):
    print(msg)
    sys.exit(1)


async def main():
    work = sys.argv[1]
    with open(os.path.join(work, "state.json")) as f:
        state = json.load(f)
    app = state["apps"]["okta-dpop"]
    with open(app["pem"]) as f:
        pem = f.read()
    client = OktaClient(
        {
            "orgUrl": state["issuer"],
            "authorizationMode": "PrivateKey",
            "clientId": app["client_id"],
            "scopes": ["okta.users.read"],
            "privateKey": pem,
            "dpopEnabled": True,
        }
    )
    for attempt in range(2):
        users, resp, err = await client.list_users(limit=5)
        if err is not None:
            fail(f"list_users (call {attempt + 1}) failed: {err}")
        if not isinstance(users, list):
            fail(f"list_users returned {type(users).__name__}")
    print("PrivateKey mode with dpopEnabled: DPoP token after the nonce round trip, list users twice with DPoP proofs")


if __name__ == "__main__":
    asyncio.run(main())
